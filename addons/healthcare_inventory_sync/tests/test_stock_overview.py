from datetime import date, datetime

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from .common import HealthcareCase


@tagged("post_install", "-at_install")
class TestStockOverview(HealthcareCase):
    """Cross-facility stock as a buyer reads it: cover, expiry date, drill-down."""

    def row(self, warehouse, product):
        return self.env["healthcare.stock.overview"].search(
            [("warehouse_id", "=", warehouse.id), ("product_id", "=", product.id)]
        )

    def raw_days_of_cover(self, row):
        self.env.cr.execute(
            SQL("SELECT days_of_cover FROM %s t WHERE t.id = %s", row._table_sql, row.id)
        )
        return self.env.cr.fetchone()[0]

    def consume(self, warehouse, lot, quantity):
        self.process(
            "inventory.consumption",
            {
                "facility": warehouse.facility_code,
                "occurred_at": "2026-11-01T10:00:00Z",
                "reference": f"USE-{warehouse.code}",
                "lines": [{"item": "T-NACL", "lot": lot, "quantity": quantity}],
            },
        )

    def stock_saline(self, warehouse, lots):
        self.snapshot(
            warehouse,
            [
                {"item": "T-NACL", "lot": lot, "expiry": self.in_days(days), "quantity": quantity}
                for lot, days, quantity in lots
            ],
        )

    def test_days_of_cover_is_infinite_for_stock_without_consumption(self):
        self.snapshot(self.hospital, [{"item": "T-GLV", "quantity": 50}])
        row = self.row(self.hospital, self.gloves)
        self.assertEqual(row.on_hand, 50)
        self.assertEqual(row.avg_daily_consumption, 0)
        self.assertEqual(row.days_of_cover_display, "∞")
        # no number at all, not 0 nor a huge one (the ORM would read NULL as 0.0)
        self.assertIsNone(self.raw_days_of_cover(row))

    def test_days_of_cover_is_blank_without_stock_or_consumption(self):
        self.env["stock.warehouse.orderpoint"].create(
            {
                "warehouse_id": self.other.id,
                "location_id": self.other.lot_stock_id.id,
                "product_id": self.saline.id,
                "product_min_qty": 10,
                "product_max_qty": 40,
                "trigger": "manual",
            }
        )
        row = self.row(self.other, self.saline)
        self.assertEqual((row.on_hand, row.minimum), (0, 10))
        self.assertFalse(row.days_of_cover_display)
        self.assertIsNone(self.raw_days_of_cover(row))
        self.assertTrue(row.is_shortage)

    def test_days_of_cover_in_whole_days_sorted_as_numbers(self):
        self.stock_saline(self.hospital, [("H1", 200, 40)])
        self.consume(self.hospital, "H1", 15)  # 25 left at 0.5 a day: 50 days
        self.stock_saline(self.central, [("C1", 200, 39)])
        self.consume(self.central, "C1", 30)  # 9 left at 1 a day: 9 days
        self.partner.facility_ids = [Command.link(self.other.id)]
        self.snapshot(self.other, [{"item": "T-NACL", "lot": "O1", "quantity": 5}])
        hospital, central = (
            self.row(self.hospital, self.saline),
            self.row(self.central, self.saline),
        )
        self.assertAlmostEqual(hospital.days_of_cover, 50)
        self.assertEqual(hospital.days_of_cover_display, "50")
        self.assertEqual(central.days_of_cover_display, "9")
        # as text "50" < "9"; the column sorts by the number, "∞" (no use) last
        rows = self.env["healthcare.stock.overview"].search(
            [("product_id", "=", self.saline.id)], order="days_of_cover_display"
        )
        self.assertEqual(rows.mapped("days_of_cover_display"), ["9", "50", "∞"])

    def test_nearest_expiry_is_the_date_of_the_first_lot_to_expire(self):
        self.stock_saline(self.hospital, [("V1", 100, 30), ("V2", 50, 10)])
        row = self.row(self.hospital, self.saline)
        self.assertIsInstance(row.nearest_expiry, date)
        self.assertNotIsInstance(row.nearest_expiry, datetime)
        self.assertEqual(row.nearest_expiry.isoformat(), self.in_days(50))
        self.assertEqual(
            self.env["healthcare.stock.overview"]._fields["nearest_expiry"].type, "date"
        )

    def test_click_on_a_row_opens_its_lots_and_quants(self):
        self.stock_saline(self.hospital, [("V1", 100, 30), ("V2", 50, 10)])
        self.stock_saline(self.central, [("C1", 200, 60)])
        list_arch = self.env["healthcare.stock.overview"].get_views([(False, "list")])["views"][
            "list"
        ]["arch"]
        self.assertIn('action="action_open_quants"', list_arch)
        action = self.row(self.hospital, self.saline).action_open_quants()
        self.assertEqual(action["res_model"], "stock.quant")
        quants = self.env["stock.quant"].search(action["domain"])
        self.assertEqual(sorted(quants.lot_id.mapped("name")), ["V1", "V2"])
        self.assertEqual(sum(quants.mapped("quantity")), 40)
        self.assertEqual(quants.location_id.warehouse_id, self.hospital)
        view = self.env.ref("healthcare_inventory_sync.stock_quant_view_list_healthcare_lots")
        self.assertEqual(action["views"], [(view.id, "list")])
        self.assertIn('name="lot_id"', view.arch)
        self.assertIn('name="expiration_date" widget="date"', view.arch)

    def test_rows_and_lots_stay_inside_the_users_companies(self):
        self.stock_saline(self.hospital, [("A1", 100, 12)])
        self.process_b(
            "inventory.snapshot",
            {
                "facility": "T-B-HOSP",
                "as_of": "2026-11-01T08:00:00Z",
                "lines": [
                    {"item": "B-EHR-1", "lot": "B1", "expiry": self.in_days(90), "quantity": 7}
                ],
            },
        )
        row_b = self.row(self.facility_b, self.product_b)
        self.assertEqual(row_b.on_hand, 7)
        user = self._new_user("hc-overview-user", ["stock.group_stock_user"])
        Overview = self.env["healthcare.stock.overview"].with_user(user)
        self.assertFalse(Overview.search([("warehouse_id", "=", self.facility_b.id)]))
        with self.assertRaises(AccessError):
            row_b.with_user(user).action_open_quants()
        own = Overview.search(
            [("warehouse_id", "=", self.hospital.id), ("product_id", "=", self.saline.id)]
        )
        action = own.action_open_quants()
        quants = self.env["stock.quant"].with_user(user).search(action["domain"])
        self.assertEqual(quants.lot_id.mapped("name"), ["A1"])

    def test_facilities_list_shows_facilities_only(self):
        plain = self.env["stock.warehouse"].create({"name": "Plain Warehouse", "code": "PLW"})
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "healthcare_inventory_sync.stock_warehouse_facility_action"
        )
        self.assertEqual(action["res_model"], "stock.warehouse")
        listed = self.env["stock.warehouse"].search(safe_eval(action["domain"]))
        self.assertIn(self.hospital, listed)
        self.assertIn(self.central, listed)
        self.assertNotIn(plain, listed)
        self.assertTrue(all(listed.mapped("facility_code")))
