from datetime import timedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError

from .. import signing
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
    outbound_url = fields.Char("Outbound Endpoint", tracking=True, always_audited=True)
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

    @api.depends("secret_ids.expires_at")
    def _compute_secret_count(self):
        for partner in self:
            partner.secret_count = len(partner.secret_ids.filtered("is_valid"))

    def _compute_message_count(self):
        counts = dict(
            self.env["integration.message"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.message_count = counts.get(partner, 0)

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
