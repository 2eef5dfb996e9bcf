from odoo import Command
from odoo.tests import tagged

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestPurchaseAuditStory(ProcurementCase):
    """ "Audit Trail" on an order, a receipt or a bill follows the whole purchase."""

    def _order_received_and_billed(self):
        order = self.order(qty=4, price=5.0)
        order.button_confirm()
        picking = order.picking_ids
        picking.move_ids.quantity = 4
        picking.move_ids.picked = True
        picking.with_context(cancel_backorder=False)._action_done()
        vals = order.order_line._prepare_account_move_line()
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": order.partner_id.id,
                "ref": "INV-STORY",
                "invoice_date": self.day(0),
                "invoice_line_ids": [Command.create(vals)],
            }
        )
        return order, picking, bill

    def test_story_of_order_receipt_and_bill_is_the_same(self):
        order, picking, bill = self._order_received_and_billed()
        expected = {
            "purchase.order": set(order.ids),
            "stock.picking": set(picking.ids),
            "account.move": set(bill.ids),
        }
        Event = self.env["integration.audit.event"]
        for start in (order, picking, bill):
            story = Event._story_records(start)
            self.assertEqual(
                {model: ids for model, ids in story.items() if model in expected},
                expected,
                start._name,
            )

    def test_trail_of_an_order_shows_its_bills_events(self):
        order, _picking, bill = self._order_received_and_billed()
        bill.write({"ref": "INV-STORY-2"})
        action = self.env["integration.audit.event"].action_trace_records(order)
        events = self.env["integration.audit.event"].search(action["domain"])
        self.assertIn(
            ("account.move", bill.id),
            set(zip(events.mapped("res_model"), events.mapped("res_id"), strict=True)),
        )
        self.assertIn(
            ("purchase.order", order.id),
            set(zip(events.mapped("res_model"), events.mapped("res_id"), strict=True)),
        )
