from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from odoo.addons.integration_queue import registry


class IntegrationMessage(models.Model):
    _inherit = "integration.message"

    x12_interchange_key = fields.Char(
        "X12 Interchange",
        readonly=True,
        index=True,
        help="Sender qualifier, sender ID and ISA13: a re-sent interchange has the same.",
    )

    def write(self, vals):
        if "x12_interchange_key" in vals and not registry.guarded():
            raise AccessError(_("The X12 interchange of a message is set by the gateway only."))
        return super().write(vals)

    @api.model
    def _send_outbound(
        self, partner, message_type_code, payload, records=None, external_id=None, ordering_key=None
    ):
        """A purchase order to a partner that speaks X12 leaves as an 850."""
        if (
            message_type_code == "purchase.order"
            and partner.sudo().x12_enabled
            and records is not None
            and records._name == "purchase.order"
        ):
            return records.sudo()._send_x12_850(partner)
        return super()._send_outbound(
            partner,
            message_type_code,
            payload,
            records=records,
            external_id=external_id,
            ordering_key=ordering_key,
        )
