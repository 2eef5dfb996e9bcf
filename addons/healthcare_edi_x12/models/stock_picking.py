from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    x12_ship_notice_line_ids = fields.Many2many(
        "x12.ship.notice.line",
        string="Ship Notice Lines",
        compute="_compute_x12_ship_notice_line_ids",
        help="What the supplier's ship notices announced for this receipt's order lines.",
    )

    def _compute_x12_ship_notice_line_ids(self):
        Line = self.env["x12.ship.notice.line"]
        for picking in self:
            purchase_lines = picking.move_ids.purchase_line_id
            picking.x12_ship_notice_line_ids = (
                Line.search([("purchase_line_id", "in", purchase_lines.ids)])
                if purchase_lines
                else Line
            )
