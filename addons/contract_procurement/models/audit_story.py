"""The story of purchasing documents for the audit trail ("Audit Trail" action):
order, receipts, bills, payments, whichever of them one starts from.

See ``_audit_related_records`` in integration_audit (models/base.py).
"""

from odoo import models


class PurchaseOrder(models.Model):
    _inherit = "purchase.order"

    def _audit_related_records(self):
        # an order goes on to its receipts and bills
        return [*super()._audit_related_records(), self.picking_ids, self.invoice_ids]


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _audit_related_records(self):
        # a receipt belongs to the story of its order
        return [*super()._audit_related_records(), self.purchase_id]


class AccountMove(models.Model):
    _inherit = "account.move"

    def _audit_related_records(self):
        # a bill belongs to its orders' story and goes on to the payments that settle it
        return [
            *super()._audit_related_records(),
            self.invoice_line_ids.purchase_line_id.order_id,
            self._get_reconciled_payments(),
        ]
