import json

from odoo.tests import tagged

from .common import HealthcareCase


@tagged("post_install", "-at_install")
class TestSnapshot(HealthcareCase):
    def test_snapshot_sets_on_hand_with_lots_and_expiry(self):
        message = self.snapshot(
            self.hospital,
            [
                {"item": "T-GLV", "quantity": 250, "uom": "EA"},
                {
                    "gs1": f"(01)09506000134352(17){self.in_days(200)[2:].replace('-', '')}(10)L1",
                    "quantity": 40,
                },
            ],
        )
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.on_hand(self.hospital, self.gloves), 250)
        self.assertEqual(self.on_hand(self.hospital, self.saline, "L1"), 40)
        lot = self.env["stock.lot"].search(
            [("name", "=", "L1"), ("product_id", "=", self.saline.id)]
        )
        self.assertEqual(lot.expiration_date.date().isoformat(), self.in_days(200))
        # through Odoo's inventory adjustment: done moves from the inventory loss location
        moves = self.env["stock.move"].search(
            [
                ("product_id", "=", self.gloves.id),
                ("location_dest_id", "=", self.hospital.lot_stock_id.id),
            ]
        )
        self.assertEqual(moves.mapped("state"), ["done"])
        self.assertTrue(moves.is_inventory)

    def test_units_convert_by_packaging_code_gtin_and_uom(self):
        self.snapshot(self.hospital, [{"item": "T-GLV", "quantity": 3, "uom": "BX"}])
        self.assertEqual(self.on_hand(self.hospital, self.gloves), 300)
        self.snapshot(
            self.hospital, [{"gtin": "18710000000014", "quantity": 2}], as_of="2026-11-02T08:00:00Z"
        )
        self.assertEqual(self.on_hand(self.hospital, self.gloves), 200)
        self.snapshot(
            self.hospital,
            [{"item": "T-GLV", "quantity": 2, "uom": "DZN"}],
            as_of="2026-11-03T08:00:00Z",
        )
        self.assertEqual(self.on_hand(self.hospital, self.gloves), 24)

    def test_complete_snapshot_zeroes_what_is_absent(self):
        self.snapshot(
            self.hospital,
            [
                {"item": "T-GLV", "quantity": 10},
                {"item": "T-NACL", "lot": "L2", "expiry": self.in_days(90), "quantity": 5},
            ],
        )
        self.snapshot(
            self.hospital,
            [{"item": "T-GLV", "quantity": 7}],
            complete=True,
            as_of="2026-11-02T08:00:00Z",
        )
        self.assertEqual(self.on_hand(self.hospital, self.gloves), 7)
        self.assertEqual(self.on_hand(self.hospital, self.saline), 0)

    def test_stale_snapshot_is_recorded_not_applied(self):
        self.snapshot(
            self.hospital, [{"item": "T-GLV", "quantity": 10}], as_of="2026-11-05T08:00:00Z"
        )
        stale = self.snapshot(
            self.hospital, [{"item": "T-GLV", "quantity": 99}], as_of="2026-11-04T08:00:00Z"
        )
        self.assertEqual(stale.state, "done")
        self.assertTrue(json.loads(stale.result)["stale"])
        self.assertEqual(self.on_hand(self.hospital, self.gloves), 10)
        # with sequences, the sequence decides
        self.snapshot(self.other_partner_facility(), [{"item": "T-GLV", "quantity": 1}], sequence=5)
        old = self.snapshot(
            self.central,
            [{"item": "T-GLV", "quantity": 9}],
            sequence=4,
            as_of="2026-12-01T08:00:00Z",
        )
        self.assertTrue(json.loads(old.result)["stale"])
        self.assertEqual(self.on_hand(self.central, self.gloves), 1)

    def other_partner_facility(self):
        return self.central

    def test_unknown_item_exception_then_replay_after_mapping(self):
        message = self.snapshot(self.hospital, [{"item": "EHR-4711", "quantity": 12}])
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.error_field, "lines[0].item")
        self.assertEqual(message.job_ids.attempts, 1)
        self.assertIn(self.steward, message.activity_ids.user_id)
        self.env["integration.item.mapping"].create(
            {
                "partner_id": self.partner.id,
                "external_code": "EHR-4711",
                "product_id": self.gloves.id,
            }
        )
        message.action_replay()
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertEqual(self.on_hand(self.hospital, self.gloves), 12)

    def test_unknown_unit_and_facility_are_business_exceptions(self):
        bad_unit = self.snapshot(self.hospital, [{"item": "T-GLV", "quantity": 1, "uom": "XYZ"}])
        self.assertEqual((bad_unit.state, bad_unit.error_field), ("exception", "lines[0].uom"))

    def test_partner_may_only_post_for_its_facilities(self):
        answer = self.receive(
            {
                "facility": "T-CLINIC",
                "as_of": "2026-11-01T08:00:00Z",
                "lines": [{"item": "T-GLV", "quantity": 1}],
            },
            message_type="inventory.snapshot",
        )
        self.assertEqual(answer.status, 403)
        self.assertEqual(answer.body["error"]["field"], "facility")

    def test_records_are_linked_for_lot_trace(self):
        message = self.process(
            "inventory.receipt",
            {
                "facility": "T-HOSP",
                "received_at": "2026-11-01T08:00:00Z",
                "lines": [
                    {
                        "item": "T-NACL",
                        "lot": "TRACE-1",
                        "expiry": self.in_days(300),
                        "quantity": 10,
                    }
                ],
            },
        )
        lot = self.env["stock.lot"].search([("name", "=", "TRACE-1")])
        messages = self.env["integration.message.link"]._messages_for(lot)
        self.assertEqual(messages, message)
        self.assertTrue(message.correlation_id)


