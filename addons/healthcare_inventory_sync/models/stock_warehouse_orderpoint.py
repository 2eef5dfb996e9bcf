from odoo import SUPERUSER_ID, fields, models


class StockWarehouseOrderpoint(models.Model):
    _inherit = "stock.warehouse.orderpoint"

    healthcare_evaluated_at = fields.Datetime(
        "Shortage Evaluated",
        readonly=True,
        copy=False,
        help="Written by each shortage evaluation, so that two evaluations of the same rule "
        "running at once conflict instead of one overwriting the other with older stock.",
    )

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
