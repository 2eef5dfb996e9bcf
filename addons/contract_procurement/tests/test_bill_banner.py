import ast
import xml.etree.ElementTree as ET

from odoo import Command
from odoo.tests import tagged

from .common import ProcurementHttpCase


@tagged("post_install", "-at_install")
class TestBlockedBillQueues(ProcurementHttpCase):
    """What a blocked bill waits for, the filters that list it and the banner that says why."""

    def confirmed_order(self, qty=10, price=5.0, product=None):
        order = self.order(qty=qty, price=price, product=product)
        order.button_confirm()
        return order

    def bill(self, order, qty, price, ref):
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

    def filtered_by(self, filter_name, user):
        """The bills the search view's filter lists for ``user``, as the client asks."""
        Move = self.env["account.move"].with_user(user)
        arch = Move.get_view(self.env.ref("account.view_account_invoice_filter").id, "search")[
            "arch"
        ]
        node = ET.fromstring(arch).find(f".//filter[@name='{filter_name}']")
        self.assertIsNotNone(node, filter_name)
        return Move.search(ast.literal_eval(node.get("domain")))

    def test_bill_before_receipt_waits_for_the_receipt(self):
        order = self.confirmed_order()
        bill = self.bill(order, 10, 5.0, "Q-1")
        self.assertEqual((bill.match_state, bill.match_waiting_for), ("exception", "receipt"))
        self.assertIn(bill, self.filtered_by("filter_match_blocked", self.clerk))
        self.assertNotIn(bill, self.filtered_by("filter_match_to_approve", self.clerk))
        self.assertIn("when the receipt is validated", bill.match_block_message)
        self.assertIn("10 billed, 0 received", bill.match_block_message)
        picking = order.picking_ids
        picking.move_ids.quantity = 10
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual((bill.match_state, bill.match_waiting_for), ("matched", False))
        self.assertFalse(bill.match_block_message)
        self.assertNotIn(bill, self.filtered_by("filter_match_blocked", self.clerk))

    def test_price_variance_waits_for_a_decision_until_overridden(self):
        order = self.confirmed_order()
        picking = order.picking_ids
        picking.move_ids.quantity = 10
        picking.move_ids.picked = True
        picking.button_validate()
        bill = self.bill(order, 10, 6.0, "P-1")
        self.assertEqual(bill.match_waiting_for, "approval")
        for name in ("filter_match_to_approve", "filter_match_blocked", "filter_match_exception"):
            self.assertIn(bill, self.filtered_by(name, self.clerk), name)
        self.assertIn("Billed price above order price", bill.match_block_message)
        self.assertIn("a Finance Manager overrides", bill.match_block_message)
        wizard = (
            self.env["purchase.match.override"]
            .with_user(self.finance)
            .create({"move_id": bill.id, "reason": "Price rise agreed by phone"})
        )
        wizard.action_override_and_post()
        self.assertEqual((bill.match_state, bill.match_waiting_for), ("overridden", False))
        self.assertIn(bill, self.filtered_by("filter_match_overridden", self.clerk))
        self.assertNotIn(bill, self.filtered_by("filter_match_to_approve", self.clerk))

    def test_billed_beyond_the_order_is_not_left_to_the_receipt(self):
        order = self.confirmed_order(qty=10)
        bill = self.bill(order, 12, 5.0, "O-1")
        self.assertEqual(bill.match_waiting_for, "approval")
        self.assertEqual(bill.match_exception_ids.waiting_for, "approval")

    def test_split_lines_on_one_order_line_add_up(self):
        order = self.confirmed_order(qty=10)
        picking = order.picking_ids
        picking.move_ids.quantity = 6
        picking.move_ids.picked = True
        picking.with_context(cancel_backorder=True)._action_done()
        vals = order.order_line._prepare_account_move_line()
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": order.partner_id.id,
                "ref": "S-1",
                "invoice_date": self.day(0),
                "invoice_line_ids": [
                    Command.create(dict(vals, quantity=5, price_unit=5.0)),
                    Command.create(dict(vals, quantity=5, price_unit=5.0)),
                ],
            }
        )
        self.assertEqual(bill.match_state, "exception")
        self.assertEqual(
            set(bill.match_exception_ids.mapped("description")),
            {"[C-GLV] Contract gloves: 10 billed, 6 received"},
        )

    def test_supplier_text_in_the_banner_is_escaped(self):
        self.gloves.name = "<img src=x onerror=alert(1)>"
        order = self.confirmed_order()
        bill = self.bill(order, 10, 5.0, "X-1")
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", bill.match_block_message)
        self.assertNotIn("<img", bill.match_block_message)

    def test_the_bill_form_shows_the_banner_to_ap_and_buyers(self):
        for user in (self.clerk, self.buyer, self.finance):
            arch = (
                self.env["account.move"]
                .with_user(user)
                .get_views([(False, "form")])["views"]["form"]["arch"]
            )
            self.assertIn('name="match_blocked_banner"', arch, user.login)
            self.assertIn('name="match_block_message"', arch, user.login)

    def test_a_clerk_cannot_write_the_match_away(self):
        order = self.confirmed_order()
        bill = self.bill(order, 10, 5.0, "W-1")
        self.assertEqual(bill.match_waiting_for, "receipt")
        for vals in ({"match_state": "matched"}, {"match_waiting_for": False}):
            self.assertRefused("AccessError", self.clerk, "account.move", "write", [bill.id], vals)
        self.assertRefused("UserError", self.clerk, "account.move", "action_post", [bill.id])
        self.assertEqual(
            (bill.state, bill.match_state, bill.match_waiting_for),
            ("draft", "exception", "receipt"),
        )
