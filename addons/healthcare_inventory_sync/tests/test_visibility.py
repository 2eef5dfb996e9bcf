import json
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import HealthcareCase


@tagged("post_install", "-at_install")
class TestShortagesAndVisibility(HealthcareCase):
    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        Orderpoint = cls.env["stock.warehouse.orderpoint"]
        cls.op_hospital = Orderpoint.create(
            {
                "warehouse_id": cls.hospital.id,
                "location_id": cls.hospital.lot_stock_id.id,
                "product_id": cls.saline.id,
                "product_min_qty": 20,
                "product_max_qty": 60,
                "trigger": "manual",
            }
        )
        cls.op_central = Orderpoint.create(
            {
                "warehouse_id": cls.central.id,
                "location_id": cls.central.lot_stock_id.id,
                "product_id": cls.saline.id,
                "product_min_qty": 50,
                "product_max_qty": 100,
                "trigger": "manual",
            }
        )

    def proposal(self):
        return self.env["healthcare.replenishment.proposal"].search(
            [
                ("warehouse_id", "=", self.hospital.id),
                ("product_id", "=", self.saline.id),
                ("state", "=", "draft"),
            ]
        )

    def _stock_central(self, quantity, expiry_days=365):
        self.snapshot(
            self.central,
            [
                {
                    "item": "T-NACL",
                    "lot": f"C{expiry_days}",
                    "expiry": self.in_days(expiry_days),
                    "quantity": quantity,
                }
            ],
        )

    def test_critical_shortage_proposes_transfer_from_sister_surplus(self):
        self._stock_central(180)  # 80 above the central store's maximum
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "H1", "expiry": self.in_days(200), "quantity": 5}],
            as_of="2026-11-02T08:00:00Z",
        )
        proposal = self.proposal()
        self.assertEqual(proposal.source_type, "transfer")
        self.assertEqual(proposal.source_warehouse_id, self.central)
        self.assertEqual(proposal.quantity, 55)  # up to the maximum of 60
        proposal.action_apply()
        self.assertEqual(proposal.picking_id.location_id, self.central.lot_stock_id)
        self.assertEqual(proposal.picking_id.state, "assigned")
        self.assertTrue(
            self.env["healthcare.stock.alert"].search(
                [("alert_type", "=", "shortage"), ("warehouse_id", "=", self.hospital.id)]
            )
        )

    def test_stock_close_to_expiry_is_no_surplus_then_purchase_route(self):
        self._stock_central(180, expiry_days=20)  # within the central store's horizon
        vendor = self.env["res.partner"].create({"name": "Saline Supplier"})
        self.saline.seller_ids = [(0, 0, {"partner_id": vendor.id, "price": 1.2})]
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "H2", "expiry": self.in_days(200), "quantity": 1}],
            as_of="2026-11-02T08:00:00Z",
        )
        self.assertEqual(self.proposal().source_type, "purchase")

    def test_no_source_escalates_to_procurement(self):
        # no sister surplus, no vendor, no buy route (purchase_stock adds one by default)
        self.saline.route_ids = [(5, 0, 0)]
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "H3", "expiry": self.in_days(200), "quantity": 1}],
        )
        proposal = self.proposal()
        self.assertEqual(proposal.source_type, "escalation")
        self.assertTrue(proposal.activity_ids)

    def test_recovery_cancels_the_proposal_and_scan_runs_for_all(self):
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "H4", "expiry": self.in_days(200), "quantity": 1}],
        )
        self.assertTrue(self.proposal())
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "H4", "expiry": self.in_days(200), "quantity": 50}],
            as_of="2026-11-02T08:00:00Z",
        )
        self.assertFalse(self.proposal())
        self.env["healthcare.replenishment.proposal"]._cron_scan()
        self.assertFalse(self.proposal())

    def test_availability_events_go_to_subscribers(self):
        availability = self.env.ref("healthcare_inventory_sync.message_type_inventory_availability")
        self.partner.subscription_ids = [(4, availability.id)]
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "A1", "expiry": self.in_days(200), "quantity": 10}],
        )
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "A1", "expiry": self.in_days(200), "quantity": 0}],
            as_of="2026-11-02T08:00:00Z",
        )
        events = self.env["integration.message"].search(
            [
                ("direction", "=", "outbound"),
                ("message_type", "=", "inventory.availability"),
                ("partner_id", "=", self.partner.id),
            ],
            order="id",
        )
        self.assertEqual(
            [json.loads(e.payload)["event"] for e in events], ["below_minimum", "out_of_stock"]
        )
        self.assertEqual(json.loads(events[0].payload)["facility"], "T-HOSP")

    def test_overview_shows_cover_value_and_nearest_expiry(self):
        self.snapshot(
            self.hospital,
            [
                {"item": "T-NACL", "lot": "V1", "expiry": self.in_days(100), "quantity": 30},
                {"item": "T-NACL", "lot": "V2", "expiry": self.in_days(50), "quantity": 10},
            ],
        )
        self.process(
            "inventory.consumption",
            {
                "facility": "T-HOSP",
                "occurred_at": "2026-11-01T10:00:00Z",
                "reference": "W1",
                "lines": [{"item": "T-NACL", "lot": "V1", "quantity": 15}],
            },
        )
        row = self.env["healthcare.stock.overview"].search(
            [("warehouse_id", "=", self.hospital.id), ("product_id", "=", self.saline.id)]
        )
        self.assertEqual(row.on_hand, 25)
        self.assertAlmostEqual(row.avg_daily_consumption, 0.5)
        self.assertAlmostEqual(row.days_of_cover, 50)
        self.assertAlmostEqual(row.value, 25 * 1.5)
        self.assertEqual(row.nearest_expiry.isoformat(), self.in_days(50))
        self.assertFalse(row.is_shortage)
        self.assertIn(
            row, self.env["healthcare.stock.overview"].search([("is_critical", "=", True)])
        )

    def test_expiry_watch_suggests_a_faster_consumer(self):
        self.snapshot(
            self.central,
            [{"item": "T-NACL", "lot": "E1", "expiry": self.in_days(40), "quantity": 30}],
        )
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "E2", "expiry": self.in_days(300), "quantity": 30}],
        )
        self.process(
            "inventory.consumption",
            {
                "facility": "T-HOSP",
                "occurred_at": "2026-11-01T10:00:00Z",
                "reference": "W2",
                "lines": [{"item": "T-NACL", "lot": "E2", "quantity": 9}],
            },
        )
        watch = self.env["healthcare.expiry.watch"].search([("lot_id.name", "=", "E1")])
        self.assertEqual(watch.warehouse_id, self.central)
        self.assertAlmostEqual(watch.value_at_risk, 45)
        self.assertEqual(watch.suggested_warehouse_id, self.hospital)

    def test_silent_facility_raises_an_alert(self):
        self.hospital.sync_interval_minutes = 60
        self.snapshot(self.hospital, [{"item": "T-GLV", "quantity": 1}])
        state = self.env["healthcare.facility.sync.state"].search(
            [("warehouse_id", "=", self.hospital.id)]
        )
        state.last_message_at = fields.Datetime.now() - timedelta(hours=2)
        self.env["healthcare.facility.sync.state"]._cron_check_silence()
        alert = self.env["healthcare.stock.alert"].search(
            [("alert_type", "=", "silent_facility"), ("warehouse_id", "=", self.hospital.id)]
        )
        self.assertEqual(alert.state, "open")
        self.assertTrue(state.silent)

    def test_scheduler_keeps_facility_min_max_rules(self):
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "K1", "expiry": self.in_days(200), "quantity": 80}],
        )
        self.env["stock.warehouse.orderpoint"]._unlink_processed_orderpoints()
        self.assertTrue(self.op_hospital.exists())
