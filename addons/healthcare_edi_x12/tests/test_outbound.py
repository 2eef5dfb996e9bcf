from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.contract_procurement.tests.common import ProcurementCase

from ..x12 import documents, envelope
from .common import X12Mixin


@tagged("post_install", "-at_install")
class TestOutbound(X12Mixin, ProcurementCase):
    """Orders to an X12 partner leave as 850s that read back to the same order."""

    def _850s(self, order):
        return self.env["integration.message"].search(
            [
                ("direction", "=", "outbound"),
                ("message_type", "=", "x12.outbound"),
                ("link_ids.res_model", "=", "purchase.order"),
                ("link_ids.res_id", "=", order.id),
            ],
            order="id",
        )

    def test_confirmed_order_leaves_as_an_850_that_reads_back(self):
        messages = self._850s(self.purchase_order)
        self.assertEqual(len(messages), 1)
        self.assertEqual(messages.message_type_id.payload_format, "x12")
        interchange = envelope.parse(messages.payload)
        self.assertEqual(interchange.codes, [])
        transaction = interchange.groups[0].sets[0]
        self.assertTrue(transaction.accepted)
        expected = {
            key: value
            for key, value in self.purchase_order._x12_order_values().items()
            if value is not None
        }
        self.assertEqual(documents.read_850(transaction), expected)
        self.assertEqual(expected["ship_to_gln"], self.warehouse.gln)
        self.assertEqual(expected["lines"][0]["ids"]["UK"], "06291041500213")
        self.assertEqual(self.purchase_order.x12_document_ids.set_type, "850")

    def test_change_is_a_new_850_revision_with_higher_control_numbers(self):
        self.purchase_order.order_line[0].product_qty = 12
        first, second = self._850s(self.purchase_order)
        one, two = envelope.parse(first.payload), envelope.parse(second.payload)
        self.assertGreater(int(two.control), int(one.control))
        self.assertGreater(int(two.groups[0].control), int(one.groups[0].control))
        self.assertGreater(int(two.groups[0].sets[0].control), int(one.groups[0].sets[0].control))
        revised = documents.read_850(two.groups[0].sets[0])
        self.assertEqual((revised["purpose"], revised["order_version"]), ("replace", 2))
        self.assertEqual(revised["lines"][0]["quantity"], 12.0)

    def test_version_005010_per_partner(self):
        self.partner.x12_version = "00501"
        order = self.order(qty=3, price=2.5)
        order.button_confirm()
        interchange = envelope.parse(self._850s(order).payload)
        self.assertEqual((interchange.version, interchange.groups[0].version), ("00501", "005010"))

    def test_facility_without_gln_cannot_send_x12(self):
        self.warehouse.gln = False
        order = self.order(qty=3, price=2.5)
        with self.assertRaisesRegex(UserError, "has no GLN"):
            order.button_confirm()

    def test_json_partner_still_gets_json(self):
        self.partner.x12_enabled = False
        order = self.order(qty=3, price=2.5)
        order.button_confirm()
        message = self.env["integration.message"].search(
            [("direction", "=", "outbound"), ("external_id", "like", f"po_{order.id}_v")]
        )
        self.assertEqual(message.message_type, "purchase.order")

    def test_order_with_supplier_account_number(self):
        self.env["x12.supplier.account"].create(
            {
                "partner_id": self.supplier.id,
                "warehouse_id": self.warehouse.id,
                "account_number": "AC-77",
            }
        )
        order = self.order(qty=1, price=2.5)
        order.write(
            {"order_line": [Command.create({"product_id": self.mask.id, "product_qty": 2})]}
        )
        order.button_confirm()
        text = self._850s(order).payload
        self.assertIn("REF*11*AC-77~", text)
