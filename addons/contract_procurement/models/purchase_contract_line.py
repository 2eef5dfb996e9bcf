from odoo import fields, models
from odoo.tools import float_compare


class PurchaseContractLine(models.Model):
    """A contracted price for one product, with optional quantity price breaks."""

    _name = "purchase.contract.line"
    _description = "Supplier Contract Line"
    _order = "contract_id, sequence, id"

    sequence = fields.Integer(default=10)
    contract_id = fields.Many2one(
        "purchase.contract", required=True, ondelete="cascade", index=True
    )
    product_id = fields.Many2one("product.product", required=True, index=True)
    supplier_code = fields.Char("Supplier Item Code")
    product_uom_id = fields.Many2one("uom.uom", "Unit", required=True)
    price = fields.Float(required=True, digits="Product Price")
    min_qty = fields.Float("Minimum Quantity", digits="Product Unit of Measure")
    break_ids = fields.One2many(
        "purchase.contract.price.break", "line_id", "Price Breaks", copy=True
    )
    currency_id = fields.Many2one(related="contract_id.currency_id")
    partner_id = fields.Many2one(related="contract_id.partner_id", store=True)
    state = fields.Selection(related="contract_id.state", store=True)

    def _price_for(self, quantity):
        """Contract price for ``quantity`` (in the line's unit): the best break reached."""
        self.ensure_one()
        price = self.price
        for price_break in self.break_ids.sorted("min_qty"):
            if float_compare(quantity, price_break.min_qty, precision_digits=6) >= 0:
                price = price_break.price
        return price

    def _prepare_supplierinfo_vals(self):
        self.ensure_one()
        contract = self.contract_id
        base = {
            "partner_id": contract.partner_id.id,
            "product_tmpl_id": self.product_id.product_tmpl_id.id,
            "product_id": self.product_id.id,
            "product_code": self.supplier_code,
            "product_uom": self.product_uom_id.id,
            "currency_id": contract.currency_id.id,
            "company_id": contract.company_id.id,
            "date_start": contract.date_start,
            "date_end": contract.date_end,
            "contract_line_id": self.id,
            # facility-specific contracts sort first, then the newest
            "sequence": 1 if contract.warehouse_ids else 5,
        }
        vals = [dict(base, min_qty=self.min_qty, price=self.price)]
        vals += [dict(base, min_qty=b.min_qty, price=b.price) for b in self.break_ids]
        return vals


class PurchaseContractPriceBreak(models.Model):
    _name = "purchase.contract.price.break"
    _description = "Contract Price Break"
    _order = "min_qty"

    line_id = fields.Many2one("purchase.contract.line", required=True, ondelete="cascade")
    min_qty = fields.Float("From Quantity", required=True, digits="Product Unit of Measure")
    price = fields.Float(required=True, digits="Product Price")


class ProductSupplierinfo(models.Model):
    _inherit = "product.supplierinfo"

    contract_line_id = fields.Many2one(
        "purchase.contract.line", ondelete="cascade", index=True, readonly=True
    )
