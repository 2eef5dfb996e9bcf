from odoo import _, fields, models
from odoo.exceptions import UserError

from odoo.addons.healthcare_inventory_sync.gs1 import normalise_gtin

from ..x12 import documents


class PurchaseOrder(models.Model):
    _inherit = "purchase.order"

    x12_document_ids = fields.One2many(
        "x12.document", "purchase_id", "X12 Transaction Sets", readonly=True
    )

    def _send_x12_850(self, partner):
        """Queue this order (its current version) to ``partner`` as an X12 850.

        Called by contract_procurement's transmission (through ``_send_outbound``),
        so every path that confirms or changes an order reaches it.
        """
        self.ensure_one()
        order = self._x12_order_values()
        answer = self.env["x12.sync"]._send_interchange(
            partner,
            [
                {
                    "functional_id": "PO",
                    "sets": [{"set_id": "850", "segments": documents.write_850(order)}],
                }
            ],
            records=self,
            purchase=self,
        )
        return (
            self.env["integration.message"]
            .sudo()
            .search(
                [("external_id", "=", answer["message"]), ("direction", "=", "outbound")], limit=1
            )
        )

    def _x12_order_values(self):
        """The canonical order dict :func:`~..x12.documents.write_850` writes (and
        :func:`~..x12.documents.read_850` reads back)."""
        self.ensure_one()
        warehouse = self.picking_type_id.warehouse_id
        supplier = self.partner_id.commercial_partner_id
        for record, label in ((warehouse, _("facility")), (self.company_id, _("company"))):
            if not record.gln:
                raise UserError(
                    _(
                        "%(order)s cannot be sent in X12: the %(label)s %(name)s has no GLN"
                        " (field GLN).",
                        order=self.name,
                        label=label,
                        name=record.display_name,
                    )
                )
        account = supplier.x12_account_ids.filtered(lambda a: a.warehouse_id == warehouse)[:1]
        contract = self.order_line.contract_line_id.contract_id[:1]
        return {
            "purchase_order": self.name,
            "order_version": self.order_version,
            "purpose": "original" if self.order_version <= 1 else "replace",
            "date_order": fields.Date.to_string(self.date_order.date()),
            "currency": self.currency_id.name,
            "contract": contract.external_ref or contract.name or None,
            "account_number": account.account_number or None,
            "ship_to_gln": warehouse.gln,
            "ship_to_name": warehouse.name,
            "bill_to_gln": self.company_id.gln,
            "bill_to_name": self.company_id.name,
            "supplier_gln": supplier.gln or None,
            "supplier_name": supplier.name if supplier.gln else None,
            "lines": [
                line._x12_line_values(index)
                for index, line in enumerate(
                    self.order_line.filtered(lambda ln: not ln.display_type), 1
                )
            ],
        }


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    def _x12_line_values(self, number):
        """One PO1 of the 850: the supplier's part (VN), ours (BP) and the GTIN (UK)."""
        self.ensure_one()
        product = self.product_id
        supplier = self.order_id.partner_id.commercial_partner_id
        seller = product.seller_ids.filtered(
            lambda s: s.partner_id.commercial_partner_id == supplier and s.product_code
        )[:1]
        ids = {
            "VN": self.contract_line_id.supplier_code or seller.product_code or None,
            "BP": product.default_code or None,
            "UK": normalise_gtin(product.barcode),
        }
        ids = {qualifier: value for qualifier, value in ids.items() if value}
        if not ids:
            raise UserError(
                _(
                    "%(product)s cannot be ordered in X12: it has no supplier code, internal"
                    " reference or GTIN.",
                    product=product.display_name,
                )
            )
        return {
            "line": number,
            "quantity": self.product_qty,
            "uom": documents.uom_code(self.product_uom.name),
            "price": self.price_unit,
            "ids": ids,
            "description": (self.name or "")[:80],
            "date_planned": fields.Date.to_string(self.date_planned.date()),
        }
