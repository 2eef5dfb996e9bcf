import json

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.integration_queue import signing
from odoo.addons.integration_queue.tests.common import allow_local_outbound, start_recorder

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestTransmissionAndAcknowledgement(ProcurementCase):
    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.endpoint = start_recorder()
        cls.addClassCleanup(cls.endpoint.shutdown)
        allow_local_outbound(cls.env)
        cls.portal = cls.env["integration.partner"].create(
            {
                "code": "SUP-1-PORTAL",
                "name": "MedSupply portal",
                "outbound_url": f"http://127.0.0.1:{cls.endpoint.server_address[1]}/orders",
                "message_type_ids": [
                    Command.link(
                        cls.env.ref("contract_procurement.message_type_purchase_acknowledgement").id
                    )
                ],
            }
        )
        cls.portal_secret = signing.generate_secret()
        cls.env["integration.partner.secret"]._store(cls.portal, cls.portal_secret)
        cls.supplier.integration_partner_id = cls.portal
        cls.partner.write(
            {
                "message_type_ids": [
                    Command.link(
                        cls.env.ref("contract_procurement.message_type_purchase_request").id
                    ),
                    Command.link(
                        cls.env.ref("contract_procurement.message_type_purchase_acknowledgement").id
                    ),
                ]
            }
        )

    def setUp(self):
        super().setUp()
        self.endpoint.received.clear()

    def confirmed(self, qty=10, price=5.0):
        order = self.order(qty=qty, price=price)
        order.button_confirm()
        self.run_jobs()
        return order

    def test_confirmation_sends_signed_canonical_order_with_version(self):
        order = self.confirmed()
        self.assertEqual((order.order_version, order.ack_state), (1, "sent"))
        headers, body = self.endpoint.received[-1]
        signing.verify(
            [self.portal_secret],
            headers["webhook-id"],
            headers["webhook-timestamp"],
            body,
            headers["webhook-signature"],
        )
        payload = json.loads(body)
        self.assertEqual((payload["purchase_order"], payload["order_version"]), (order.name, 1))
        self.assertEqual(payload["lines"][0]["item"], "C-GLV")
        self.assertEqual(payload["lines"][0]["quantity"], 10)

    def test_change_after_confirmation_raises_version_and_resends(self):
        order = self.confirmed()
        order.order_line.product_qty = 12
        self.run_jobs()
        self.assertEqual(order.order_version, 2)
        self.assertEqual(
            [json.loads(b)["order_version"] for _h, b in self.endpoint.received], [1, 2]
        )

    def ack(self, order, version, status="accepted", **line):
        payload = {
            "purchase_order": order.name,
            "order_version": version,
            "status": status,
            "lines": [dict({"item": "C-GLV", "quantity": 10, "price": 5.0}, **line)],
        }
        msg_id = self.new_id()
        answer = self.receive(payload, message_type="purchase.acknowledgement", msg_id=msg_id)
        self.assertEqual(answer.status, 202, answer.body)
        self.run_jobs()
        return self.message(msg_id)

    def test_acknowledgement_states_and_discrepancies(self):
        order = self.confirmed()
        self.ack(order, 1)
        self.assertEqual(order.ack_state, "acknowledged")
        self.assertTrue(order.ack_date)
        self.ack(order, 1, price=5.5)
        self.assertEqual(order.ack_state, "discrepancy")
        self.assertIn("price", order.ack_discrepancies)
        self.assertTrue(order.activity_ids)
        self.ack(order, 1, status="rejected")
        self.assertEqual(order.ack_state, "rejected")

    def test_older_version_acknowledgement_does_not_overwrite(self):
        order = self.confirmed()
        order.order_line.product_qty = 12
        self.run_jobs()
        self.ack(order, 2, quantity=12)
        self.assertEqual((order.ack_state, order.ack_version), ("acknowledged", 2))
        stale = self.ack(order, 1, price=9.0)
        self.assertEqual(stale.state, "done")
        self.assertTrue(json.loads(stale.result)["stale"])
        self.assertEqual((order.ack_state, order.ack_version), ("acknowledged", 2))

    def test_purchase_request_groups_by_contract_supplier(self):
        self.activate(self.make_contract(supplier=self.supplier, product=self.gloves, price=4.0))
        self.mask.seller_ids = [(0, 0, {"partner_id": self.other_supplier.id, "price": 2.0})]
        msg_id = self.new_id()
        self.receive(
            {
                "request": "EHR-REQ-9",
                "facility": self.warehouse.code,
                "lines": [{"item": "C-GLV", "quantity": 40}, {"item": "C-MSK", "quantity": 15}],
            },
            message_type="purchase.request",
            msg_id=msg_id,
        )
        self.run_jobs()
        message = self.message(msg_id)
        self.assertEqual(message.state, "done", message.error)
        orders = self.env["purchase.order"].search([("origin", "=", "EHR-REQ-9")])
        self.assertEqual(set(orders.partner_id.ids), {self.supplier.id, self.other_supplier.id})
        gloves_line = orders.order_line.filtered(lambda ln: ln.product_id == self.gloves)
        self.assertEqual((gloves_line.product_qty, gloves_line.price_unit), (40, 4.0))
        self.assertEqual(set(orders.mapped("state")), {"draft"})

    def test_approval_rule_routes_to_the_right_approver(self):
        director = self.env["res.groups"].create({"name": "Test Medical Director"})
        self.env["purchase.approval.rule"].create(
            {"name": "Big orders", "min_amount": 1000, "group_id": director.id}
        )
        small = self.order(qty=10, price=5.0)
        big = self.order(qty=300, price=5.0)
        self.assertFalse(small.approval_group_ids)
        self.assertEqual(big.approval_group_ids, director)
        with self.assertRaisesRegex(UserError, "Test Medical Director"):
            big.button_confirm()
        with self.assertRaises(AccessError):
            big.with_user(self.buyer).action_approve_order()
        self.buyer.groups_id = [Command.link(director.id)]
        big.with_user(self.buyer).action_approve_order()
        big.button_confirm()
        self.assertEqual(big.state, "purchase")
