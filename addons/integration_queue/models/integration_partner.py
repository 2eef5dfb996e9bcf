from datetime import timedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config

from .. import outbound, secret_box, signing, transports
from .integration_job import MANAGER_GROUP, USER_GROUP, check_group

CIRCUIT_STATES = [("closed", "Closed"), ("open", "Open"), ("half_open", "Half-open")]


class IntegrationPartner(models.Model):
    """A partner system (EHR, warehouse, supplier portal...) that talks to Odoo."""

    _name = "integration.partner"
    _description = "Integration Partner"
    _inherit = ["mail.thread", "integration.cached.config"]
    _order = "name, id"

    # The partner's scope (who it is, where and what it may act on) is declared
    # ``always_audited``: every change of it is an audit event whatever the audit
    # rules say. An addon that widens the scope declares its field the same way.
    code = fields.Char(
        required=True,
        tracking=True,
        always_audited=True,
        help="Sent by the partner as X-Partner-Code.",
    )
    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        tracking=True,
        always_audited=True,
    )
    active = fields.Boolean(default=True, tracking=True, always_audited=True)
    message_type_ids = fields.Many2many(
        "integration.message.type",
        "integration_partner_message_type_rel",
        string="May Send",
        always_audited=True,
        domain=[("direction", "=", "inbound")],
        help="Inbound message types this partner may send.",
    )
    subscription_ids = fields.Many2many(
        "integration.message.type",
        "integration_partner_subscription_rel",
        string="Subscribed To",
        always_audited=True,
        domain=[("direction", "=", "outbound")],
        help="Outbound message types sent to this partner.",
    )
    # where outbound events go: today's signed webhook, or the partner's message broker
    outbound_channel = fields.Selection(
        [
            ("http", "HTTP Webhook"),
            ("amqp", "RabbitMQ (AMQP 0-9-1)"),
            ("nats", "NATS JetStream"),
        ],
        default="http",
        required=True,
        tracking=True,
        always_audited=True,
    )
    outbound_url = fields.Char(
        "Outbound Endpoint",
        tracking=True,
        always_audited=True,
        help="HTTP Webhook: https://...; RabbitMQ: amqps://host:5671/vhost;"
        " NATS JetStream: tls://host:4222. Never credentials in the URL.",
    )
    broker_exchange = fields.Char(
        "Exchange",
        tracking=True,
        always_audited=True,
        help="RabbitMQ topic exchange (declared durable). Routing key:"
        " <event type>.<facility code or company>.",
    )
    broker_subject_prefix = fields.Char(
        "Subject Prefix",
        tracking=True,
        always_audited=True,
        help="NATS subject: <prefix>.<event type>, e.g. hcsc.inventory.availability.",
    )
    broker_stream = fields.Char(
        "Stream",
        tracking=True,
        always_audited=True,
        help="JetStream stream expected to store the subjects (optional): a subject"
        " captured by another stream is refused.",
    )
    broker_username = fields.Char("Broker User", tracking=True, always_audited=True)
    # write-only: encrypted into a column the ORM does not know, never read back
    broker_password = fields.Char(
        compute="_compute_broker_password",
        inverse="_inverse_broker_password",
        help="Stored encrypted; never shown again. NATS without a user: the token.",
    )
    broker_password_set = fields.Boolean(compute="_compute_broker_password")
    broker_warning = fields.Char(compute="_compute_broker_warning")
    rate_limit = fields.Integer(
        "Rate Limit (per minute)",
        default=600,
        tracking=True,
        always_audited=True,
        help="0: no limit.",
    )
    secret_ids = fields.One2many("integration.partner.secret", "partner_id", "Signing Secrets")
    secret_count = fields.Integer(compute="_compute_secret_count")
    circuit_state = fields.Selection(CIRCUIT_STATES, default="closed", readonly=True)
    circuit_failures = fields.Integer(readonly=True)
    circuit_open_until = fields.Datetime(readonly=True)
    message_count = fields.Integer(compute="_compute_message_count")

    _sql_constraints = [("code_unique", "UNIQUE(code)", "A partner code is unique.")]

    def init(self):
        if not self.env.su:
            raise AccessError(_("Only the server sets up the partner table."))
        self.env.cr.execute(
            "ALTER TABLE integration_partner ADD COLUMN IF NOT EXISTS broker_ciphertext text"
        )

    @api.depends("secret_ids.expires_at")
    def _compute_secret_count(self):
        for partner in self:
            partner.secret_count = len(partner.secret_ids.filtered("is_valid"))

    def _compute_broker_password(self):
        self.env.cr.execute(
            "SELECT id FROM integration_partner"
            " WHERE id = ANY(%s) AND broker_ciphertext IS NOT NULL",
            [[pid for pid in self._origin.ids if isinstance(pid, int)]],
        )
        stored = {row[0] for row in self.env.cr.fetchall()}
        for partner in self:
            partner.broker_password = False
            partner.broker_password_set = partner._origin.id in stored

    @api.depends("outbound_channel")
    def _compute_broker_warning(self):
        for partner in self:
            partner.broker_warning = transports.library_missing(partner.outbound_channel) or False

    def _compute_message_count(self):
        counts = dict(
            self.env["integration.message"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.message_count = counts.get(partner, 0)

    def _inverse_broker_password(self):
        for partner in self.filtered("broker_password"):
            partner._store_broker_password(partner.broker_password)

    @api.constrains(
        "outbound_channel",
        "outbound_url",
        "broker_exchange",
        "broker_subject_prefix",
        "broker_stream",
    )
    def _check_outbound_channel(self):
        for partner in self.filtered(lambda p: p.outbound_channel in transports.CHANNELS):
            partner._check_broker_settings()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_company_of_caller(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_company_of_caller(vals)
        return super().write(vals)

    @api.model
    def _check_company_of_caller(self, vals):
        """Refuse to put a partner into a company the real user does not belong to.

        Record rules only check the records as they were: without this an
        Integration Manager of one company could move his partner (whose secret
        he holds) into another company and act there.
        """
        if self.env.su or not vals.get("company_id"):
            return
        if vals["company_id"] not in self.env.user.company_ids.ids:
            raise AccessError(
                _(
                    "company_id: you may only put integration partners into your own"
                    " companies (%(companies)s).",
                    companies=", ".join(self.env.user.company_ids.mapped("name")),
                )
            )

    def _clears_cache(self, vals):
        # circuit breaker bookkeeping changes often and is not cached
        return bool(set(vals) - {"circuit_state", "circuit_failures", "circuit_open_until"})

    def action_rotate_secret(self):
        """Make a new secret, keep the current one valid for the overlap, show it once."""
        self.ensure_one()
        check_group(self.env, MANAGER_GROUP, _("Rotating a signing secret"))
        self.check_access("write")
        overlap_days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("integration_queue.secret_overlap_days", "7")
        )
        plaintext = signing.generate_secret()
        ends = fields.Datetime.now() + timedelta(days=overlap_days)
        self.secret_ids.filtered(
            lambda s: s.is_valid and (not s.expires_at or s.expires_at > ends)
        ).sudo().write({"expires_at": ends})
        secret = self.env["integration.partner.secret"]._store(self, plaintext)
        self.env["integration.audit.event"].sudo()._log(
            "config_change",
            _("Signing secret rotated (new fingerprint %(fp)s)", fp=secret.fingerprint),
            records=self,
        )
        self.message_post(body=_("Signing secret rotated; new fingerprint %s.", secret.fingerprint))
        return {
            "type": "ir.actions.act_window",
            "res_model": "integration.secret.reveal",
            "view_mode": "form",
            "target": "new",
            "name": _("New signing secret"),
            # the plaintext travels to the browser once and is not stored
            "context": {"default_partner_id": self.id, "default_secret": plaintext},
        }

    def action_clear_broker_password(self):
        """Forget the stored broker password."""
        self.ensure_one()
        check_group(self.env, MANAGER_GROUP, _("Clearing a broker password"))
        self.check_access("write")
        self.env.cr.execute(
            "UPDATE integration_partner SET broker_ciphertext = NULL WHERE id = %s", [self.id]
        )
        self.invalidate_recordset(["broker_password", "broker_password_set"])
        self._log_broker_password_change(_("Broker password cleared"))
        return True

    def action_view_messages(self):
        """The messages of this partner."""
        self.ensure_one()
        check_group(self.env, USER_GROUP, _("Viewing a partner's messages"))
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_queue.integration_message_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        return action

    @api.model
    @tools.ormcache("code")
    def _get_gateway_info(self, code):
        """What the gateway needs of a partner, cached; None for unknown or inactive."""
        partner = self.sudo().search([("code", "=", code), ("active", "=", True)], limit=1)
        if not partner:
            return None
        return {
            "id": partner.id,
            "code": partner.code,
            "company_id": partner.company_id.id,
            "rate_limit": partner.rate_limit,
            "type_ids": frozenset(partner.message_type_ids.ids),
            "secrets": self.env["integration.partner.secret"]
            .sudo()
            ._get_all_with_expiry(partner.id),
        }

    def _store_broker_password(self, plaintext):
        """Encrypt and keep the broker password (write access to the partner checked)."""
        self.ensure_one()
        check_group(self.env, MANAGER_GROUP, _("Setting a broker password"))
        self.check_access("write")
        try:
            ciphertext = secret_box.encrypt(config.get(secret_box.CONFIG_OPTION), plaintext)
        except secret_box.MissingKeyError as error:
            raise UserError(
                _("broker_password: the password was not stored: %(reason)s", reason=str(error))
            ) from None
        self.env.cr.execute(
            "UPDATE integration_partner SET broker_ciphertext = %s WHERE id = %s",
            [ciphertext, self.id],
        )
        self.invalidate_recordset(["broker_password", "broker_password_set"])
        self._log_broker_password_change(_("Broker password changed"))

    def _log_broker_password_change(self, summary):
        self.env["integration.audit.event"].sudo()._log("config_change", summary, records=self)
        # a log note, not a message: message_post refuses an author without an e-mail
        for partner in self:
            partner._message_log(body=summary)

    def _broker_password(self):
        """The stored broker password, decrypted (empty when none is stored)."""
        self.ensure_one()
        self.env.cr.execute(
            "SELECT broker_ciphertext FROM integration_partner WHERE id = %s", [self.id]
        )
        row = self.env.cr.fetchone()
        if not (row and row[0]):
            return ""
        return secret_box.decrypt(config.get(secret_box.CONFIG_OPTION), row[0])

    def _check_broker_settings(self):
        """Refuse a broker channel whose URL, exchange, subject or stream cannot work."""
        self.ensure_one()
        channel = self.outbound_channel
        if self.outbound_url:
            try:
                transports.parse_url(channel, self.outbound_url, allow_insecure=True)
            except outbound.BlockedDestination as error:
                raise ValidationError(_("outbound_url: %(reason)s", reason=str(error))) from None
        if channel == "amqp" and not transports.NAME_PATTERN.match(self.broker_exchange or ""):
            raise ValidationError(
                _(
                    "broker_exchange: RabbitMQ needs an exchange name of letters, digits,"
                    " '-', '_', '.' or ':' (at most 200)."
                )
            )
        if channel == "nats":
            if not transports.SUBJECT_PREFIX_PATTERN.match(self.broker_subject_prefix or ""):
                raise ValidationError(
                    _(
                        "broker_subject_prefix: NATS needs a subject prefix of dot-separated"
                        " words of letters, digits, '-' or '_' (no wildcards, no spaces)."
                    )
                )
            if self.broker_stream and not transports.STREAM_PATTERN.match(self.broker_stream):
                raise ValidationError(
                    _("broker_stream: a stream name has letters, digits, '-' or '_' only.")
                )

    def _signing_secret(self):
        """The newest valid secret (outbound requests are signed with it)."""
        self.ensure_one()
        secrets = self.env["integration.partner.secret"].sudo()._get_plaintexts(self.id)
        return secrets[0] if secrets else None

    # ------------------------------------------------------------------
    # Circuit breaker (outbound)
    # ------------------------------------------------------------------

    def _circuit_success(self):
        self.ensure_one()
        if self.circuit_state != "closed" or self.circuit_failures:
            self.sudo().write(
                {"circuit_state": "closed", "circuit_failures": 0, "circuit_open_until": False}
            )

    def _circuit_failure(self):
        """Count a failed call; open the circuit past the threshold (or a failed probe)."""
        self.ensure_one()
        params = self.env["ir.config_parameter"].sudo()
        threshold = int(params.get_param("integration_queue.circuit_failure_threshold", "5"))
        cooldown = int(params.get_param("integration_queue.circuit_cooldown_seconds", "60"))
        failures = self.circuit_failures + 1
        vals = {"circuit_failures": failures}
        if failures >= threshold:
            vals.update(
                circuit_state="open",
                circuit_open_until=fields.Datetime.now() + timedelta(seconds=cooldown),
            )
        self.sudo().write(vals)
