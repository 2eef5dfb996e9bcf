from collections import namedtuple

from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError

from ..payload_schema import _validator

# What the gateway needs of an inbound message type, cached per registry.
TypeInfo = namedtuple(
    "TypeInfo",
    "id lane priority max_attempts schema ordering_key_field handler_model handler_method",
)

LANES = [("critical", "Critical"), ("standard", "Standard"), ("bulk", "Bulk")]


class IntegrationMessageType(models.Model):
    """A kind of message and how it is handled: the one place a business addon
    declares a handler, its JSON schema, its lane and its retry policy."""

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
    handler_model = fields.Char(help="Model whose method handles the message.")
    handler_method = fields.Char(
        help="Called as handler_model.<method>(message, payload); returns a JSON-able result."
    )
    schema = fields.Text("JSON Schema", help="Payloads that do not fit are refused with 400.")
    lane = fields.Selection(LANES, required=True, default="standard")
    priority = fields.Integer(default=10, help="Lower runs first within a lane.")
    max_attempts = fields.Integer(default=5)
    ordering_key_field = fields.Char(
        help="Payload field whose value orders messages: one at a time per value, oldest first."
    )
    exception_group_id = fields.Many2one(
        "res.groups", "Exception Owners", help="Who gets an activity when a message fails a rule."
    )
    description = fields.Text(translate=True)

    _sql_constraints = [("code_unique", "UNIQUE(code)", "A message type code is unique.")]

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

    @api.constrains("handler_model", "handler_method")
    def _check_handler(self):
        for message_type in self.filtered("handler_model"):
            model = self.env.get(message_type.handler_model)
            if model is None or not hasattr(model, message_type.handler_method or ""):
                raise ValidationError(
                    _(
                        "Message type %(type)s: %(model)s.%(method)s does not exist.",
                        type=message_type.code,
                        model=message_type.handler_model,
                        method=message_type.handler_method,
                    )
                )

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
        return TypeInfo(
            message_type.id,
            message_type.lane,
            message_type.priority,
            message_type.max_attempts,
            message_type.schema or "",
            message_type.ordering_key_field or "",
            message_type.handler_model,
            message_type.handler_method,
        )
