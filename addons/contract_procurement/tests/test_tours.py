from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ProcurementHttpCase


@tagged("post_install", "-at_install")
class TestRoleTours(ProcurementHttpCase):
    """Each role's main flow in the browser (static/tests/tours/procurement_role_tours.js),
    then its effect in the database."""

    def setUp(self):
        super().setUp()
        self.contract = self.activate(self.make_contract(price=10.0))
        # the mask is on another supplier's contract: bought from MedSupply, it is off contract
        self.other_contract = self.activate(
            self.make_contract(supplier=self.other_supplier, product=self.mask, price=2.0)
        )

    def order_waiting_for_approval(self):
        """An order the buyer made and gave the off-contract reason for."""
        order = (
            self.env["purchase.order"]
            .with_user(self.buyer)
            .create(
                {
                    "partner_id": self.supplier.id,
                    "picking_type_id": self.warehouse.in_type_id.id,
                    "order_line": [
                        Command.create({"product_id": self.gloves.id, "product_qty": 10}),
                        Command.create(
                            {"product_id": self.mask.id, "product_qty": 5, "price_unit": 2.5}
                        ),
                    ],
                }
            )
        )
        self.env["purchase.order.off.contract.reason"].with_user(self.buyer).create(
            {"order_id": order.id, "reason": "stockout"}
        ).action_confirm()
        self.assertEqual(order.confirmation_status, "to_approve")
        return order

    def bill_with_exception(self):
        """A bill for 10 of an order of which nothing was received yet."""
        order = self.order(qty=10, price=5.0)
        order.button_confirm()
        vals = order.order_line._prepare_account_move_line()
        vals.update(quantity=10, price_unit=5.0)
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.supplier.id,
                "ref": "INV-TOUR",
                "invoice_date": self.day(0),
                "invoice_line_ids": [Command.create(vals)],
            }
        )
        bill._run_three_way_match()
        self.assertEqual(bill.match_state, "exception")
        return bill

    def test_buyer_orders_at_contract_price_and_gives_the_off_contract_reason(self):
        self.start_tour(
            f"/odoo/action-contract_procurement.purchase_contract_action/{self.contract.id}",
            "contract_procurement_buyer_tour",
            login=self.buyer.login,
            timeout=90,
        )
        order = self.env["purchase.order"].search([("create_uid", "=", self.buyer.id)])
        self.assertEqual(len(order), 1)
        self.assertEqual(order.partner_id, self.supplier)
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.off_contract_reason, "stockout")
        self.assertEqual(order.off_contract_note, "The ward needs masks today")
        self.assertEqual(order.confirmation_status, "to_approve")
        gloves = order.order_line.filtered(lambda line: line.product_id == self.gloves)
        self.assertEqual(gloves.contract_line_id, self.contract.line_ids)
        self.assertEqual(gloves.price_unit, 10.0)
        self.assertFalse(gloves.off_contract)
        mask = order.order_line.filtered(lambda line: line.product_id == self.mask)
        self.assertTrue(mask.off_contract)
        self.assertEqual(mask.other_contract_line_id, self.other_contract.line_ids)
        approvers = order.activity_ids.user_id
        self.assertTrue(approvers, "the approvers get an activity")
        self.assertNotIn(self.buyer, approvers)

    def test_procurement_manager_approves_and_confirms(self):
        order = self.order_waiting_for_approval()
        self.start_tour(
            f"/odoo/action-purchase.purchase_rfq/{order.id}",
            "contract_procurement_manager_tour",
            login=self.manager_a.login,
            timeout=60,
        )
        self.assertEqual(order.off_contract_approved_by_id, self.manager_a)
        self.assertEqual(order.state, "purchase")

    def test_ap_clerk_sees_the_exception_and_cannot_override(self):
        bill = self.bill_with_exception()
        self.start_tour(
            f"/odoo/action-account.action_move_in_invoice_type/{bill.id}",
            "contract_procurement_ap_clerk_tour",
            login=self.clerk.login,
            timeout=60,
        )
        self.assertEqual(bill.state, "draft")
        self.assertEqual(bill.match_state, "exception")
        self.assertEqual(bill.match_exception_ids.exception_type, "qty_not_received")
        # the button is hidden, and the server refuses the override all the same
        with self.assertRaises(AccessError):
            self.env["purchase.match.override"].with_user(self.clerk).create(
                {"move_id": bill.id, "reason": "Not mine to decide"}
            ).action_override_and_post()
        self.assertFalse(bill.match_override_by_id)
        self.assertEqual(bill.state, "draft")

    def test_finance_manager_overrides_then_reset_to_draft_clears_it(self):
        bill = self.bill_with_exception()
        self.start_tour(
            f"/odoo/action-account.action_move_in_invoice_type/{bill.id}",
            "contract_procurement_finance_manager_tour",
            login=self.finance.login,
            timeout=60,
        )
        self.assertTrue(bill.posted_before, "the override posted the bill")
        self.assertEqual(bill.state, "draft")
        self.assertFalse(bill.match_override_by_id)
        self.assertFalse(bill.match_override_reason)
        self.assertEqual(bill.match_state, "exception")
