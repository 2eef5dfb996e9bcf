from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestFourEyes(ProcurementCase):
    """Approvals and states change through their guarded methods only, and cover
    exactly what was approved; the in-process paths (cron, _post, imports)."""

    def bill(self, order, qty, price, ref="INV-4E"):
        vals = order.order_line._prepare_account_move_line()
        vals.update(quantity=qty, price_unit=price)
        return self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": order.partner_id.id,
                "ref": ref,
                "invoice_date": self.day(0),
                "invoice_line_ids": [Command.create(vals)],
            }
        )

    def overridden_bill(self, price=2.30):
        """A bill for 10 of an order of 10 nothing of which was received: overridden."""
        order = self.order(qty=10, price=price)
        order.button_confirm()
        bill = self.bill(order, 10, price)
        bill.with_user(self.finance)._override_match("receipt booked tomorrow")
        self.assertEqual(bill.match_state, "overridden")
        return bill

    def test_superuser_cannot_write_guarded_fields(self):
        contract = self.make_contract()
        for vals in (
            {"state": "active"},
            {"approved_by_id": self.manager_b.id},
            {"submitted_by_id": self.manager_a.id},
            {"platform_approved": True},
        ):
            with self.assertRaisesRegex(AccessError, next(iter(vals))):
                contract.write(vals)
        with self.assertRaisesRegex(AccessError, "state"):
            self.make_contract().copy({"state": "active"})
        order = self.order()
        with self.assertRaisesRegex(AccessError, "off_contract_approved_by_id"):
            order.write({"off_contract_approved_by_id": self.manager_a.id})
        with self.assertRaisesRegex(AccessError, "ack_state"):
            order.write({"ack_state": "acknowledged"})
        with self.assertRaisesRegex(AccessError, "supplier_status"):
            self.supplier.write({"supplier_status": "blocked"})
        self.assertEqual(contract.state, "draft")

    def test_import_cannot_set_state_or_approver(self):
        result = self.env["purchase.contract"].load(
            ["partner_id/.id", "date_start", "state"],
            [[str(self.supplier.id), str(self.day(0)), "active"]],
        )
        self.assertFalse(result["ids"])
        self.assertIn("state", " ".join(m["message"] for m in result["messages"]))

    def test_activation_needs_an_approval_that_still_holds(self):
        contract = self.activate(self.make_contract(start=3))
        self.assertEqual(contract.state, "approved")
        # the approver leaves the group: neither the cron nor a manager activates it
        self.manager_b.groups_id = [
            Command.unlink(self.env.ref("contract_procurement.group_procurement_manager").id)
        ]
        with freeze_time(self.day(3)):
            self.env["purchase.contract"]._cron_lifecycle()
        self.assertEqual(contract.state, "approved")
        with self.assertRaisesRegex(UserError, "no valid approval"):
            contract.with_user(self.manager_a).action_activate()

    def test_transitions_check_the_group(self):
        contract = self.activate(self.make_contract())
        for action in ("action_suspend", "action_terminate", "action_expire", "action_activate"):
            with self.assertRaises(AccessError):
                getattr(contract.with_user(self.buyer), action)()
        with self.assertRaises(AccessError):
            self.make_contract().with_user(self.stock_user).action_submit()
        self.assertEqual(contract.state, "active")

    def test_line_change_after_approval_goes_back_to_review(self):
        contract = self.activate(self.make_contract(price=10.0))
        infos = self.env["product.supplierinfo"].search(
            [("contract_line_id", "in", contract.line_ids.ids)]
        )
        self.assertEqual(infos.mapped("price"), [10.0])
        contract.line_ids.with_user(self.manager_b).write({"price": 12.0})
        self.assertEqual(contract.state, "review")
        self.assertEqual(contract.submitted_by_id, self.manager_b)
        self.assertFalse(contract.approved_by_id)
        # the new price is no vendor price until approved again, by someone else
        self.assertFalse(
            self.env["product.supplierinfo"].search(
                [("contract_line_id", "in", contract.line_ids.ids)]
            )
        )
        with self.assertRaisesRegex(UserError, "another person"):
            contract.with_user(self.manager_b).action_approve()
        contract.with_user(self.manager_a).action_approve()
        self.assertEqual(contract.state, "active")
        self.assertEqual(
            self.env["product.supplierinfo"]
            .search([("contract_line_id", "in", contract.line_ids.ids)])
            .mapped("price"),
            [12.0],
        )

    def test_price_break_change_and_ended_contract(self):
        contract = self.activate(self.make_contract(price=10.0, breaks=[(100, 9.0)]))
        contract.line_ids.break_ids.price = 1.0
        self.assertEqual(contract.state, "review")
        contract.with_user(self.manager_a).action_terminate()
        with self.assertRaisesRegex(UserError, "no longer change"):
            contract.line_ids.price = 1.0

    def test_off_contract_approval_is_voided_by_a_line_change(self):
        self.activate(self.make_contract(supplier=self.supplier, price=10.0))
        order = self.order(supplier=self.other_supplier, price=9.0, qty=10)
        order.off_contract_reason = "stockout"
        order.with_user(self.manager_a).action_approve_off_contract()
        self.assertTrue(order.off_contract_approved_by_id)
        order.order_line.product_qty = 1000
        self.assertFalse(order.off_contract_approved_by_id)
        with self.assertRaisesRegex(UserError, "off-contract"):
            order.button_confirm()
        self.assertEqual(order.state, "draft")

    def test_post_refuses_exceptions_on_every_path(self):
        order = self.order(qty=10, price=5.0)
        order.button_confirm()
        bill = self.bill(order, 10, 5.0)
        with self.assertRaisesRegex(UserError, "three-way match"):
            bill._post(soft=False)
        with self.assertRaisesRegex(AccessError, "Confirm"):
            bill.write({"state": "posted"})
        self.assertEqual(bill.state, "draft")

    def test_auto_post_cron_leaves_blocked_bills_in_draft(self):
        order = self.order(qty=10, price=5.0)
        order.button_confirm()
        bill = self.bill(order, 10, 5.0)
        bill.write({"auto_post": "at_date", "date": self.day(-1), "checked": True})
        self.env["account.move"]._autopost_draft_entries()
        self.assertEqual(bill.state, "draft")
        self.assertFalse(bill.checked)
        self.assertIn("three-way match", bill.message_ids[:1].body)

    def test_reset_to_draft_voids_the_override(self):
        bill = self.overridden_bill()
        bill.action_post()
        self.assertEqual(bill.state, "posted")
        bill.button_draft()
        self.assertFalse(bill.match_override_by_id)
        with self.assertRaisesRegex(UserError, "three-way match"):
            bill.action_post()
        self.assertEqual(bill.state, "draft")

    def test_changing_a_price_after_the_override_voids_it(self):
        bill = self.overridden_bill(price=2.30)
        bill.with_user(self.clerk).write(
            {"invoice_line_ids": [Command.update(bill.invoice_line_ids.id, {"price_unit": 9.99})]}
        )
        self.assertEqual(bill.match_state, "exception")
        with self.assertRaisesRegex(UserError, "three-way match"):
            bill.with_user(self.clerk).action_post()
        self.assertEqual(bill.state, "draft")

    def test_contract_vendor_prices_change_only_with_the_contract(self):
        contract = self.activate(self.make_contract(price=10.0))
        info = self.env["product.supplierinfo"].search(
            [("contract_line_id", "in", contract.line_ids.ids)]
        )
        with self.assertRaisesRegex(AccessError, "only with the contract"):
            info.with_user(self.buyer).write({"price": 1.0})
        with self.assertRaisesRegex(AccessError, "only with the contract"):
            info.unlink()
        self.assertEqual(info.price, 10.0)
