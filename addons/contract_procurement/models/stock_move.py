from odoo import models


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_done(self, cancel_backorder=False):
        done = super()._action_done(cancel_backorder=cancel_backorder)
        # a receipt changes what may be billed: draft bills of these order lines re-match
        self.env["account.move"]._rematch_bills_of_order_lines(done.purchase_line_id)
        return done