@tagged("post_install", "-at_install")
class TestConsumptionReceiptTransfer(HealthcareCase):
    def test_consumption_is_posted_and_shortfall_flagged(self):
        self.snapshot(self.hospital, [{"item": "T-GLV", "quantity": 5}])
        message = self.process(
            "inventory.consumption",
            {
                "facility": "T-HOSP",
                "occurred_at": "2026-11-01T10:00:00Z",
                "reference": "ER-22",
                "cost_center": "ER",
                "lines": [{"item": "T-GLV", "quantity": 8}],
            },
        )
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.on_hand(self.hospital, self.gloves), -3)
        result = json.loads(message.result)
        self.assertEqual(result["shortfalls"][0]["missing"], 3)
        alert = self.env["healthcare.stock.alert"].search(
            [("alert_type", "=", "consumption_shortfall"), ("product_id", "=", self.gloves.id)]
        )
        self.assertEqual(alert.quantity, 3)
        consumed = self.env["stock.move"].search(
            [
                ("product_id", "=", self.gloves.id),
                (
                    "location_dest_id",
                    "=",
                    self.env.ref("healthcare_inventory_sync.stock_location_patient_consumption").id,
                ),
            ]
        )
        self.assertEqual(consumed.product_uom_qty, 8)

    def test_receipt_without_order_creates_lots(self):
        message = self.process(
            "inventory.receipt",
            {
                "facility": "T-HOSP",
                "received_at": "2026-11-01T08:00:00Z",
                "lines": [
                    {"item": "T-NACL", "lot": "R1", "expiry": self.in_days(365), "quantity": 24}
                ],
            },
        )
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.on_hand(self.hospital, self.saline, "R1"), 24)

    def test_expired_or_short_dated_lots_are_refused(self):
        for days, words in ((-1, "expired"), (10, "minimum shelf life")):
            message = self.process(
                "inventory.receipt",
                {
                    "facility": "T-HOSP",
                    "received_at": "2026-11-01T08:00:00Z",
                    "lines": [
                        {
                            "item": "T-NACL",
                            "lot": f"X{days}",
                            "expiry": self.in_days(days),
                            "quantity": 1,
                        }
                    ],
                },
            )
            self.assertEqual(message.state, "exception")
            self.assertIn(words, message.error)
            self.assertEqual(message.error_field, "lines[0].expiry")

    def _open_receipt(self, quantity):
        supplier = self.env.ref("stock.stock_location_suppliers")
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": self.hospital.in_type_id.id,
                "origin": "PO-T-1",
                "location_id": supplier.id,
                "location_dest_id": self.hospital.lot_stock_id.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "gloves",
                            "product_id": self.gloves.id,
                            "product_uom_qty": quantity,
                            "product_uom": self.gloves.uom_id.id,
                            "location_id": supplier.id,
                            "location_dest_id": self.hospital.lot_stock_id.id,
                        },
                    )
                ],
            }
        )
        picking.action_confirm()
        return picking

    def test_partial_receipt_against_order_leaves_backorder(self):
        picking = self._open_receipt(100)
        message = self.process(
            "inventory.receipt",
            {
                "facility": "T-HOSP",
                "purchase_order": "PO-T-1",
                "received_at": "2026-11-01T08:00:00Z",
                "lines": [{"item": "T-GLV", "quantity": 60}],
            },
        )
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(picking.state, "done")
        backorder = self.env["stock.picking"].search([("backorder_id", "=", picking.id)])
        self.assertEqual(backorder.move_ids.product_uom_qty, 40)
        self.assertEqual(self.on_hand(self.hospital, self.gloves), 60)

    def test_receiving_more_than_ordered_is_an_exception(self):
        self._open_receipt(10)
        message = self.process(
            "inventory.receipt",
            {
                "facility": "T-HOSP",
                "purchase_order": "PO-T-1",
                "received_at": "2026-11-01T08:00:00Z",
                "lines": [{"item": "T-GLV", "quantity": 11}],
            },
        )
        self.assertEqual(message.state, "exception")
        self.assertIn("more than", message.error)

    def test_transfer_reserves_first_expiry_first_out(self):
        self.snapshot(
            self.central,
            [
                {"item": "T-NACL", "lot": "LATE", "expiry": self.in_days(300), "quantity": 50},
                {"item": "T-NACL", "lot": "EARLY", "expiry": self.in_days(60), "quantity": 50},
            ],
        )
        message = self.process(
            "inventory.transfer_request",
            {
                "from_facility": "T-CENTRAL",
                "to_facility": "T-HOSP",
                "priority": "routine",
                "lines": [{"item": "T-NACL", "quantity": 30}],
            },
        )
        self.assertEqual(message.state, "done", message.error)
        picking = message.link_ids.filtered(lambda link: link.res_model == "stock.picking")
        picking = self.env["stock.picking"].browse(picking.res_id)
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(picking.move_line_ids.lot_id.mapped("name"), ["EARLY"])
        self.assertEqual(picking.priority, "0")

    def test_emergency_transfer_is_starred_and_notifies_source(self):
        self.central.facility_manager_id = self.steward
        message = self.process(
            "inventory.transfer_request",
            {
                "from_facility": "T-CENTRAL",
                "to_facility": "T-HOSP",
                "priority": "emergency",
                "lines": [{"item": "T-GLV", "quantity": 5}],
            },
        )
        picking = self.env["stock.picking"].browse(
            message.link_ids.filtered(lambda link: link.res_model == "stock.picking").res_id
        )
        self.assertEqual(picking.priority, "1")
        self.assertEqual(picking.activity_ids.user_id, self.steward)
