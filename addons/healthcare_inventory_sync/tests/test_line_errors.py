import json

from odoo.tests import tagged

from .common import HealthcareCase


@tagged("post_install", "-at_install")
class TestSnapshotLineErrors(HealthcareCase):
    """Every wrong line is reported at once; the partner's snapshot mode decides whether
    the good lines are applied."""

    LINES = [
        {"item": "T-GLV", "quantity": 40},
        {"item": "NO-SUCH-ITEM", "quantity": 1},
        {"item": "T-GLV", "quantity": 2, "uom": "CRATE"},
    ]

    def test_all_or_nothing_names_every_wrong_line_in_one_exception(self):
        self.assertEqual(self.partner.snapshot_mode, "all_or_nothing")
        message = self.snapshot(self.hospital, self.LINES)
        self.assertEqual(message.state, "exception")
        self.assertIn("lines[1].item", message.error)
        self.assertIn("lines[2].uom", message.error)
        self.assertIn("lines[1].item", message.error_field)
        self.assertIn("lines[2].uom", message.error_field)
        self.assertEqual(self.on_hand(self.hospital, self.gloves), 0)

    def test_apply_valid_applies_the_good_lines_and_reports_the_others(self):
        self.partner.snapshot_mode = "apply_valid"
        message = self.snapshot(self.hospital, self.LINES)
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.on_hand(self.hospital, self.gloves), 40)
        result = json.loads(message.result)
        self.assertEqual(
            [line["field"] for line in result["rejected"]], ["lines[1].item", "lines[2].uom"]
        )
        alert = self.env["healthcare.stock.alert"].search(
            [("alert_type", "=", "rejected_lines"), ("warehouse_id", "=", self.hospital.id)]
        )
        self.assertIn("lines[1].item", alert.name)

    def test_partial_complete_snapshot_zeroes_nothing(self):
        self.snapshot(self.hospital, [{"item": "T-GLV", "quantity": 7}])
        self.partner.snapshot_mode = "apply_valid"
        self.snapshot(
            self.hospital,
            [
                {"item": "T-NACL", "lot": "L1", "expiry": self.in_days(200), "quantity": 3},
                {"item": "NO-SUCH-ITEM", "quantity": 1},
            ],
            complete=True,
            as_of="2026-11-02T08:00:00Z",
        )
        self.assertEqual(self.on_hand(self.hospital, self.gloves), 7)
        self.assertEqual(self.on_hand(self.hospital, self.saline), 3)

    def test_apply_valid_with_no_good_line_is_an_exception(self):
        self.partner.snapshot_mode = "apply_valid"
        message = self.snapshot(self.hospital, [{"item": "NO-SUCH-ITEM", "quantity": 1}])
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.error_field, "lines[0].item")


@tagged("post_install", "-at_install")
class TestConsumptionWithoutLot(HealthcareCase):
    def test_lot_less_consumption_is_posted_fefo_and_flagged(self):
        self.snapshot(
            self.hospital,
            [
                {"item": "T-NACL", "lot": "LATE", "expiry": self.in_days(300), "quantity": 50},
                {"item": "T-NACL", "lot": "EARLY", "expiry": self.in_days(60), "quantity": 10},
            ],
        )
        message = self.process(
            "inventory.consumption",
            {
                "facility": "T-HOSP",
                "occurred_at": "2026-11-01T10:00:00Z",
                "reference": "ICU-7",
                "lines": [{"item": "T-NACL", "quantity": 15}],
            },
        )
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.on_hand(self.hospital, self.saline, "EARLY"), 0)
        self.assertEqual(self.on_hand(self.hospital, self.saline, "LATE"), 45)
        move = self.env["stock.move"].search(
            [("product_id", "=", self.saline.id), ("healthcare_lot_assumed", "=", True)]
        )
        self.assertEqual(move.state, "done")
        self.assertEqual(move.product_uom_qty, 15)
        alert = self.env["healthcare.stock.alert"].search(
            [("alert_type", "=", "lot_assumed"), ("product_id", "=", self.saline.id)]
        )
        self.assertEqual(alert.state, "open")
        self.assertIn("EARLY (10)", alert.name)
        self.assertIn("LATE (5)", alert.name)

    def test_lot_less_consumption_without_stock_is_still_posted(self):
        message = self.process(
            "inventory.consumption",
            {
                "facility": "T-HOSP",
                "occurred_at": "2026-11-01T10:00:00Z",
                "reference": "ICU-8",
                "lines": [{"item": "T-NACL", "quantity": 2}],
            },
        )
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.on_hand(self.hospital, self.saline), -2)
        self.assertTrue(
            self.env["stock.move"].search(
                [("product_id", "=", self.saline.id), ("healthcare_lot_assumed", "=", True)]
            )
        )
