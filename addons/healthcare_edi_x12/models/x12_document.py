from odoo import _, api, fields, models
from odoo.exceptions import AccessError

SET_TYPES = [
    ("850", "850 Purchase Order"),
    ("855", "855 Acknowledgment"),
    ("856", "856 Ship Notice"),
    ("810", "810 Invoice"),
    ("997", "997 Functional Acknowledgment"),
]
STATES = [
    ("sent", "Sent"),
    ("accepted", "Accepted"),
    ("rejected", "Rejected"),
    ("duplicate", "Duplicate"),
]


class X12Document(models.Model):
    """One transaction set we sent or received: its control numbers, what became of
    it (a 997 accepts or rejects what we sent; our validation what we received),
    and the segment and element at fault."""

    _name = "x12.document"
    _description = "X12 Transaction Set"
    _order = "id desc"
    _rec_name = "name"

    name = fields.Char(compute="_compute_name")
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")], required=True, readonly=True
    )
    partner_id = fields.Many2one("integration.partner", required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    set_type = fields.Char("Set", required=True, readonly=True)
    interchange_control = fields.Char("ISA13", readonly=True, index=True)
    group_control = fields.Char("GS06", readonly=True, index=True)
    set_control = fields.Char("ST02", readonly=True, index=True)
    state = fields.Selection(STATES, required=True, readonly=True, index=True)
    error = fields.Text(readonly=True, help="The segment and element at fault.")
    message_id = fields.Many2one(
        "integration.message", "Interchange Message", readonly=True, index=True
    )
    canonical_message_id = fields.Many2one(
        "integration.message", "Canonical Message", readonly=True, index=True
    )
    purchase_id = fields.Many2one("purchase.order", "Purchase Order", readonly=True, index=True)
    correlation_id = fields.Char(readonly=True, index=True)
    acknowledged_at = fields.Datetime(readonly=True)

    @api.depends("direction", "set_type", "interchange_control", "group_control", "set_control")
    def _compute_name(self):
        for document in self:
            document.name = (
                f"{document.set_type} {document.interchange_control or '-'}"
                f"/{document.group_control or '-'}/{document.set_control or '-'}"
            )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(_("X12 transaction sets are recorded by the EDI code only."))
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            raise AccessError(_("X12 transaction sets are recorded by the EDI code only."))
        return super().write(vals)

    def action_view_trace(self):
        """The audit trail of the interchange this set came or went in."""
        self.ensure_one()
        return self.message_id.action_view_trace()
