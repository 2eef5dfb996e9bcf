from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ProcurementCase, ProcurementHttpCase

PROCUREMENT_MANAGER = "contract_procurement.group_procurement_manager"


class ReviewHolesMixin:
    """An approval rule from 10,000 (Procurement Manager) and helpers for its orders."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.env["purchase.approval.rule"].create(
            {
                "name": "Large orders",
                "min_amount": 10000,
                "group_id": cls.env.ref(PROCUREMENT_MANAGER).id,
            }
        )
        # a new buyer is notified by mail: its author needs an address
        for user in cls.buyer | cls.manager_a | cls.manager_b | cls.purchase_manager:
            user.email = f"{user.login}@example.com"

    def order_vals(self, supplier=None, qty=1000, price=50.0):
        return {
            "partner_id": (supplier or self.supplier).id,
            "picking_type_id": self.warehouse.in_type_id.id,
            "order_line": [
                Command.create(
                    {"product_id": self.gloves.id, "product_qty": qty, "price_unit": price}
                )
            ],
        }

    def big_order(self, supplier=None, user=None):
        """A draft order of 50,000, made by ``user`` (its buyer) or the superuser."""
        Order = self.env["purchase.order"]
        if user:
            Order = Order.with_user(user)
        return Order.create(self.order_vals(supplier)).with_env(self.env)


@tagged("post_install", "-at_install")
class TestReviewHolesRpc(ReviewHolesMixin, ProcurementHttpCase):
    """Holes a hostile review found, attacked over JSON-RPC as the role named."""

    # 1. confirming without the checks -----------------------------------------

    def test_purchase_user_cannot_confirm_a_blocked_suppliers_order_by_writing_its_state(self):
        self.supplier.with_user(self.manager_a).action_supplier_block()
        order = self.big_order()
        for state in ("purchase", "done", "to approve"):
            self.assertRefused(
                "AccessError", self.buyer, "purchase.order", "write", [order.id], {"state": state}
            )
        self.assertRefused(
            "AccessError",
            self.buyer,
            "purchase.order",
            "create",
            [dict(self.order_vals(), state="purchase", order_line=[])],
        )
        self.assertEqual((order.state, order.approved_by_id.id), ("draft", False))
        self.assertFalse(order.picking_ids)

    def test_purchase_user_cannot_confirm_a_blocked_suppliers_order_with_button_approve(self):
        self.supplier.with_user(self.manager_a).action_supplier_block()
        order = self.big_order()
        self.assertRefused("UserError", self.buyer, "purchase.order", "button_approve", [order.id])
        # Odoo's lock and unlock buttons write the state too: not a way to confirm
        for method in ("button_unlock", "button_done"):
            self.assertRefused("AccessError", self.buyer, "purchase.order", method, [order.id])
        self.assertEqual((order.state, order.approved_by_id.id), ("draft", False))
        # an approved supplier, but no approval of the 50,000: still refused
        self.supplier.with_user(self.manager_a).action_supplier_approve()
        self.assertRefused("UserError", self.buyer, "purchase.order", "button_approve", [order.id])
        self.assertEqual(order.state, "draft")

    def test_approved_order_confirms_receives_bills_and_cancels_as_before(self):
        order = self.big_order(user=self.buyer)
        self.rpc(self.manager_a, "purchase.order", "action_approve_order", [order.id])
        self.rpc(self.buyer, "purchase.order", "button_confirm", [order.id])
        self.assertEqual((order.state, order.approved_by_id), ("purchase", self.manager_a))
        picking = order.picking_ids
        self.assertEqual(picking.move_ids.product_uom_qty, 1000)
        picking.move_ids.quantity = 1000
        picking.move_ids.picked = True
        picking._action_done()
        self.assertEqual(order.order_line.qty_received, 1000)
        vals = order.order_line._prepare_account_move_line()
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": order.partner_id.id,
                "ref": "HOLES-1",
                "invoice_date": self.day(0),
                "invoice_line_ids": [Command.create(vals)],
            }
        )
        bill._run_three_way_match()
        bill.action_post()
        self.assertEqual((bill.state, order.invoice_status), ("posted", "invoiced"))
        # lock / unlock, and cancel then reset to draft: Odoo's own transitions still work
        self.rpc(self.purchase_manager, "purchase.order", "button_done", [order.id])
        self.rpc(self.purchase_manager, "purchase.order", "button_unlock", [order.id])
        other = self.big_order(user=self.buyer)
        self.rpc(self.buyer, "purchase.order", "button_cancel", [other.id])
        self.rpc(self.buyer, "purchase.order", "button_draft", [other.id])
        self.assertEqual((order.state, other.state), ("purchase", "draft"))

    def test_two_step_validation_is_approved_on_the_draft_and_checked_at_confirmation(self):
        """Odoo's two-step validation is one more approval rule (readme/USAGE.md): the
        draft is approved with four eyes, Confirm Order then checks everything again."""
        self.env.company.write(
            {"po_double_validation": "two_step", "po_double_validation_amount": 1000}
        )
        order = self.big_order(user=self.buyer)
        self.assertRefused("UserError", self.buyer, "purchase.order", "button_confirm", [order.id])
        self.assertRefused("UserError", self.buyer, "purchase.order", "button_approve", [order.id])
        self.rpc(self.manager_a, "purchase.order", "action_approve_order", [order.id])
        self.supplier.with_user(self.manager_a).action_supplier_block()
        self.assertRefused("UserError", self.buyer, "purchase.order", "button_confirm", [order.id])
        self.assertEqual(order.state, "draft")
        self.supplier.with_user(self.manager_a).action_supplier_approve()
        self.rpc(self.buyer, "purchase.order", "button_confirm", [order.id])
        self.assertEqual(order.state, "purchase")
        self.assertTrue(order.picking_ids)

    # 2. approving one's own order --------------------------------------------

    def test_procurement_manager_cannot_approve_his_own_order_via_a_colleague_as_buyer(self):
        order_id = self.rpc(self.manager_a, "purchase.order", "create", self.order_vals())
        self.rpc(
            self.manager_a, "purchase.order", "write", [order_id], {"user_id": self.manager_b.id}
        )
        self.assertRefused(
            "UserError", self.manager_a, "purchase.order", "action_approve_order", [order_id]
        )
        order = self.env["purchase.order"].browse(order_id)
        self.assertFalse(order.approved_by_id)

    def test_changing_the_buyer_voids_the_order_approval(self):
        order = self.big_order(user=self.buyer)
        self.rpc(self.manager_a, "purchase.order", "action_approve_order", [order.id])
        self.assertEqual(order.approved_by_id, self.manager_a)
        self.rpc(self.buyer, "purchase.order", "write", [order.id], {"user_id": self.manager_b.id})
        self.assertFalse(order.approved_by_id)
        # the new buyer cannot approve it either, nor can it be confirmed unapproved
        self.assertRefused(
            "UserError", self.manager_b, "purchase.order", "action_approve_order", [order.id]
        )
        self.assertRefused("UserError", self.buyer, "purchase.order", "button_confirm", [order.id])
        self.assertEqual(order.state, "draft")

    def test_off_contract_approval_checks_creator_and_buyer_and_voids_on_buyer_change(self):
        self.activate(self.make_contract(supplier=self.supplier, price=10.0))
        vals = self.order_vals(supplier=self.other_supplier, qty=10, price=9.0)
        order_id = self.rpc(
            self.manager_a, "purchase.order", "create", dict(vals, off_contract_reason="urgent")
        )
        order = self.env["purchase.order"].browse(order_id)
        self.assertTrue(order.has_off_contract)
        self.rpc(
            self.manager_a, "purchase.order", "write", [order_id], {"user_id": self.manager_b.id}
        )
        self.assertRefused(
            "UserError", self.manager_a, "purchase.order", "action_approve_off_contract", [order_id]
        )
        self.assertFalse(order.off_contract_approved_by_id)
        # a third person approves; then the buyer changes: the approval is void
        manager_c = self._user("proc-c", PROCUREMENT_MANAGER)
        manager_c.email = "proc-c@example.com"
        self.rpc(manager_c, "purchase.order", "action_approve_off_contract", [order_id])
        self.assertEqual(order.off_contract_approved_by_id, manager_c)
        self.rpc(self.manager_a, "purchase.order", "write", [order_id], {"user_id": self.buyer.id})
        self.assertFalse(order.off_contract_approved_by_id)

    # 3. validity of an approved contract -------------------------------------

    def test_purchase_user_changing_an_active_contracts_terms_sends_it_back_to_review(self):
        for field, value in (
            ("date_end", str(self.day(3650))),
            ("date_start", str(self.day(-3650))),
            ("partner_id", self.other_supplier.id),
        ):
            with self.subTest(field=field):
                contract = self.activate(self.make_contract())
                self.assertEqual(contract.state, "active")
                self.rpc(self.buyer, "purchase.contract", "write", [contract.id], {field: value})
                self.assertEqual(
                    (contract.state, contract.approved_by_id.id, contract.submitted_by_id),
                    ("review", False, self.buyer),
                )
                prices = self.env["product.supplierinfo"].search(
                    [("contract_line_id", "in", contract.line_ids.ids)]
                )
                self.assertFalse(prices, "vendor prices wait for a new approval")

    # 4. confirming an order of a connected supplier ----------------------------

    def test_procurement_manager_without_integration_group_confirms_a_connected_order(self):
        self.assertFalse(self.manager_a.has_group("integration_queue.group_integration_user"))
        self.partner.outbound_url = "https://supplier.example/orders"
        self.supplier.integration_partner_id = self.partner
        order = self.order(qty=10, price=5.0)
        self.rpc(self.manager_a, "purchase.order", "button_confirm", [order.id])
        self.assertEqual(
            (order.state, order.order_version, order.ack_state), ("purchase", 1, "sent")
        )
        sent = self.env["integration.message"].search(
            [("partner_id", "=", self.partner.id), ("direction", "=", "outbound")]
        )
        self.assertEqual(sent.message_type, "purchase.order")
        # the partner's configuration stays out of his reach
        self.assertRefused(
            "AccessError",
            self.manager_a,
            "integration.partner",
            "read",
            [self.partner.id],
            ["outbound_url"],
        )

    # 5. trusting a contract platform ------------------------------------------

    def test_only_a_procurement_manager_trusts_a_contract_platform(self):
        integration_manager = self._user("int-mgr", "integration_queue.group_integration_manager")
        self.partner.with_user(self.manager_a).action_distrust_contract_platform()
        self.assertRefused(
            "AccessError",
            integration_manager,
            "integration.partner",
            "write",
            [self.partner.id],
            {"trusted_contract_platform": True},
        )
        for user in (integration_manager, self.buyer):
            self.assertRefused(
                "AccessError",
                user,
                "integration.partner",
                "action_trust_contract_platform",
                [self.partner.id],
            )
        self.assertFalse(self.partner.trusted_contract_platform)
        self.rpc(
            self.manager_a,
            "integration.partner",
            "action_trust_contract_platform",
            [self.partner.id],
        )
        self.assertTrue(self.partner.trusted_contract_platform)
        events = self.env["integration.audit.event"].search(
            [
                ("res_model", "=", "integration.partner"),
                ("res_id", "=", self.partner.id),
                ("summary", "ilike", "trusted as a contract platform"),
            ]
        )
        self.assertEqual(len(events), 3)  # set up, distrusted, trusted again


@tagged("post_install", "-at_install")
class TestReviewHolesMessages(ReviewHolesMixin, ProcurementCase):
    """5. A partner's messages never approve in a person's place (run as the cron does)."""

    def process(self, message_type, payload):
        msg_id = self.new_id()
        answer = self.receive(payload, message_type=message_type, msg_id=msg_id)
        self.assertEqual(answer.status, 202, answer.body)
        self.run_jobs()
        return self.message(msg_id)

    def status_message(self, action, expiry="2099-12-31"):
        return self.process(
            "supplier.status",
            {
                "supplier": "SUP-1",
                "action": action,
                "reason": "all good",
                "documents": [{"name": "ISO 13485", "type": "certificate", "expiry_date": expiry}],
            },
        )

    def test_a_partner_message_never_lifts_a_block_set_by_a_person(self):
        self.supplier.with_user(self.manager_a).action_supplier_block()
        for action in ("approve", "suspend"):
            message = self.status_message(action)
            self.assertEqual((message.state, message.error_field), ("exception", "action"))
            self.assertTrue(message.activity_ids)
            self.assertEqual(
                (self.supplier.supplier_status, self.supplier.supplier_hold_by_id),
                ("blocked", self.manager_a),
            )
            self.assertFalse(self.supplier.supplier_document_ids)
        with self.assertRaises(AccessError):
            self.supplier.write({"supplier_hold_by_id": False})
        # a Procurement Manager lifts it; then the partner's own status applies again
        self.supplier.with_user(self.manager_b).action_supplier_approve()
        self.assertFalse(self.supplier.supplier_hold_by_id)
        self.assertEqual(self.status_message("suspend").state, "done")
        self.assertEqual(self.status_message("approve").state, "done")
        self.assertEqual(self.supplier.supplier_status, "approved")

    def test_a_partner_message_may_make_a_persons_suspension_stricter(self):
        self.supplier.with_user(self.manager_a).action_supplier_suspend()
        self.assertEqual(self.status_message("block").state, "done")
        self.assertEqual(self.supplier.supplier_status, "blocked")
        self.assertEqual(self.status_message("approve").state, "exception")
        self.assertEqual(self.supplier.supplier_status, "blocked")

    def test_untrusted_partner_contract_upsert_waits_in_review_for_a_person(self):
        self.partner.with_user(self.manager_a).action_distrust_contract_platform()
        message = self.process(
            "contract.upsert",
            {
                "contract": "CP-SELF",
                "supplier": "SUP-1",
                "start_date": str(self.day(-1)),
                "end_date": "2099-12-31",
                "state": "active",
                "lines": [{"item": "C-GLV", "price": 99.0}],
            },
        )
        self.assertEqual(message.state, "done", message.error)
        contract = self.env["purchase.contract"].search([("external_ref", "=", "CP-SELF")])
        self.assertEqual(
            (contract.state, contract.platform_approved, contract.approved_by_id.id),
            ("review", False, False),
        )
        self.assertFalse(
            self.env["product.supplierinfo"].search(
                [("contract_line_id", "in", contract.line_ids.ids)]
            )
        )
        self.assertFalse(self.order(qty=10).order_line.contract_line_id)
        # a Procurement Manager approves it: only then it is active and prices orders
        contract.with_user(self.manager_a).action_approve()
        self.assertEqual(contract.state, "active")
        self.assertEqual(self.order(qty=10).order_line.contract_price, 99.0)
