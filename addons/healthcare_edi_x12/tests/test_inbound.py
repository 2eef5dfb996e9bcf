from odoo.tests import tagged

from odoo.addons.contract_procurement.tests.common import ProcurementCase

from ..x12 import envelope
from . import samples
from .common import FACILITY_GLN, X12Mixin


@tagged("post_install", "-at_install")
class TestInbound(X12Mixin, ProcurementCase):
    """Interchanges through the gateway: each set its canonical message, each group a 997."""

    def setUp(self):
        super().setUp()
        self.po = self.purchase_order.name

    def _process(self, text, **kwargs):
        answer = self.receive_x12(text, **kwargs)
        self.assertEqual(answer.status, 202, answer.body)
        message = self.env["integration.message"].search(
            [("external_id", "=", answer.body["message_id"]), ("direction", "=", "inbound")]
        )
        self.run_jobs()
        children = self.env["integration.message"].browse(
            message.link_ids.filtered(lambda ln: ln.res_model == "integration.message").mapped(
                "res_id"
            )
        )
        for child in children:
            self.assertEqual(child.state, "done", f"{child.message_type}: {child.error}")
        return message

    def _last_997(self):
        acks = self.sent_997s()
        self.assertTrue(acks, "no 997 was queued")
        return envelope.parse(acks[-1])

    def test_855_with_a_price_change_becomes_an_acknowledgement_in_the_same_trace(self):
        segments = samples.ack_855(
            self.po, "AC", [("VN:MS-GLV-100", 10, 2.75, "IC"), ("C-MSK", 4, 7, "IA")]
        )
        segments[1:1] = [f"N1*ST*Main*UL*{FACILITY_GLN}"]
        message = self._process(self.interchange([("PR", 11, [("855", "0001", segments)])]))
        self.assertEqual(message.state, "done", message.error)
        child = message.link_ids.filtered(lambda ln: ln.res_model == "integration.message")
        canonical = self.env["integration.message"].browse(child.res_id)
        self.assertEqual(canonical.message_type, "purchase.acknowledgement")
        self.assertEqual(canonical.correlation_id, message.correlation_id)
        self.assertEqual(canonical.state, "done", canonical.error)
        self.assertEqual(self.purchase_order.ack_state, "discrepancy")
        self.assertIn("2.75", self.purchase_order.ack_discrepancies)
        document = self.documents(direction="inbound", set_type="855")
        self.assertEqual((document.state, document.canonical_message_id), ("accepted", canonical))
        group = self._last_997().groups[0]
        self.assertEqual(group.functional_id, "FA")
        self.assertEqual(len(group.sets), 1)
        self.assertIn("AK5*A~", self.sent_997s()[-1])
        self.assertIn("AK9*A*1*1*1~", self.sent_997s()[-1])

    def test_a_failing_set_is_rejected_alone_and_the_others_proceed(self):
        good = samples.ack_855(self.po, "AT", [("C-GLV", 10, 2.5, "IA")])
        unknown_item = samples.invoice_810(self.po, "INV-9", [("NOPE-1", 10, 2.5)])
        text = self.interchange(
            [("PR", 21, [("855", "0001", good)]), ("IN", 22, [("810", "0001", unknown_item)])],
            version="00501",
            sep="|",
            sub=":",
            rep="^",
        )
        message = self._process(text)
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.purchase_order.ack_state, "acknowledged")
        self.assertFalse(
            self.env["account.move"].search([("ref", "=", "INV-9")]), "the 810 had an effect"
        )
        rejected = self.documents(direction="inbound", set_type="810")
        self.assertEqual(rejected.state, "rejected")
        self.assertIn("IT1 (segment 3), element IT107: item NOPE-1", rejected.error)
        ack_text = self.sent_997s()[-1]
        self.assertIn("AK3*IT1*3**8~", ack_text)
        self.assertIn("AK4*7**7*NOPE-1~", ack_text)
        self.assertIn("AK5*R*5~", ack_text)
        self.assertIn("AK9*R*1*1*0~", ack_text)
        self.assertIn("AK9*A*1*1*1~", ack_text)
        self.assertTrue(message.activity_ids, "no exception for the integration team")
        self.assertIn("IT107", message.activity_ids[0].note)

    def test_unknown_gln_rejects_the_set(self):
        segments = samples.ack_855(self.po)
        segments[1:1] = ["N1*ST*Elsewhere*UL*5012345000053"]
        self._process(self.interchange([("PR", 3, [("855", "0001", segments)])]))
        self.assertEqual(self.purchase_order.ack_state, "sent")
        self.assertIn("AK4*4**7*5012345000053~", self.sent_997s()[-1])

    def test_bad_counts_are_answered_by_the_997(self):
        text = self.interchange([("PR", 4, [("855", "0001", samples.ack_855(self.po))])])
        self._process(text.replace("SE*5*0001", "SE*6*0001"))
        self.assertEqual(self.purchase_order.ack_state, "sent")
        self.assertIn("AK5*R*4~", self.sent_997s()[-1])

    def test_856_records_the_expected_shipment_on_the_receipt(self):
        items = [("C-GLV", 10, "LOT-7", "20271130", ()), ("C-MSK", 4, None, None, ("SN-1", "SN-2"))]
        segments = samples.notice_856(self.po, "SHIP-77", items)
        self._process(self.interchange([("SH", 5, [("856", "0001", segments)])]))
        notice = self.env["x12.ship.notice"].search([("name", "=", "SHIP-77")])
        self.assertEqual(len(notice.line_ids), 2)
        gloves = notice.line_ids.filtered(lambda ln: ln.product_id == self.gloves)
        self.assertEqual((gloves.lot_name, str(gloves.expiry_date)), ("LOT-7", "2027-11-30"))
        masks = notice.line_ids - gloves
        self.assertEqual(masks.serials, "SN-1\nSN-2")
        receipt = self.purchase_order.picking_ids
        self.assertEqual(receipt.x12_ship_notice_line_ids, notice.line_ids)
        self.assertEqual(set(notice.line_ids.mapped("match_state")), {"pending"})

    def test_997_marks_our_850_accepted_or_rejected(self):
        sent = self.documents(direction="outbound", set_type="850")
        self.assertEqual(sent.state, "sent")
        text = self.interchange(
            [
                (
                    "FA",
                    8,
                    [
                        (
                            "997",
                            "0001",
                            samples.fa_997(sent.group_control, sent.set_control, status="R"),
                        )
                    ],
                )
            ]
        )
        self._process(text)
        self.assertEqual(sent.state, "rejected")
        self.assertTrue(sent.acknowledged_at)

    def test_resent_interchange_is_a_duplicate(self):
        text = self.interchange([("PR", 9, [("855", "0001", samples.ack_855(self.po))])])
        first = self.receive_x12(text)
        again = self.receive_x12(text)  # a new webhook-id, the same ISA13
        self.assertEqual((first.status, again.status), (202, 200))
        self.assertEqual(again.body["message_id"], first.body["message_id"])
        changed = self.receive_x12(text.replace("20261120~", "20261121~", 1))
        self.assertEqual(changed.status, 422)

    def test_envelope_not_from_the_partner_gets_a_rejecting_ta1(self):
        text = self.interchange(
            [("PR", 1, [("855", "0001", samples.ack_855(self.po))])], sender="SOMEONEELSE"
        )
        message = self._process(text)
        self.assertEqual(self.purchase_order.ack_state, "sent")
        self.assertFalse(self.documents(direction="inbound"))
        self.assertIn(
            "TA1*000000001*261120*1005*R*006~",
            self.env["integration.message"]
            .search(
                [("direction", "=", "outbound"), ("message_type", "=", "x12.outbound")], limit=1
            )
            .payload,
        )
        self.assertTrue(message.activity_ids)

    def test_json_content_type_is_refused_for_x12(self):
        text = self.interchange([("PR", 1, [("855", "0001", samples.ack_855(self.po))])])
        answer = self.receive_x12(text, content_type="application/json")
        self.assertEqual((answer.status, answer.body["error"]["field"]), (415, "Content-Type"))

    def test_x12_content_type_is_refused_for_a_json_type(self):
        headers, body = self.signed({})
        headers["Content-Type"] = "application/edi-x12"
        answer = self.env["integration.gateway"]._receive(
            "integration.ping", headers, body, "application/edi-x12", len(body)
        )
        self.assertEqual((answer.status, answer.body["error"]["field"]), (415, "Content-Type"))

    def test_binary_body_is_refused_naming_the_body(self):
        for body in (b"ISA*\x00", b"\xff\xfeISA"):
            answer = self.receive_x12(body)
            self.assertEqual((answer.status, answer.body["error"]["field"]), (400, "body"))
