from odoo import Command
from odoo.tests import tagged

from .common import HealthcareCase


@tagged("post_install", "-at_install")
class TestReplenishmentForecast(HealthcareCase):
    """Shortages are measured on on hand - reserved + incoming, and refreshed when the
    stock of a facility changes (not only by the hourly scan)."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        Orderpoint = cls.env["stock.warehouse.orderpoint"]
        cls.op_saline = Orderpoint.create(
            {
                "warehouse_id": cls.hospital.id,
                "location_id": cls.hospital.lot_stock_id.id,
                "product_id": cls.saline.id,
                "product_min_qty": 40,
                "product_max_qty": 100,
                "trigger": "manual",
            }
        )
        # gloves are no critical supply: only a stock change or the scan evaluates them
        cls.op_gloves = Orderpoint.create(
            {
                "warehouse_id": cls.hospital.id,
                "location_id": cls.hospital.lot_stock_id.id,
                "product_id": cls.gloves.id,
                "product_min_qty": 10,
                "product_max_qty": 50,
                "trigger": "manual",
            }
        )

    def proposal(self, product):
        return self.env["healthcare.replenishment.proposal"].search(
            [
                ("warehouse_id", "=", self.hospital.id),
                ("product_id", "=", product.id),
                ("state", "=", "draft"),
            ]
        )

    def _incoming(self, warehouse, product, quantity):
        """A confirmed receipt from a vendor into the facility."""
        supplier = self.env.ref("stock.stock_location_suppliers")
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": warehouse.in_type_id.id,
                "location_id": supplier.id,
                "location_dest_id": warehouse.lot_stock_id.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom": product.uom_id.id,
                            "product_uom_qty": quantity,
                            "location_id": supplier.id,
                            "location_dest_id": warehouse.lot_stock_id.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        return picking

    def _adjust(self, warehouse, product, quantity):
        """An inventory adjustment made in Odoo (no partner message)."""
        self.env["stock.quant"].with_context(inventory_mode=True).create(
            {
                "product_id": product.id,
                "location_id": warehouse.lot_stock_id.id,
                "inventory_quantity": quantity,
            }
        )._apply_inventory()

    def test_incoming_stock_is_counted_in_the_shortage(self):
        # the case: 6 on hand and 30 incoming proposed to buy 94 (100 - 6);
        # 36 is still below the minimum of 40, so a proposal of 64 is right
        self._incoming(self.hospital, self.saline, 30)
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "H1", "expiry": self.in_days(200), "quantity": 6}],
        )
        proposal = self.proposal(self.saline)
        self.assertEqual(proposal.on_hand, 6)
        self.assertEqual(proposal.incoming, 30)
        self.assertEqual(proposal.forecast, 36)
        self.assertEqual(proposal.quantity, 64)

    def test_reserved_stock_is_counted_in_the_shortage(self):
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "H2", "expiry": self.in_days(200), "quantity": 40}],
        )
        self.assertFalse(self.proposal(self.saline))
        # 25 of the 40 leave for the clinic: 15 left to use, below the minimum of 40
        transfer = self.env["healthcare.inventory.sync"]._create_transfer(
            self.hospital,
            self.other,
            [self._line(self.saline, 25)],
            origin="test",
        )
        self.assertEqual(transfer.state, "assigned")
        self.env.cr.flush()  # the transaction's pre-commit refresh
        proposal = self.proposal(self.saline)
        self.assertEqual(proposal.reserved, 25)
        self.assertEqual(proposal.quantity, 85)

    def _line(self, product, quantity):
        from ..models.healthcare_inventory_sync import ResolvedLine  # noqa: PLC0415

        return ResolvedLine(0, product, quantity, product.uom_id)

    def test_stock_change_refreshes_the_proposal_before_commit(self):
        self._adjust(self.hospital, self.gloves, 3)
        self.env.cr.flush()
        proposal = self.proposal(self.gloves)
        self.assertEqual(proposal.quantity, 47)
        # stock arrives: the open proposal is withdrawn in the same transaction
        self._adjust(self.hospital, self.gloves, 45)
        self.env.cr.flush()
        self.assertFalse(self.proposal(self.gloves))
        self.assertEqual(proposal.state, "cancelled")

    def test_incoming_receipt_refreshes_the_proposal(self):
        self._adjust(self.hospital, self.gloves, 3)
        self.env.cr.flush()
        self.assertEqual(self.proposal(self.gloves).quantity, 47)
        self._incoming(self.hospital, self.gloves, 40)
        self.env.cr.flush()
        self.assertFalse(self.proposal(self.gloves))


@tagged("post_install", "-at_install")
class TestEmergencyTransfer(HealthcareCase):
    def _request(self, **extra):
        payload = dict(
            {
                "from_facility": "T-CENTRAL",
                "to_facility": "T-HOSP",
                "priority": "emergency",
                "lines": [{"item": "T-GLV", "quantity": 750}],
            },
            **extra,
        )
        message = self.process("inventory.transfer_request", payload)
        self.assertEqual(message.state, "done", message.error)
        return self.env["stock.picking"].browse(
            message.link_ids.filtered(lambda link: link.res_model == "stock.picking").res_id
        )

    def test_waiting_emergency_transfer_is_reserved_when_stock_arrives(self):
        picking = self._request(reference="HOSP-A/2026-0042")
        self.assertEqual(picking.state, "confirmed")  # nothing at the central store yet
        # 750 units arrive at the source, reported by its stock system
        self.snapshot(self.central, [{"item": "T-GLV", "quantity": 750}])
        self.env.cr.flush()
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(sum(picking.move_ids.mapped("quantity")), 750)

    def test_routine_transfer_is_not_reserved_by_the_arrival_hook(self):
        picking = self._request(priority="routine")
        self.assertFalse(picking.healthcare_emergency)
        self.assertIn(picking.state, ("confirmed", "waiting"))

    def test_source_document_is_a_readable_reference(self):
        picking = self._request(reference="HOSP-A/2026-0042")
        self.assertEqual(picking.origin, "Emergency request HOSP-A/2026-0042 from Test Hospital")
        without = self._request()
        self.assertTrue(without.origin.startswith("Emergency request "))
        self.assertTrue(without.origin.endswith(" from Test Hospital"))
        self.assertNotIn("inventory.transfer_request", without.origin)
