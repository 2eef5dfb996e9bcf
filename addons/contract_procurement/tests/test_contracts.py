from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestContractLifecycle(ProcurementCase):
    def test_segregation_of_duties(self):
        contract = self.make_contract()
        contract.with_user(self.manager_a).action_submit()
        self.assertEqual(contract.state, "review")
        with self.assertRaisesRegex(UserError, "another person"):
            contract.with_user(self.manager_a).action_approve()
        with self.assertRaises(AccessError):
            contract.with_user(self.buyer).action_approve()
        contract.with_user(self.manager_b).action_approve()
        self.assertEqual(contract.state, "active")  # started already
        self.assertEqual(contract.approved_by_id, self.manager_b)
        events = self.env["integration.audit.event"].search(
            [
                ("res_model", "=", "purchase.contract"),
                ("res_id", "=", contract.id),
                ("event_type", "=", "manual_action"),
            ]
        )
        self.assertGreaterEqual(len(events), 3)

    def test_future_contract_activates_by_cron_and_expires(self):
        contract = self.activate(self.make_contract(start=3, end=10))
        self.assertEqual(contract.state, "approved")
        # time passes (moving the approved dates would send the contract back to review)
        with freeze_time(self.day(3)):
            self.env["purchase.contract"]._cron_lifecycle()
        self.assertEqual(contract.state, "active")
        self.assertTrue(contract.activity_ids)  # renewal reminder: ends within 60 days
        with freeze_time(self.day(11)):
            self.env["purchase.contract"]._cron_lifecycle()
        self.assertEqual(contract.state, "expired")
        self.assertFalse(
            self.env["product.supplierinfo"].search(
                [("contract_line_id", "in", contract.line_ids.ids)]
            )
        )

    def test_active_contract_is_vendor_price_and_suspension_removes_it(self):
        contract = self.activate(self.make_contract(price=7.5, breaks=[(100, 6.0)]))
        infos = self.env["product.supplierinfo"].search(
            [("contract_line_id", "in", contract.line_ids.ids)]
        )
        self.assertEqual(sorted(infos.mapped("price")), [6.0, 7.5])
        self.assertEqual(self.order(qty=10).order_line.price_unit, 7.5)
        self.assertEqual(self.order(qty=150).order_line.contract_price, 6.0)
        contract.with_user(self.manager_a).action_suspend()
        self.assertFalse(infos.exists())

    def test_overlaps_facility_specific_then_newest(self):
        general = self.activate(self.make_contract(price=9.0, start=-30))
        newer = self.activate(self.make_contract(price=8.0, start=-5))
        line = self.order().order_line
        self.assertEqual(line.contract_line_id.contract_id, newer)
        facility = self.activate(
            self.make_contract(price=8.5, start=-60, warehouses=self.warehouse)
        )
        line = self.order().order_line
        self.assertEqual(line.contract_line_id.contract_id, facility)
        self.assertEqual(line.contract_price, 8.5)
        self.assertTrue(general)

    def test_blocked_or_pending_supplier_stops_confirmation(self):
        order = self.order(price=10)
        for status in ("blocked", "pending", "suspended"):
            self.supplier._set_supplier_status(status)
            with self.assertRaisesRegex(UserError, status):
                order.button_confirm()
        self.supplier._set_supplier_status("approved")
        order.button_confirm()
        self.assertEqual(order.state, "purchase")

    def test_off_contract_needs_reason_and_manager_approval(self):
        self.activate(self.make_contract(supplier=self.supplier, price=10.0))
        order = self.order(supplier=self.other_supplier, price=9.0)
        self.assertTrue(order.order_line.off_contract)
        with self.assertRaisesRegex(UserError, "off-contract"):
            order.button_confirm()
        with self.assertRaises(AccessError):
            order.with_user(self.buyer).action_approve_off_contract()
        with self.assertRaisesRegex(UserError, "reason"):
            order.with_user(self.manager_a).action_approve_off_contract()
        order.off_contract_reason = "stockout"
        order.with_user(self.manager_a).action_approve_off_contract()
        order.button_confirm()
        self.assertEqual(order.state, "purchase")

    def test_price_above_contract_beyond_tolerance_is_off_contract(self):
        self.activate(self.make_contract(price=10.0))
        self.env["ir.config_parameter"].set_param("contract_procurement.price_tolerance_pct", "5")
        within = self.order(price=10.4).order_line
        beyond = self.order(price=10.6).order_line
        self.assertFalse(within.off_contract)
        self.assertTrue(beyond.off_contract)
        self.assertAlmostEqual(beyond.price_variance, 0.6)

    def test_expired_required_document_suspends_supplier(self):
        self.supplier.supplier_document_ids = [
            (
                0,
                0,
                {
                    "name": "Wholesale licence",
                    "document_type": "licence",
                    "expiry_date": self.day(-1),
                    "required": True,
                },
            )
        ]
        self.env["res.partner.supplier.document"]._cron_check_expiry()
        self.assertEqual(self.supplier.supplier_status, "suspended")
        self.assertIn("Wholesale licence", self.supplier.supplier_status_reason)
        self.assertTrue(self.supplier.activity_ids)
