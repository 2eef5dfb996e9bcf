from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    healthcare_emergency = fields.Boolean(
        "Emergency Request",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Created for an emergency transfer request: reserved again whenever stock "
        "arrives at its source facility.",
    )
