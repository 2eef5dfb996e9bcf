"""Handler of ``purchase.acknowledgement``: the supplier confirms (or amends) an order."""

from odoo import api, models

from odoo.addons.integration_queue.registry import message_handler


class ContractProcurementSync(models.AbstractModel):
    _inherit = "contract.procurement.sync"

    @message_handler("purchase.acknowledgement")
    @api.model
    def _handle_purchase_acknowledgement(self, message, payload):
        order = self._partner_order(message, payload)
        result = order._apply_acknowledgement(payload)
        message._link_records(order)
        return result
