from odoo import SUPERUSER_ID, models


class StockWarehouseOrderpoint(models.Model):
    _inherit = "stock.warehouse.orderpoint"

    def _unlink_processed_orderpoints(self):
        """Keep the min/max rules of facilities.

        Odoo's scheduler deletes manual orderpoints created by the superuser once
        nothing is to order, taking them for replenishment-report suggestions. A
        facility's rules (loaded from data or by integration) drive shortage
        detection and proposals, so they stay.
        """
        domain = [
            ("create_uid", "=", SUPERUSER_ID),
            ("trigger", "=", "manual"),
            ("qty_to_order", "<=", 0),
            ("warehouse_id.facility_code", "=", False),
        ]
        if self.ids:
            domain.append(("id", "in", self.ids))
        orderpoints = self.with_context(active_test=False).search(domain)
        orderpoints.unlink()
        return orderpoints
