from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import HealthcareCase


@tagged("post_install", "-at_install")
class TestPartnerScope(HealthcareCase):
    """A partner acts only for its own facilities, inside its own company."""

    def assertRefused(self, message_type, payload, field, **kwargs):
        answer = self.receive(payload, message_type=message_type, **kwargs)
        self.assertEqual(answer.status, 403, answer.body)
        self.assertEqual(answer.body["error"]["field"], field)
        return answer

    def snapshot_payload(self, facility, lines=None):
        return {
            "facility": facility,
            "as_of": "2026-11-01T08:00:00Z",
            "lines": lines or [{"item": "T-GLV", "quantity": 1}],
        }

    # gateway: every facility field ------------------------------------------

    def test_every_facility_field_of_every_type_is_checked(self):
        lines = [{"item": "T-GLV", "quantity": 1}]
        self.assertRefused("inventory.snapshot", self.snapshot_payload("T-CLINIC"), "facility")
        self.assertRefused(
            "inventory.consumption",
            {
                "facility": "T-CLINIC",
                "occurred_at": "2026-11-01T08:00:00Z",
                "reference": "E-1",
                "lines": lines,
            },
            "facility",
        )
        self.assertRefused(
            "inventory.receipt",
            {"facility": "T-CLINIC", "received_at": "2026-11-01T08:00:00Z", "lines": lines},
            "facility",
        )
        self.assertRefused(
            "inventory.transfer_request",
            {
                "from_facility": "T-CENTRAL",
                "to_facility": "T-CLINIC",
                "priority": "routine",
                "lines": lines,
            },
            "to_facility",
        )
        self.assertFalse(
            self.env["integration.message"].search([("partner_id", "=", self.partner.id)])
        )

    def test_transfer_request_may_ask_any_facility_of_its_company(self):
        # documented deviation: the requester holds to_facility; from_facility is any
        # facility of the same company
        message = self.process(
            "inventory.transfer_request",
            {
                "from_facility": "T-CLINIC",
                "to_facility": "T-HOSP",
                "priority": "routine",
                "lines": [{"item": "T-GLV", "quantity": 1}],
            },
        )
        self.assertEqual(message.state, "done", message.error)

    def test_transfer_request_from_another_company_is_refused(self):
        self.assertRefused(
            "inventory.transfer_request",
            {
                "from_facility": "T-B-HOSP",
                "to_facility": "T-HOSP",
                "priority": "routine",
                "lines": [{"item": "T-GLV", "quantity": 1}],
            },
            "from_facility",
        )

    def test_facility_of_another_company_is_refused_even_when_listed(self):
        # the form refuses it ...
        with self.assertRaises(ValidationError):
            self.partner.facility_ids = [Command.link(self.facility_b.id)]
        # ... and the gateway holds even if the link is forced into the database
        self.env.cr.execute(
            "INSERT INTO integration_partner_stock_warehouse_rel"
            " (integration_partner_id, stock_warehouse_id) VALUES (%s, %s)",
            [self.partner.id, self.facility_b.id],
        )
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        self.assertRefused("inventory.snapshot", self.snapshot_payload("T-B-HOSP"), "facility")

    def test_partner_of_company_b_cannot_post_for_company_a(self):
        self.assertRefused(
            "inventory.snapshot",
            self.snapshot_payload("T-CENTRAL"),
            "facility",
            secret=self.secret_b,
            partner_code=self.partner_b.code,
        )

    # handlers: resolution inside the message's company ----------------------

    def test_facility_code_resolves_inside_the_partners_company(self):
        # both companies have a facility T-HOSP: company B's partner reaches its own
        message = self.process_b(
            "inventory.snapshot",
            self.snapshot_payload("T-HOSP", [{"item": "B-EHR-1", "lot": "B1", "quantity": 7}]),
        )
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.on_hand(self.facility_b_twin, self.product_b), 7)
        self.assertEqual(self.on_hand(self.hospital, self.product_b), 0)

    def test_item_of_another_company_is_unknown(self):
        by_reference = self.snapshot(self.hospital, [{"item": "T-B-NACL", "quantity": 1}])
        self.assertEqual(
            (by_reference.state, by_reference.error_field), ("exception", "lines[0].item")
        )
        by_gtin = self.snapshot(
            self.hospital,
            [{"gtin": self.product_b.barcode, "lot": "X", "quantity": 1}],
            as_of="2026-11-02T08:00:00Z",
        )
        self.assertEqual((by_gtin.state, by_gtin.error_field), ("exception", "lines[0].gtin"))
        self.assertEqual(self.on_hand(self.hospital, self.product_b), 0)

    def test_mapping_to_another_companys_item_is_refused(self):
        with self.assertRaises(ValidationError):
            self.env["integration.item.mapping"].create(
                {
                    "partner_id": self.partner.id,
                    "external_code": "STEAL",
                    "product_id": self.product_b.id,
                }
            )

    def test_shared_item_lots_stay_per_company(self):
        lot_line = [{"item": "T-NACL", "lot": "SHARED", "expiry": self.in_days(200), "quantity": 5}]
        self.snapshot(self.hospital, lot_line)
        message = self.process_b("inventory.snapshot", self.snapshot_payload("T-B-HOSP", lot_line))
        self.assertEqual(message.state, "done", message.error)
        lots = self.env["stock.lot"].search(
            [("name", "=", "SHARED"), ("product_id", "=", self.saline.id)]
        )
        self.assertEqual(lots.company_id, self.company_a | self.company_b)
        self.assertEqual(self.on_hand(self.facility_b, self.saline, "SHARED"), 5)

    def test_receipt_against_another_companys_order_touches_nothing(self):
        picking_b = self.env["stock.picking"].create(
            {
                "picking_type_id": self.facility_b.in_type_id.id,
                "location_id": self.env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": self.facility_b.lot_stock_id.id,
                "origin": "PO-B-1",
                "company_id": self.company_b.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": "saline",
                            "product_id": self.saline.id,
                            "product_uom_qty": 10,
                            "product_uom": self.saline.uom_id.id,
                            "location_id": self.env.ref("stock.stock_location_suppliers").id,
                            "location_dest_id": self.facility_b.lot_stock_id.id,
                            "company_id": self.company_b.id,
                        }
                    )
                ],
            }
        )
        picking_b.action_confirm()
        message = self.process(
            "inventory.receipt",
            {
                "facility": "T-HOSP",
                "purchase_order": "PO-B-1",
                "received_at": "2026-11-01T08:00:00Z",
                "lines": [
                    {"item": "T-NACL", "lot": "STOLEN", "expiry": self.in_days(300), "quantity": 10}
                ],
            },
        )
        self.assertEqual((message.state, message.error_field), ("exception", "purchase_order"))
        self.assertEqual(picking_b.state, "assigned")
        self.assertFalse(self.env["stock.lot"].search([("name", "=", "STOLEN")]))

    def test_receipt_naming_a_purchase_order_of_another_company_is_refused(self):
        # `make test` installs purchase (contract_procurement): fail, not skip, without it
        self.assertIn("purchase.order", self.env, "install purchase to run this test")
        vendor = self.env["res.partner"].create({"name": "B vendor"})
        order = (
            self.env["purchase.order"]
            .with_company(self.company_b)
            .create(
                {
                    "name": "PO-B-ONLY",
                    "partner_id": vendor.id,
                    "company_id": self.company_b.id,
                    "picking_type_id": self.facility_b.in_type_id.id,
                    "order_line": [
                        Command.create({"product_id": self.saline.id, "product_qty": 10})
                    ],
                }
            )
        )
        message = self.process(
            "inventory.receipt",
            {
                "facility": "T-HOSP",
                "purchase_order": order.name,
                "received_at": "2026-11-01T08:00:00Z",
                "lines": [{"item": "T-GLV", "quantity": 1}],
            },
        )
        self.assertEqual((message.state, message.error_field), ("exception", "purchase_order"))
        self.assertIn("not an order of this company", message.error)

    # side effects stay inside the company -----------------------------------

    def test_shortage_never_proposes_another_companys_surplus(self):
        Orderpoint = self.env["stock.warehouse.orderpoint"]
        Orderpoint.create(
            {
                "warehouse_id": self.hospital.id,
                "location_id": self.hospital.lot_stock_id.id,
                "product_id": self.saline.id,
                "product_min_qty": 20,
                "product_max_qty": 60,
                "trigger": "manual",
            }
        )
        Orderpoint.with_company(self.company_b).create(
            {
                "warehouse_id": self.facility_b.id,
                "location_id": self.facility_b.lot_stock_id.id,
                "product_id": self.saline.id,
                "product_min_qty": 1,
                "product_max_qty": 2,
                "trigger": "manual",
                "company_id": self.company_b.id,
            }
        )
        self.process_b(
            "inventory.snapshot",
            self.snapshot_payload(
                "T-B-HOSP",
                [{"item": "T-NACL", "lot": "BIG", "expiry": self.in_days(300), "quantity": 500}],
            ),
        )
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "LOW", "expiry": self.in_days(300), "quantity": 5}],
        )
        proposal = self.env["healthcare.replenishment.proposal"].search(
            [("warehouse_id", "=", self.hospital.id), ("state", "=", "draft")]
        )
        self.assertTrue(proposal)
        self.assertNotEqual(proposal.source_warehouse_id, self.facility_b)
        self.assertNotEqual(proposal.source_type, "transfer")

    def test_availability_is_told_only_to_partners_of_the_company(self):
        availability = self.env.ref("healthcare_inventory_sync.message_type_inventory_availability")
        self.partner_b.subscription_ids = [Command.link(availability.id)]
        self.partner.subscription_ids = [Command.link(availability.id)]
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "A1", "expiry": self.in_days(300), "quantity": 0}],
        )
        outbound = self.env["integration.message"].search(
            [("direction", "=", "outbound"), ("message_type", "=", "inventory.availability")]
        )
        self.assertIn(self.partner, outbound.partner_id)
        self.assertNotIn(self.partner_b, outbound.partner_id)
        self.assertEqual(outbound.partner_id.company_id, self.company_a)
