from odoo.tests import tagged

from odoo.addons.contract_procurement.tests.common import ProcurementCase

from . import samples
from .common import X12Mixin


@tagged("post_install", "-at_install")
class TestX12Story(X12Mixin, ProcurementCase):
    """An X12-only supplier takes the order, acknowledges a price change, ships with lots,
    and invoices one line over price: one trace shows every document."""

    def _process(self, text, cid):
        answer = self.receive_x12(text, correlation_id=cid)
        self.assertEqual(answer.status, 202, answer.body)
        self.run_jobs()

    def test_order_to_three_way_match_in_one_trace(self):
        order = self.purchase_order
        self.gloves.tracking = "lot"
        sent = self.env["integration.message"].search(
            [("message_type", "=", "x12.outbound"), ("link_ids.res_id", "=", order.id)]
        )
        cid = sent.correlation_id
        po = order.name
        # 855: the masks at 7.25 instead of 7.00
        ack = samples.ack_855(
            po, "AC", [("VN:MS-GLV-100", 10, 2.5, "IA"), ("C-MSK", 4, 7.25, "IC")]
        )
        self._process(self.interchange([("PR", 1, [("855", "0001", ack)])], control=1), cid)
        self.assertEqual(order.ack_state, "discrepancy")
        self.assertTrue(order.activity_ids.filtered(lambda a: "discrepancy" in (a.summary or "")))
        # 856: the gloves in lot LOT-S1, the masks untracked
        items = [("UK:06291041500213", 10, "LOT-S1", "20280131", ()), ("C-MSK", 4, None, None, ())]
        notice_segments = samples.notice_856(po, "SHIP-S1", items)
        self._process(
            self.interchange([("SH", 2, [("856", "0001", notice_segments)])], control=2), cid
        )
        notice = self.env["x12.ship.notice"].search([("name", "=", "SHIP-S1")])
        receipt = order.picking_ids
        self.assertEqual(receipt.x12_ship_notice_line_ids, notice.line_ids)
        # the goods arrive as announced
        for move in receipt.move_ids:
            move.quantity = move.product_uom_qty
            if move.product_id == self.gloves:
                move.move_line_ids.lot_name = "LOT-S1"
        receipt.button_validate()
        self.assertEqual(set(notice.line_ids.mapped("match_state")), {"matched"})
        # 810: the masks billed at 7.50 (over the 7.00 ordered)
        invoice = samples.invoice_810(po, "INV-S1", [("VN:MS-GLV-100", 10, 2.5), ("C-MSK", 4, 7.5)])
        self._process(self.interchange([("IN", 3, [("810", "0001", invoice)])], control=3), cid)
        bill = self.env["account.move"].search([("ref", "=", "INV-S1")])
        self.assertEqual(len(bill), 1)
        flagged = bill.match_exception_ids
        self.assertEqual(flagged.purchase_line_id.product_id, self.mask)
        # one trace: the 850, every interchange, every canonical message and 997
        trace = self.env["integration.message"].search([("correlation_id", "=", cid)])
        self.assertEqual(
            set(trace.mapped("message_type")),
            {
                "x12.outbound",
                "x12.interchange",
                "purchase.acknowledgement",
                "ship.notice",
                "vendor.bill",
            },
        )
        documents = self.documents(correlation_id=cid)
        self.assertEqual(
            sorted(documents.mapped("set_type")), ["810", "850", "855", "856", "997", "997", "997"]
        )
