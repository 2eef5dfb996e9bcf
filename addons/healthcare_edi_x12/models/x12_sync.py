from odoo import api, models


class X12Sync(models.AbstractModel):
    """X12 EDI: the handlers of ``models/handlers`` read interchanges and write answers
    and orders on this model."""

    _name = "x12.sync"
    _description = "X12 EDI"

    @api.model
    def _warehouse_by_gln(self, message, gln):
        facilities = message.partner_id.sudo().facility_ids.filtered(
            lambda w: w.company_id == message.company_id
        ) or self.env["stock.warehouse"].sudo().search([("company_id", "=", message.company_id.id)])
        return facilities.filtered(lambda w: w.gln == gln)[:1]

    @api.model
    def _partner_suppliers(self, message):
        return self.env["contract.procurement.sync"]._partner_suppliers(message)
