from odoo import fields, models


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    procurement_user_id = fields.Many2one(
        "res.users",
        "Facility Buyer",
        domain=[("share", "=", False)],
        help="Answers for this facility's purchase requests and their exceptions when "
        "neither the vendor nor the product category names a buyer.",
    )
