import json

from odoo.tests import tagged

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestProcurementMessages(ProcurementCase):
    def process(self, message_type, payload):
        msg_id = self.new_id()
        answer = self.receive(payload, message_type=message_type, msg_id=msg_id)
        self.assertEqual(answer.status, 202, answer.body)
        self.run_jobs()
        return self.message(msg_id)

    def test_contract_upsert_creates_active_contract_then_updates_it(self):
        payload = {
            "contract": "CP-100",
            "supplier": "SUP-1",
            "start_date": str(self.day(-1)),
            "end_date": str(self.day(200)),
            "state": "active",
            "lines": [
                {"item": "C-GLV", "price": 4.2, "price_breaks": [{"min_qty": 500, "price": 3.9}]}
            ],
        }
        message = self.process("contract.upsert", payload)
        self.assertEqual(message.state, "done", message.error)
        contract = self.env["purchase.contract"].search([("external_ref", "=", "CP-100")])
        self.assertEqual(contract.state, "active")
        self.assertEqual(self.order(qty=600).order_line.contract_price, 3.9)
        self.assertEqual(self.order(qty=10).order_line.price_unit, 4.2)
        payload["lines"][0]["price"] = 4.0
        self.process("contract.upsert", payload)
        self.assertEqual(
            len(self.env["purchase.contract"].search([("external_ref", "=", "CP-100")])), 1
        )
        self.assertEqual(contract.line_ids.price, 4.0)
        self.assertEqual(contract.state, "active")

    def test_unknown_product_is_exception_then_replay(self):
        payload = {
            "contract": "CP-200",
            "supplier": "SUP-1",
            "start_date": str(self.day(-1)),
            "lines": [{"item": "NEW-ITEM", "price": 1.0}],
        }
        message = self.process("contract.upsert", payload)
        self.assertEqual((message.state, message.error_field), ("exception", "lines[0].item"))
        self.assertTrue(message.activity_ids)
        self.env["product.product"].create({"name": "New item", "default_code": "NEW-ITEM"})
        message.action_replay()
        self.run_jobs()
        self.assertEqual(message.state, "done")

    def test_supplier_status_blocks_with_documents(self):
        message = self.process(
            "supplier.status",
            {
                "supplier": "SUP-1",
                "action": "block",
                "reason": "recall investigation",
                "documents": [
                    {"name": "ISO 13485", "type": "certificate", "expiry_date": str(self.day(90))}
                ],
            },
        )
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.supplier.supplier_status, "blocked")
        self.assertEqual(self.supplier.supplier_document_ids.name, "ISO 13485")

    def test_vendor_bill_message_creates_matched_draft(self):
        order = self.order(qty=10, price=5.0)
        order.button_confirm()
        message = self.process(
            "vendor.bill",
            {
                "purchase_order": order.name,
                "invoice_number": "AP-9",
                "lines": [{"item": "C-GLV", "quantity": 10, "price": 5.0}],
            },
        )
        self.assertEqual(message.state, "done", message.error)
        result = json.loads(message.result)
        self.assertEqual(result["exceptions"], ["qty_not_received"])  # nothing received yet
        bill = self.env["account.move"].search([("ref", "=", "AP-9")])
        self.assertEqual(bill.state, "draft")
        self.assertEqual(bill.invoice_line_ids.purchase_line_id, order.order_line)
