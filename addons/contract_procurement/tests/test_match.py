from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestThreeWayMatch(ProcurementCase):
    def confirmed_order(self, qty=10, price=5.0):
        order = self.order(qty=qty, price=price)
        order.button_confirm()
        return order

    def receive(self, order, qty):
        picking = order.picking_ids
        picking.move_ids.quantity = qty
        picking.move_ids.picked = True
        picking.with_context(cancel_backorder=False)._action_done()

    def bill(self, order, qty, price, ref="INV-1"):
        order_line = order.order_line
        vals = order_line._prepare_account_move_line()
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

    def types(self, bill):
        bill._run_three_way_match()
        return sorted(
            bill.match_exception_ids.filtered(lambda e: e.state == "open").mapped("exception_type")
        )

    def test_matched_bill_posts(self):
        order = self.confirmed_order()
        self.receive(order, 10)
        bill = self.bill(order, 10, 5.0)
        self.assertEqual(self.types(bill), [])
        bill.action_post()
        self.assertEqual(bill.state, "posted")

    def test_billed_more_than_received(self):
        order = self.confirmed_order()
        self.receive(order, 6)
        bill = self.bill(order, 10, 5.0)
        self.assertEqual(self.types(bill), ["qty_not_received"])
        with self.assertRaisesRegex(UserError, "three-way match"):
            bill.action_post()

    def test_price_above_order_with_tolerances(self):
        order = self.confirmed_order()
        self.receive(order, 10)
        self.assertEqual(self.types(self.bill(order, 10, 5.2, ref="A")), ["price_variance"])
        self.env.company.match_price_tolerance_pct = 5
        self.assertEqual(self.types(self.bill(order, 10, 5.2, ref="B")), [])
        self.env.company.match_price_tolerance_pct = 0
        self.env.company.match_price_tolerance_abs = 0.25
        self.assertEqual(self.types(self.bill(order, 10, 5.2, ref="C")), [])

    def test_duplicate_invoice_number_and_bill_without_order(self):
        order = self.confirmed_order()
        self.receive(order, 10)
        first = self.bill(order, 5, 5.0, ref="DUP-7")
        first.action_post()
        second = self.bill(order, 5, 5.0, ref="DUP-7")
        self.assertEqual(self.types(second), ["duplicate_invoice"])
        loose = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.supplier.id,
                "ref": "NOPO-1",
                "invoice_date": self.day(0),
                "invoice_line_ids": [
                    Command.create({"product_id": self.gloves.id, "quantity": 1, "price_unit": 3})
                ],
            }
        )
        self.assertEqual(self.types(loose), ["no_order"])

    def test_override_needs_finance_manager_and_reason(self):
        order = self.confirmed_order()
        self.receive(order, 6)
        bill = self.bill(order, 10, 5.0)
        bill._run_three_way_match()
        with self.assertRaises(AccessError):
            bill.with_user(self.buyer)._override_match("looks fine")
        with self.assertRaisesRegex(UserError, "reason"):
            bill.with_user(self.finance)._override_match("  ")
        wizard = (
            self.env["purchase.match.override"]
            .with_user(self.finance)
            .create({"move_id": bill.id, "reason": "Goods received, receipt not yet booked"})
        )
        wizard.sudo(False).action_override_and_post()
        self.assertEqual(bill.state, "posted")
        self.assertEqual(bill.match_exception_ids.mapped("state"), ["overridden"])
        event = self.env["integration.audit.event"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "=", bill.id),
                ("summary", "=", "Three-way match overridden"),
            ]
        )
        self.assertEqual(event.user_id, self.finance)

    def test_overridden_bill_shows_overridden_and_is_filterable(self):
        order = self.confirmed_order()
        self.receive(order, 6)
        bill = self.bill(order, 10, 5.0)
        wizard = (
            self.env["purchase.match.override"]
            .with_user(self.finance)
            .create({"move_id": bill.id, "reason": "Goods received, receipt not yet booked"})
        )
        wizard.action_override_and_post()
        self.assertEqual((bill.state, bill.match_state), ("posted", "overridden"))
        self.assertIn(
            bill,
            self.env["account.move"]
            .with_user(self.clerk)
            .search([("match_state", "=", "overridden")]),
        )
        bill.with_user(self.finance).button_draft()
        self.assertEqual(bill.match_state, "exception")

    def test_receipt_after_bill_clears_the_exception(self):
        order = self.confirmed_order(qty=120)
        bill = self.bill(order, 120, 5.0)
        self.assertEqual(bill.match_state, "exception")
        exception = bill.match_exception_ids
        self.assertEqual(exception.description, "[C-GLV] Contract gloves: 120 billed, 0 received")
        # the storekeeper validates the receipt; nobody re-runs the match by hand
        picking = order.picking_ids.with_user(self.stock_user)
        picking.move_ids.quantity = 120
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(order.order_line.qty_received, 120)
        self.assertEqual(bill.match_state, "matched")
        self.assertEqual(exception.state, "resolved")
        bill.action_post()
        self.assertEqual(bill.state, "posted")

    def test_changed_bill_or_order_line_rematches(self):
        order = self.confirmed_order()
        self.receive(order, 10)
        bill = self.bill(order, 10, 5.0)
        self.assertEqual(bill.match_state, "matched")
        bill.write(
            {"invoice_line_ids": [Command.update(bill.invoice_line_ids.id, {"quantity": 12})]}
        )
        self.assertEqual(bill.match_state, "exception")
        self.assertEqual(bill.match_exception_ids.exception_type, "qty_not_received")
        bill.write(
            {
                "invoice_line_ids": [
                    Command.update(bill.invoice_line_ids.id, {"quantity": 10, "price_unit": 6.0})
                ]
            }
        )
        self.assertEqual(
            bill.match_exception_ids.filtered(lambda e: e.state == "open").exception_type,
            "price_variance",
        )
        order.order_line.price_unit = 6.0
        self.assertEqual(bill.match_state, "matched")

    def test_still_found_exception_keeps_its_activity(self):
        order = self.confirmed_order(qty=10)
        bill = self.bill(order, 10, 5.0)
        exception = bill.match_exception_ids
        self.assertEqual(len(exception.activity_ids), 1)
        self.receive(order, 4)
        self.assertEqual(bill.match_exception_ids, exception)
        self.assertEqual(exception.description, "[C-GLV] Contract gloves: 10 billed, 4 received")
        self.assertEqual(len(exception.activity_ids), 1)
