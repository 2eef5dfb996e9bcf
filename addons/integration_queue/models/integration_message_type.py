from collections import namedtuple

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from .. import registry
from ..payload_schema import _validator

# What the gateway needs of an inbound message type, cached per registry.
TypeInfo = namedtuple(
    "TypeInfo",
    "id lane priority max_attempts schema ordering_key_field handler_model handler_method"
    " payload_format",
)

LANES = [("critical", "Critical"), ("standard", "Standard"), ("bulk", "Bulk")]
# how a body is read and sent: JSON (validated by the type's schema) or ANSI X12 text,
# which the type's handler validates itself (healthcare_edi_x12)
PAYLOAD_FORMATS = [("json", "JSON"), ("x12", "ANSI X12")]
MEDIA_TYPES = {"json": "application/json", "x12": "application/edi-x12"}
# seconds one attempt may run when its type sets no limit: below Odoo's
# limit_time_real_cron (120 s by default), so the runner stops a job before
# Odoo kills the whole cron worker
LANE_TIME_LIMITS = {"critical": 30, "standard": 60, "bulk": 90}


# Fields that decide which code a message of this type runs: set at creation only.
ROUTING_FIELDS = ("code", "direction", "payload_format")


class IntegrationMessageType(models.Model):
    """A kind of message: its JSON schema, its lane and its retry policy.

    Its handler is declared in code (``@message_handler(code)``, see
    ``integration_queue/registry.py``) and shown here, never read from here.
    """

    _name = "integration.message.type"
    _inherit = ["integration.cached.config"]
    _description = "Integration Message Type"
    _order = "code"
    _rec_name = "code"

    code = fields.Char(required=True, help="As in the URL: /integration/v1/inbound/<code>")
    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")], required=True, default="inbound"
    )
    handler_model = fields.Char(
        compute="_compute_handler", help="Model whose method handles the message (from code)."
    )
    handler_method = fields.Char(
        compute="_compute_handler",
        help="Declared in code with @message_handler(code); called as "
        "handler_model.<method>(message, payload).",
    )
    schema = fields.Text("JSON Schema", help="Payloads that do not fit are refused with 400.")
    payload_format = fields.Selection(
        PAYLOAD_FORMATS,
        required=True,
        default="json",
        help="JSON bodies are sent as application/json and checked against the schema;"
        " X12 bodies as application/edi-x12, checked by the handler.",
    )
    lane = fields.Selection(LANES, required=True, default="standard")
    priority = fields.Integer(default=10, help="Lower runs first within a lane.")
    max_attempts = fields.Integer(default=5)
    time_limit = fields.Integer(
        "Time Limit (s)",
        help="Longest one attempt of a job of this type may run before it is stopped and"
        " counted as failed. 0: the lane's default"
        " (system parameter integration_queue.time_limit.<lane>).",
    )
    ordering_key_field = fields.Char(
        help="Payload field whose value orders messages: one at a time per value, oldest first."
    )
    exception_group_id = fields.Many2one(
        "res.groups", "Exception Owners", help="Who gets an activity when a message fails a rule."
    )
    description = fields.Text(translate=True)

    _sql_constraints = [
        ("code_unique", "UNIQUE(code)", "A message type code is unique."),
        ("time_limit_positive", "CHECK(time_limit >= 0)", "A time limit cannot be negative."),
    ]

    def _compute_handler(self):
        routes = registry.routes(self.env.registry)
        for message_type in self:
            handler = (
                routes.handler(message_type.code) if message_type.direction == "inbound" else None
            )
            message_type.handler_model = handler.model if handler else False
            message_type.handler_method = handler.method if handler else False

    @api.constrains("schema")
    def _check_schema(self):
        for message_type in self.filtered("schema"):
            try:
                _validator(message_type.schema)
            except Exception as error:
                raise ValidationError(
                    _(
                        "The JSON schema of %(type)s is not valid: %(error)s",
                        type=message_type.code,
                        error=error,
                    )
                ) from error

    def write(self, vals):
        self.check_access("write")
        routing = [name for name in ROUTING_FIELDS if name in vals]
        for message_type in self:
            changed = [name for name in routing if message_type[name] != vals[name]]
            if changed:
                raise UserError(
                    _(
                        "%(fields)s of message type %(type)s cannot change: messages and jobs"
                        " of this type are routed by them. Create a new message type instead.",
                        fields=", ".join(changed),
                        type=message_type.code,
                    )
                )
        return super().write(vals)

    @api.model
    @tools.ormcache("code")
    def _get_by_code(self, code):
        """(id, lane, priority, max_attempts, schema, ordering_key_field, handler_model,
        handler_method) of an active inbound type, or None."""
        message_type = self.sudo().search(
            [("code", "=", code), ("direction", "=", "inbound")], limit=1
        )
        if not message_type:
            return None
        handler = registry.routes(self.env.registry).handler(code)
        return TypeInfo(
            message_type.id,
            message_type.lane,
            message_type.priority,
            message_type.max_attempts,
            message_type.schema or "",
            message_type.ordering_key_field or "",
            handler.model if handler else None,
            handler.method if handler else None,
            message_type.payload_format or "json",
        )

    @api.model
    @tools.ormcache("code", "lane")
    def _get_time_limit(self, code, lane):
        """Seconds one attempt of a job may run: the type's own limit, else its lane's."""
        if code:
            message_type = self.sudo().search([("code", "=", code)], limit=1)
            if message_type.time_limit:
                return message_type.time_limit
        default = LANE_TIME_LIMITS.get(lane, LANE_TIME_LIMITS["standard"])
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(f"integration_queue.time_limit.{lane}", str(default))
        )
        try:
            return max(int(value), 1)
        except ValueError:
            return default
