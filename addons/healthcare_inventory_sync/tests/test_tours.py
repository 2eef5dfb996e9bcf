from odoo.tests import tagged

from .common import HealthcareHttpCase


@tagged("post_install", "-at_install")
class TestInventoryManagerTour(HealthcareHttpCase):
    """In the browser, an Inventory Manager goes from a shortage alert to its proposal
    and applies it (static/tests/tours/inventory_manager_tour.js)."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.manager = cls._new_user(
            "tour-inventory-manager", ["base.group_user", "stock.group_stock_manager"]
        )
        cls.alert = cls.env["healthcare.stock.alert"].create(
            {
                "alert_type": "shortage",
                "warehouse_id": cls.hospital.id,
                "product_id": cls.saline.id,
                "quantity": 4,
                "name": "Tour saline below minimum",
            }
        )
        cls.proposal = cls.env["healthcare.replenishment.proposal"].create(
            {
                "warehouse_id": cls.hospital.id,
                "product_id": cls.saline.id,
                "quantity": 20,
                "source_type": "transfer",
                "source_warehouse_id": cls.central.id,
            }
        )

    def test_inventory_manager_applies_the_proposal_behind_an_alert(self):
        self.start_tour(
            "/odoo/action-healthcare_inventory_sync.healthcare_stock_alert_action",
            "healthcare_inventory_manager_tour",
            login=self.manager.login,
            timeout=60,
        )
        self.assertEqual(self.proposal.state, "done")
        picking = self.proposal.picking_id
        self.assertTrue(picking, "applying a transfer proposal creates the transfer")
        self.assertEqual(picking.location_dest_id.warehouse_id, self.hospital)
        self.assertEqual(picking.move_ids.product_id, self.saline)
        self.assertEqual(sum(picking.move_ids.mapped("product_uom_qty")), 20)
