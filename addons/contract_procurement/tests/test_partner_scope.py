import json

from odoo import Command
from odoo.tests import tagged

from .common import ProcurementCase

XSS = "<img src=x onerror=alert(1)>"


@tagged("post_install", "-at_install")
class TestPartnerScope(ProcurementCase):
    """A partner system acts only for its suppliers and facilities, inside its company."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.partner.write(
            {
                "message_type_ids": [
                    Command.link(cls.env.ref(f"contract_procurement.message_type_{name}").id)
                    for name in ("purchase_request", "purchase_acknowledgement")
                ]
            }
        )

    def confirmed(self, supplier=None, qty=10, price=5.0):
        order = self.order(supplier=supplier, qty=qty, price=price)
        order.button_confirm()
        return order

    def ack_payload(self, order, item="C-GLV", price=5.0):
        return {
            "purchase_order": order.name,
            "order_version": max(order.order_version, 1),
            "status": "accepted",
            "lines": [{"item": item, "quantity": 10, "price": price}],
        }

    def assertForbidden(self, answer, field):
        self.assertEqual(answer.status, 403, answer.body)
        body = answer.body if isinstance(answer.body, dict) else json.loads(answer.body)
        self.assertEqual(body["error"]["field"], field)

    def test_acknowledging_another_suppliers_order_is_refused_at_the_gateway(self):
        order = self.confirmed(supplier=self.other_supplier)
        answer = self.receive(self.ack_payload(order), message_type="purchase.acknowledgement")
        self.assertForbidden(answer, "purchase_order")
        self.assertEqual(order.ack_state, "not_sent")
        self.assertFalse(order.ack_version)

    def test_partner_of_company_b_cannot_acknowledge_company_a_order(self):
        order = self.confirmed()
        # even registered for the same (shared) supplier, B acts inside company B only
        self.partner_b.supplier_ids = [Command.link(self.supplier.id)]
        answer = self.receive_as_b(self.ack_payload(order), "purchase.acknowledgement")
        self.assertForbidden(answer, "purchase_order")
        self.assertFalse(order.ack_version)
        self.assertFalse(
            self.env["integration.message"].search([("partner_id", "=", self.partner_b.id)])
        )

    def test_vendor_bill_for_another_company_order_creates_nothing(self):
        self.order_b.button_confirm()
        answer = self.receive(
            {
                "purchase_order": self.order_b.name,
                "invoice_number": "X-1",
                "lines": [{"item": "C-GLV", "quantity": 5, "price": 3.0}],
            },
            message_type="vendor.bill",
        )
        self.assertForbidden(answer, "purchase_order")
        self.assertFalse(self.env["account.move"].search([("ref", "=", "X-1")]))

    def test_supplier_status_and_contract_for_foreign_supplier_are_refused(self):
        answer = self.receive(
            {"supplier": "SUP-2", "action": "approve"}, message_type="supplier.status"
        )
        self.assertForbidden(answer, "supplier")
        answer = self.receive(
            {
                "contract": "CP-FOREIGN",
                "supplier": "SUP-B",
                "start_date": str(self.day(-1)),
                "lines": [{"item": "C-GLV", "price": 0.01}],
            },
            message_type="contract.upsert",
        )
        self.assertForbidden(answer, "supplier")
        self.assertFalse(
            self.env["purchase.contract"].search([("external_ref", "=", "CP-FOREIGN")])
        )

    def test_purchase_request_for_a_facility_not_the_partners_is_refused(self):
        answer = self.receive(
            {
                "request": "R-B",
                "facility": self.warehouse_b.code,
                "lines": [{"item": "C-GLV", "quantity": 1}],
            },
            message_type="purchase.request",
        )
        self.assertForbidden(answer, "facility")
        answer = self.receive(
            {
                "contract": "CP-FAC",
                "supplier": "SUP-1",
                "start_date": str(self.day(-1)),
                "facilities": [self.warehouse.code, self.warehouse_b.code],
                "lines": [{"item": "C-GLV", "price": 1.0}],
            },
            message_type="contract.upsert",
        )
        self.assertForbidden(answer, "facilities[1]")

    def test_handler_rechecks_the_order_scope_when_it_runs(self):
        order = self.confirmed()
        msg_id = self.new_id()
        answer = self.receive(
            self.ack_payload(order), message_type="purchase.acknowledgement", msg_id=msg_id
        )
        self.assertEqual(answer.status, 202, answer.body)
        # the partner loses the supplier between intake and processing
        self.partner.supplier_ids = [Command.clear()]
        self.run_jobs()
        message = self.message(msg_id)
        self.assertEqual((message.state, message.error_field), ("exception", "purchase_order"))
        self.assertFalse(order.ack_version)

    def test_contract_upsert_never_touches_another_companys_contract(self):
        # company B has a contract with the same platform reference
        message_id = self.new_id()
        self.receive(
            {
                "contract": "CP-SHARED",
                "supplier": "SUP-1",
                "start_date": str(self.day(-1)),
                "state": "active",
                "lines": [{"item": "C-GLV", "price": 0.5}],
            },
            message_type="contract.upsert",
            msg_id=message_id,
        )
        self.run_jobs()
        self.assertEqual(self.message(message_id).state, "done", self.message(message_id).error)
        self.assertEqual(
            (self.contract_b.partner_id, self.contract_b.line_ids.price, self.contract_b.state),
            (self.supplier_b, 3.0, "draft"),
        )
        own = self.env["purchase.contract"].search(
            [("external_ref", "=", "CP-SHARED"), ("company_id", "=", self.env.company.id)]
        )
        self.assertEqual((own.partner_id, own.state), (self.supplier, "active"))

    def test_products_of_another_company_are_unknown(self):
        self.env["product.product"].create(
            {"name": "B only", "default_code": "B-ONLY", "company_id": self.company_b.id}
        )
        msg_id = self.new_id()
        self.receive(
            {
                "request": "R-1",
                "facility": self.warehouse.code,
                "lines": [{"item": "B-ONLY", "quantity": 1}],
            },
            message_type="purchase.request",
            msg_id=msg_id,
        )
        self.run_jobs()
        message = self.message(msg_id)
        self.assertEqual((message.state, message.error_field), ("exception", "lines[0].item"))
        self.assertFalse(self.env["purchase.order"].search([("origin", "=", "R-1")]))

    def test_acknowledgement_note_escapes_partner_markup(self):
        order = self.confirmed()
        msg_id = self.new_id()
        self.receive(
            self.ack_payload(order, item=XSS),
            message_type="purchase.acknowledgement",
            msg_id=msg_id,
        )
        self.run_jobs()
        self.assertEqual(order.ack_state, "discrepancy")
        note = str(order.activity_ids.note)
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", note)
        self.assertNotIn("<img", note)

    def test_supplier_document_names_are_escaped_in_the_buyers_note(self):
        msg_id = self.new_id()
        self.receive(
            {
                "supplier": "SUP-1",
                "action": "approve",
                "documents": [{"name": XSS, "type": "licence", "expiry_date": str(self.day(-1))}],
            },
            message_type="supplier.status",
            msg_id=msg_id,
        )
        self.run_jobs()
        self.assertEqual(self.message(msg_id).state, "done", self.message(msg_id).error)
        self.env["res.partner.supplier.document"]._cron_check_expiry()
        self.assertEqual(self.supplier.supplier_status, "suspended")
        note = str(self.supplier.activity_ids.note)
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", note)
        self.assertNotIn("<img", note)
