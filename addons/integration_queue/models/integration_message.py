import hashlib
import json
import uuid

import requests
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.integration_audit.correlation import get_correlation_id, outbound_headers

from .. import outbound, registry, signing, transports
from ..exceptions import BusinessError, DeferJob, RetryableError
from .integration_job import MANAGER_GROUP, USER_GROUP, check_group
from .integration_message_type import MEDIA_TYPES

MESSAGE_STATES = [
    ("received", "Received"),
    ("queued", "Queued"),
    ("processing", "Processing"),
    ("done", "Done"),
    ("exception", "Exception"),
    ("failed", "Failed"),
    ("dead", "Dead"),
    ("cancelled", "Cancelled"),
]
REPLAYABLE = ("exception", "failed", "dead", "cancelled")
# what a message is and says, and what became of it: the queue's own code writes these
PROTECTED_FIELDS = frozenset(
    {
        "partner_id",
        "company_id",
        "direction",
        "message_type_id",
        "message_type",
        "external_id",
        "correlation_id",
        "received_at",
        "payload",
        "payload_sha256",
        "ordering_key",
        "state",
        "result",
        "error",
        "error_field",
        "job_ids",
        "link_ids",
    }
)
EXCERPT_LENGTH = 200


def scoped_ordering_key(partner_id, company_id, key):
    """An ordering key that only orders one partner's messages within one company."""
    if not key:
        return None
    return f"p{partner_id or 0}/c{company_id or 0}/{key}"


