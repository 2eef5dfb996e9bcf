from odoo import fields, models


class PurchaseContractLine(models.Model):
    """A contracted price for one product."""

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
    currency_id = fields.Many2one(related="contract_id.currency_id")
