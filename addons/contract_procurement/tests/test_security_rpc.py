import json

from odoo import Command
from odoo.tests import tagged

from .common import ProcurementHttpCase


@tagged("post_install", "-at_install")
class TestSecurityOverRpc(ProcurementHttpCase):
    """Each control attacked over JSON-RPC (/web/dataset/call_kw) as the role that must
    not pass, and over signed HTTP as a partner of the other company."""

    def bill(self, qty=10, price=2.30):
        order = self.order(qty=qty, price=price)
        order.button_confirm()
        vals = order.order_line._prepare_account_move_line()
        vals.update(quantity=qty, price_unit=price)
        return self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": order.partner_id.id,
                "ref": "RPC-1",
                "invoice_date": self.day(0),
                "invoice_line_ids": [Command.create(vals)],
            }
        )

    def test_contract_state_and_approver_cannot_be_written(self):
        contract = self.make_contract()
        self.assertRefused(
            "AccessError",
            self.buyer,
            "purchase.contract",
            "write",
            [contract.id],
            {"state": "active"},
        )
        self.assertRefused(
            "AccessError",
            self.manager_a,
            "purchase.contract",
            "write",
            [contract.id],
            {"approved_by_id": self.manager_b.id, "submitted_by_id": self.manager_b.id},
        )
        self.assertRefused(
            "AccessError",
            self.buyer,
            "purchase.contract",
            "create",
            [
                {
                    "partner_id": self.supplier.id,
                    "date_start": str(self.day(0)),
                    "state": "active",
                }
            ],
        )
        self.assertEqual((contract.state, contract.approved_by_id.id), ("draft", False))

    def test_the_submitter_cannot_approve_and_a_buyer_cannot_transition(self):
        contract = self.make_contract()
        self.rpc(self.manager_a, "purchase.contract", "action_submit", [contract.id])
        self.assertRefused(
            "UserError", self.manager_a, "purchase.contract", "action_approve", [contract.id]
        )
        for method in ("action_approve", "action_reject", "action_terminate"):
            self.assertRefused(
                "AccessError", self.buyer, "purchase.contract", method, [contract.id]
            )
        self.assertRefused(
            "AccessError", self.stock_user, "purchase.contract", "action_submit", [contract.id]
        )
        self.rpc(self.manager_b, "purchase.contract", "action_approve", [contract.id])
        for method in ("action_suspend", "action_expire"):
            self.assertRefused(
                "AccessError", self.purchase_manager, "purchase.contract", method, [contract.id]
            )
        self.assertEqual(contract.state, "active")

    def test_contract_import_cannot_carry_a_state(self):
        Contract = self.env["purchase.contract"]
        before = Contract.search_count([])
        result = self.rpc(
            self.manager_a,
            "purchase.contract",
            "load",
            ["partner_id/.id", "date_start", "state"],
            [[str(self.supplier.id), str(self.day(0)), "active"]],
        )
        self.assertFalse(result["ids"])
        self.assertEqual(Contract.search_count([]), before)

    def test_off_contract_approval_cannot_be_forged(self):
        self.activate(self.make_contract(supplier=self.supplier, price=10.0))
        order = self.order(supplier=self.other_supplier, price=9.0)
        self.assertRefused(
            "AccessError",
            self.buyer,
            "purchase.order",
            "write",
            [order.id],
            {"off_contract_approved_by_id": self.manager_a.id, "off_contract_reason": "urgent"},
        )
        self.assertRefused(
            "AccessError", self.buyer, "purchase.order", "action_approve_off_contract", [order.id]
        )
        self.assertRefused("UserError", self.buyer, "purchase.order", "button_confirm", [order.id])
        self.assertEqual((order.state, order.off_contract_approved_by_id.id), ("draft", False))

    def test_ap_clerk_cannot_override_or_post_under_an_old_override(self):
        bill = self.bill(price=2.30)
        self.assertRefused(
            "AccessError",
            self.clerk,
            "account.move",
            "write",
            [bill.id],
            {"match_override_by_id": self.clerk.id, "match_override_reason": "fine"},
        )
        [wizard_id] = self.rpc(
            self.clerk, "purchase.match.override", "create", [{"move_id": bill.id, "reason": "x"}]
        )
        self.assertRefused(
            "AccessError",
            self.clerk,
            "purchase.match.override",
            "action_override_and_post",
            [wizard_id],
        )
        exception = bill.match_exception_ids
        self.assertRefused(
            "AccessError",
            self.clerk,
            "purchase.match.exception",
            "write",
            exception.ids,
            {"state": "resolved"},
        )
        self.assertRefused(
            "AccessError", self.clerk, "account.move", "write", [bill.id], {"state": "posted"}
        )
        # a Finance Manager overrides; the clerk then changes the price and tries to post
        bill.with_user(self.finance)._override_match("receipt booked tomorrow")
        self.rpc(
            self.clerk,
            "account.move",
            "write",
            [bill.id],
            {"invoice_line_ids": [[1, bill.invoice_line_ids.id, {"price_unit": 9.99}]]},
        )
        self.assertRefused("UserError", self.clerk, "account.move", "action_post", [bill.id])
        self.assertEqual((bill.state, exception.exists().state or "open"), ("draft", "open"))

    def test_supplier_status_changes_only_by_a_procurement_manager(self):
        self.supplier._set_supplier_status("blocked", "recall")
        self.assertRefused(
            "AccessError",
            self.buyer,
            "res.partner",
            "write",
            [self.supplier.id],
            {"supplier_status": "approved"},
        )
        self.assertRefused(
            "AccessError", self.buyer, "res.partner", "action_supplier_approve", [self.supplier.id]
        )
        self.rpc(self.manager_a, "res.partner", "action_supplier_approve", [self.supplier.id])
        self.assertEqual(self.supplier.supplier_status, "approved")

    def test_company_a_users_see_nothing_of_company_b(self):
        rule_b = self.env["purchase.approval.rule"].create(
            {
                "name": "B only",
                "company_id": self.company_b.id,
                "group_id": self.env.ref("base.group_user").id,
            }
        )
        document_b = self.env["res.partner.supplier.document"].create(
            {"partner_id": self.supplier_b.id, "name": "B licence"}
        )
        for model, record in (
            ("purchase.contract", self.contract_b),
            ("purchase.contract.line", self.contract_b.line_ids),
            ("purchase.approval.rule", rule_b),
            ("res.partner.supplier.document", document_b),
        ):
            self.assertFalse(self.rpc(self.manager_a, model, "search", [("id", "in", record.ids)]))
            self.assertRefused("AccessError", self.manager_a, model, "read", record.ids, ["id"])
        self.assertRefused(
            "AccessError", self.manager_a, "purchase.contract", "action_submit", self.contract_b.ids
        )
        self.assertEqual(self.contract_b.state, "draft")

    def test_company_b_partner_cannot_acknowledge_company_a_order_over_http(self):
        order = self.order()
        order.button_confirm()
        payload = {"purchase_order": order.name, "order_version": 1, "status": "rejected"}
        headers, body = self.signed(payload, secret=self.secret_b, partner_code=self.partner_b.code)
        response = self.url_open(
            "/integration/v1/inbound/purchase.acknowledgement", data=body, headers=headers
        )
        self.assertEqual(response.status_code, 403, response.text)
        self.assertEqual(json.loads(response.text)["error"]["field"], "purchase_order")
        self.assertNotEqual(order.ack_state, "rejected")

    def test_permission_matrix_for_contract_actions(self):
        """Walk the contract rows of the matrix (readme/CONFIGURE.md) over JSON-RPC."""
        managers_only = {"manager_b"}
        rows = [
            ("action_submit", "draft", "review", {"buyer", "purchase_manager", "manager_b"}),
            ("action_approve", "review", "active", managers_only),
            ("action_reject", "review", "draft", managers_only),
            ("action_suspend", "active", "suspended", managers_only),
            ("action_terminate", "active", "terminated", managers_only),
            ("action_activate", "suspended", "active", managers_only),
        ]
        roles = ("buyer", "purchase_manager", "manager_b", "clerk", "finance", "stock_user")
        for method, before, after, allowed in rows:
            for role in roles:
                with self.subTest(action=method, role=role):
                    contract = self.contract_in(before)
                    if role in allowed:
                        self.rpc(getattr(self, role), "purchase.contract", method, contract.ids)
                        self.assertEqual(contract.state, after)
                    else:
                        self.assertRefused(
                            "AccessError",
                            getattr(self, role),
                            "purchase.contract",
                            method,
                            contract.ids,
                        )
                        self.assertEqual(contract.state, before)

    def contract_in(self, state):
        contract = self.make_contract()
        if state == "draft":
            return contract
        contract.with_user(self.manager_a).action_submit()
        if state == "review":
            return contract
        contract.with_user(self.manager_b).action_approve()
        if state == "suspended":
            contract.with_user(self.manager_a).action_suspend()
        return contract