class IntegrationMessage(models.Model):
    """Every inbound and outbound message, kept as received or sent."""

    _name = "integration.message"
    _description = "Integration Message"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_name = "external_id"

    partner_id = fields.Many2one("integration.partner", required=True, index=True, readonly=True)
    # the partner's company when the message came or went: history does not move
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")], required=True, readonly=True
    )
    message_type_id = fields.Many2one("integration.message.type", "Type", readonly=True, index=True)
    message_type = fields.Char("Type Code", readonly=True, index=True)
    external_id = fields.Char("Message ID", readonly=True, index=True, help="webhook-id")
    correlation_id = fields.Char(readonly=True, index=True)
    received_at = fields.Datetime(readonly=True, index=True)
    payload = fields.Text(readonly=True)
    payload_sha256 = fields.Char("Payload SHA-256", readonly=True)
    ordering_key = fields.Char(readonly=True, index=True)
    state = fields.Selection(
        MESSAGE_STATES, default="received", required=True, readonly=True, index=True, tracking=True
    )
    result = fields.Text(readonly=True)
    error = fields.Text(readonly=True)
    error_field = fields.Char(readonly=True)
    job_ids = fields.One2many("integration.job", "message_id", "Jobs", readonly=True)
    link_ids = fields.One2many("integration.message.link", "message_id", "Records", readonly=True)
    payload_pretty = fields.Text("Payload (formatted)", compute="_compute_payload_pretty")

    def init(self):
        if not self.env.su:
            raise AccessError(_("Only the server sets up the message tables."))
        # One inbound message per partner and webhook-id, whatever the concurrency.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS integration_message_inbound_unique
                ON integration_message (partner_id, external_id) WHERE direction = 'inbound';
            CREATE INDEX IF NOT EXISTS integration_message_partner_received
                ON integration_message (partner_id, received_at);
            """
        )

    def _compute_payload_pretty(self):
        for message in self:
            try:
                message.payload_pretty = json.dumps(
                    json.loads(message.payload or "null"), indent=2, ensure_ascii=False
                )
            except ValueError:
                message.payload_pretty = message.payload

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not registry.guarded():
            raise AccessError(_("Messages are created by the gateway and the queue only."))
        return super().create(vals_list)

    def write(self, vals):
        protected = PROTECTED_FIELDS.intersection(vals)
        if protected and not registry.guarded():
            raise AccessError(
                _(
                    "These fields of an integration message are written by the queue only:"
                    " %(fields)s",
                    fields=", ".join(sorted(protected)),
                )
            )
        return super().write(vals)

    def unlink(self):
        if not registry.guarded():
            raise AccessError(_("Messages are removed by the retention cron only."))
        return super().unlink()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_replay(self):
        """Queue again, with the original payload and correlation ID (bulk allowed)."""
        check_group(self.env, MANAGER_GROUP, _("Replaying a message"))
        not_replayable = self.filtered(lambda m: m.state not in REPLAYABLE)
        if not_replayable:
            raise UserError(
                _(
                    "Only failed, dead, cancelled or exception messages can be replayed: %s",
                    ", ".join(not_replayable.mapped("display_name")),
                )
            )
        for message in self:
            message._enqueue(replay=True)
            self.env["integration.audit.event"].sudo()._log(
                "manual_action",
                _("Message replayed"),
                records=message,
                correlation_id=message.correlation_id,
                partner_code=message.partner_id.code,
            )
            message.activity_ids.action_feedback(feedback=_("Replayed"))
        return True

    def action_cancel(self):
        """Cancel the message and its pending jobs."""
        check_group(self.env, MANAGER_GROUP, _("Cancelling a message"))
        for message in self:
            if message.state == "done":
                raise UserError(_("A processed message cannot be cancelled."))
            with registry.write_guard():
                message.job_ids.filtered(lambda j: j.state == "pending").sudo().write(
                    {"state": "cancelled"}
                )
                message.sudo().write({"state": "cancelled"})
            self.env["integration.audit.event"].sudo()._log(
                "manual_action",
                _("Message cancelled"),
                records=message,
                correlation_id=message.correlation_id,
                partner_code=message.partner_id.code,
            )
        return True

    def action_view_trace(self):
        """The audit trail of this message's correlation ID."""
        self.ensure_one()
        check_group(self.env, USER_GROUP, _("Viewing a message's trace"))
        return self.env["integration.audit.event"]._action_trace(
            [self.correlation_id], self.env["integration.audit.event"]
        )

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _enqueue(self, replay=False):
        """Create the job that processes (inbound) or delivers (outbound) this message."""
        self.ensure_one()
        message_type = self.message_type_id.sudo()
        if self.direction == "inbound":
            # the handler declared in code for the message's (immutable) type code
            handler = registry.routes(self.env.registry).handler(self.message_type)
            if handler is None:
                raise UserError(
                    _("No handler is registered for message type %s.", self.message_type)
                )
            target = tuple(handler)
        else:
            target = ("integration.message", "_deliver_outbound")
        job = (
            self.env["integration.job"]
            .sudo()
            ._enqueue(
                target[0],
                target[1],
                record_ids=self.ids if self.direction == "outbound" else [],
                message=self,
                lane=message_type.lane or "standard",
                priority=message_type.priority,
                max_attempts=message_type.max_attempts or 5,
                ordering_key=self.ordering_key,
                name=f"{self.message_type} {self.external_id}",
            )
        )
        with registry.write_guard():
            self.sudo().write(
                {"state": "queued", "error": False, "error_field": False}
                if replay
                else {"state": "queued"}
            )
        return job

    def _link_records(self, records):
        """Remember which records this message created or changed."""
        self.ensure_one()
        if records:
            self.env["integration.message.link"].sudo().create(
                [
                    {
                        "message_id": self.id,
                        "res_model": r._name,
                        "res_id": r.id,
                        "name": r.display_name,
                    }
                    for r in records
                ]
            )

    def _payload_json(self):
        """The payload as its handler takes it: parsed JSON, or the text of another format."""
        self.ensure_one()
        if self.message_type_id.sudo().payload_format not in (False, "json"):
            return self.payload or ""
        return json.loads(self.payload or "{}")


class IntegrationMessageLink(models.Model):
    """A record a message created or changed."""

    _name = "integration.message.link"
    _description = "Integration Message Record Link"
    _order = "id"

    message_id = fields.Many2one(
        "integration.message", required=True, ondelete="cascade", index=True
    )
    res_model = fields.Char("Model", required=True, index=True)
    res_id = fields.Many2oneReference(
        "Record ID", model_field="res_model", required=True, index=True
    )
    name = fields.Char()
    company_id = fields.Many2one(related="message_id.company_id", store=True, index=True)
    correlation_id = fields.Char(related="message_id.correlation_id")

    def action_open_record(self):
        """Open the linked record (its own access rules apply)."""
        self.ensure_one()
        check_group(self.env, USER_GROUP, _("Opening a message's record"))
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }

    @api.model
    def _messages_for(self, records):
        return self.search(
            [("res_model", "=", records._name), ("res_id", "in", records.ids)]
        ).message_id


class IntegrationMessageDelivery(models.Model):
    """Exception activities and outbound delivery."""

    _inherit = "integration.message"

    def _schedule_exception_activity(self, reason, group_xmlid=None):
        """A to-do for each member of the group that owns this kind of exception."""
        self.ensure_one()
        group = (
            (self.env.ref(group_xmlid, raise_if_not_found=False) if group_xmlid else None)
            or self.message_type_id.exception_group_id
            or self.env.ref("integration_queue.group_integration_manager")
        )
        users = group.sudo().users.filtered(lambda u: u.active and not u.share)[:5]
        for user in users:
            self.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=user.id,
                summary=_("Integration message needs attention"),
                note=Markup("<p>%s</p>")
                % _(
                    "%(type)s message %(id)s from %(partner)s could not be processed: %(reason)s",
                    type=self.message_type,
                    id=self.external_id,
                    partner=self.partner_id.name,
                    reason=reason,
                ),
            )

    @api.model
    def _send_outbound(
        self, partner, message_type_code, payload, records=None, external_id=None, ordering_key=None
    ):
        """Queue ``payload`` (a JSON-able dict, or the text of an X12 message type) for
        delivery to ``partner``.

        The webhook-id (``external_id``) stays the same across retries so that
        the partner can deduplicate. Return the outbound message.
        """
        message_type = (
            self.env["integration.message.type"]
            .sudo()
            .search([("code", "=", message_type_code), ("direction", "=", "outbound")], limit=1)
        )
        if not message_type:
            raise UserError(_("Unknown outbound message type %s.", message_type_code))
        if isinstance(payload, str):
            body = payload
        else:
            body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        with registry.write_guard():
            message = self.sudo().create(
                {
                    "partner_id": partner.id,
                    "company_id": partner.company_id.id,
                    "direction": "outbound",
                    "message_type_id": message_type.id,
                    "message_type": message_type.code,
                    "external_id": external_id or f"msg_{uuid.uuid4().hex}",
                    "correlation_id": get_correlation_id(self.env),
                    "received_at": fields.Datetime.now(),
                    "payload": body,
                    "payload_sha256": hashlib.sha256(body.encode()).hexdigest(),
                    "ordering_key": scoped_ordering_key(
                        partner.id, partner.company_id.id, ordering_key
                    )
                    or False,
                }
            )
        if records:
            message._link_records(records)
        message._enqueue()
        return message

    @registry.job_target
    def _deliver_outbound(self):
        """POST the message to the partner, signed; called by its job."""
        self.ensure_one()
        partner = self.partner_id
        now = fields.Datetime.now()
        if (
            partner.circuit_state == "open"
            and partner.circuit_open_until
            and (partner.circuit_open_until > now)
        ):
            raise DeferJob(partner.circuit_open_until, _("circuit open for %s", partner.code))
        if not partner.outbound_url:
            raise BusinessError(
                _("Partner %s has no outbound endpoint.", partner.code), field="outbound_url"
            )
        transport = self._get_transport()
        if transport is not None:
            return self._deliver_to_broker(transport)
        secret = partner._signing_secret()
        if not secret:
            raise BusinessError(_("Partner %s has no valid signing secret.", partner.code))
        body = (self.payload or "").encode("utf-8")
        headers = dict(
            signing.sign_headers(secret, self.external_id, body),
            **outbound_headers(self.env, self.correlation_id),
        )
        headers["Content-Type"] = MEDIA_TYPES.get(
            self.message_type_id.sudo().payload_format, "application/json"
        )
        params = self.env["ir.config_parameter"].sudo()
        timeout = float(params.get_param("integration_queue.outbound_timeout", "10"))
        policy = self._outbound_policy()
        try:
            response = outbound.post(partner.outbound_url, body, headers, timeout, policy)
        except outbound.BlockedDestination as error:
            raise BusinessError(
                _(
                    "Partner %(partner)s: the outbound endpoint is not allowed: %(reason)s",
                    partner=partner.code,
                    reason=str(error),
                ),
                field="outbound_url",
            ) from None
        except requests.RequestException as error:
            raise self._retryable(partner, f"{type(error).__name__}: {error}") from None
        if 200 <= response.status_code < 300:
            partner._circuit_success()
            self.env["integration.audit.event"].sudo()._log(
                "outbound_sent",
                _(
                    "Delivered to %(partner)s (%(status)s)",
                    partner=partner.code,
                    status=response.status_code,
                ),
                records=self,
                payload=body,
                partner_code=partner.code,
            )
            return {"status": response.status_code}
        if response.status_code in (408, 425, 429) or response.status_code >= 500:
            raise self._retryable(partner, f"partner answered {response.status_code}")
        if 300 <= response.status_code < 400:
            raise BusinessError(
                _(
                    "Partner %(partner)s answered with a redirect (%(status)s), not followed.",
                    partner=partner.code,
                    status=response.status_code,
                ),
                field="outbound_url",
            )
        raise BusinessError(
            _(
                "Partner %(partner)s refused the message with %(status)s: %(body)s",
                partner=partner.code,
                status=response.status_code,
                body=outbound.excerpt(response.text, EXCERPT_LENGTH),
            )
        )

    def _get_transport(self):
        """The transport module of the partner's broker channel; None for the HTTP webhook."""
        self.ensure_one()
        return transports.get_transport(self.partner_id.outbound_channel)

    def _deliver_to_broker(self, transport):
        """Publish the message on the partner's broker; the same outcomes as a webhook:
        delivered and audited, retried (broker unreachable, circuit counted) or refused."""
        self.ensure_one()
        partner = self.partner_id
        channel = partner.outbound_channel
        try:
            config = self._prepare_broker_config(transport)
            result = transport.publish(config, [self._prepare_broker_message()])[0]
        except transports.MissingLibrary as error:
            raise BusinessError(
                _("Partner %(partner)s: %(reason)s", partner=partner.code, reason=str(error)),
                field="outbound_channel",
            ) from None
        except outbound.BlockedDestination as error:
            raise BusinessError(
                _(
                    "Partner %(partner)s: the broker is not allowed: %(reason)s",
                    partner=partner.code,
                    reason=str(error),
                ),
                field="outbound_url",
            ) from None
        except transports.BrokerUnavailable as error:
            raise self._retryable(partner, str(error)) from None
        if isinstance(result.error, transports.BrokerRefused):
            raise BusinessError(
                _(
                    "Partner %(partner)s: the broker refused the message: %(reason)s",
                    partner=partner.code,
                    reason=outbound.excerpt(str(result.error), EXCERPT_LENGTH),
                ),
                field="outbound_url",
            )
        if result.error is not None or not result.sent:
            raise self._retryable(partner, str(result.error or "not published"))
        partner._circuit_success()
        self.env["integration.audit.event"].sudo()._log(
            "outbound_sent",
            _(
                "Published to %(partner)s on %(channel)s%(duplicate)s",
                partner=partner.code,
                channel=transports.CHANNELS[channel][0],
                duplicate=_(" (duplicate, already stored)") if result.duplicate else "",
            ),
            records=self,
            payload=(self.payload or "").encode("utf-8"),
            partner_code=partner.code,
        )
        return {"channel": channel, "duplicate": result.duplicate}

    def _prepare_broker_config(self, transport):
        """The transport's Config from the partner, its URL checked against the policy."""
        partner = self.partner_id.sudo()
        channel = partner.outbound_channel
        params = self.env["ir.config_parameter"].sudo()
        timeout = float(params.get_param("integration_queue.outbound_timeout", "10"))
        endpoint = transports.resolve(channel, partner.outbound_url, self._outbound_policy())
        common = {
            "endpoint": endpoint,
            "username": partner.broker_username or "",
            "password": partner._broker_password(),
            "timeout": timeout,
        }
        if channel == "amqp":
            return transport.Config(exchange=partner.broker_exchange, **common)
        return transport.Config(
            subject_prefix=partner.broker_subject_prefix,
            stream=partner.broker_stream or "",
            **common,
        )

    def _prepare_broker_message(self):
        """The outbound message as a transport sends it."""
        self.ensure_one()
        return transports.Message(
            message_id=self.external_id,
            event_type=self.message_type,
            body=(self.payload or "").encode("utf-8"),
            correlation_id=self.correlation_id or "",
            content_type=MEDIA_TYPES.get(
                self.message_type_id.sudo().payload_format, "application/json"
            ),
            facility=self._broker_facility(),
        )

    def _broker_facility(self):
        """The facility the event is about (its payload's ``facility``), else the company."""
        self.ensure_one()
        facility = None
        if self.message_type_id.sudo().payload_format in (False, "json"):
            try:
                payload = json.loads(self.payload or "{}")
            except ValueError:
                payload = None
            if isinstance(payload, dict) and isinstance(payload.get("facility"), str):
                facility = payload["facility"]
        return facility or self.company_id.name

    @api.model
    def _outbound_policy(self):
        """Where deliveries may go: https to public addresses, plus the allow-list."""
        params = self.env["ir.config_parameter"].sudo()
        return outbound.Policy.from_text(
            params.get_param("integration_queue.outbound_allowed_networks", ""),
            allow_http=params.get_param("integration_queue.allow_insecure_http", "")
            in ("1", "True", "true"),
        )

    @api.model
    def _retryable(self, partner, reason):
        error = RetryableError(reason)
        error.circuit_partner_id = partner.id
        return error
