from lxml import etree

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from ..models.purchase_order_approval import MAX_APPROVERS_ASKED
from .common import ProcurementCase, ProcurementHttpCase

PROCUREMENT_MANAGER = "contract_procurement.group_procurement_manager"
APPROVAL_ACTIVITY = "contract_procurement.mail_activity_type_purchase_approval"
DIALOG = {"contract_procurement_confirm_dialog": True}


class ReadabilityMixin:
    """A contract of MedSupply (10.00) for gloves; CheapMed sells them off contract."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.odoobot = cls.env.ref("base.user_root")
        # OdooBot among the approvers' group: it must never be asked
        cls.env.ref(PROCUREMENT_MANAGER).users = [Command.link(cls.odoobot.id)]
        for user in cls.buyer | cls.manager_a | cls.manager_b | cls.purchase_manager:
            user.email = f"{user.login}@example.com"

    def setUp(self):
        super().setUp()
        self.contract = self.activate(self.make_contract(supplier=self.supplier, price=10.0))

    def buyer_order(self, supplier=None, qty=10, price=9.0, user=None):
        """A draft order made by ``user`` (the buyer by default), its buyer."""
        return (
            self.env["purchase.order"]
            .with_user(user or self.buyer)
            .create(
                {
                    "partner_id": (supplier or self.other_supplier).id,
                    "picking_type_id": self.warehouse.in_type_id.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.gloves.id, "product_qty": qty, "price_unit": price}
                        )
                    ],
                }
            )
            .with_env(self.env)
        )

    def approval_activities(self, order):
        return order.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref(APPROVAL_ACTIVITY)
        )


@tagged("post_install", "-at_install")
class TestOffContractDialog(ReadabilityMixin, ProcurementCase):
    def test_confirm_asks_the_reason_in_a_dialog_then_asks_the_approvers(self):
        order = self.buyer_order()
        self.assertEqual(order.confirmation_status, "blocked")
        action = order.with_user(self.buyer).with_context(**DIALOG).button_confirm()
        self.assertEqual(
            (action["res_model"], action["target"], order.state),
            ("purchase.order.off.contract.reason", "new", "draft"),
        )
        wizard = (
            self.env[action["res_model"]]
            .with_user(self.buyer)
            .with_context(**action["context"])
            .create({"reason": "stockout", "note": "MedSupply out until March"})
        )
        self.assertEqual(wizard.off_contract_line_ids, order.order_line)
        notice = wizard.action_confirm()
        self.assertEqual(notice["tag"], "display_notification")
        self.assertEqual(
            (order.state, order.off_contract_reason, order.off_contract_note),
            ("draft", "stockout", "MedSupply out until March"),
        )
        self.assertEqual(order.confirmation_status, "to_approve")
        asked = self.approval_activities(order).user_id
        managers = (
            self.env.ref(PROCUREMENT_MANAGER).users.filtered(
                lambda user: user.active and order.company_id in user.company_ids
            )
            - self.odoobot
            - self.buyer
        )
        # a team is asked, at most a few of its members: the demo database has more
        self.assertTrue(0 < len(asked) <= MAX_APPROVERS_ASKED)
        self.assertLessEqual(asked, managers)
        if len(managers) <= MAX_APPROVERS_ASKED:
            self.assertIn(self.manager_a, asked)
            self.assertIn(self.manager_b, asked)
        self.assertNotIn(self.odoobot, asked)
        self.assertNotIn(self.buyer, asked)
        # pressing Confirm again asks nobody twice
        order.with_user(self.buyer).with_context(**DIALOG).button_confirm()
        self.assertEqual(len(self.approval_activities(order)), len(asked))
        # the four-eyes approval, then Confirm Order confirms
        order.with_user(self.manager_a).action_approve_off_contract()
        self.assertFalse(self.approval_activities(order))
        self.assertIn(self.buyer, order.activity_ids.user_id)
        self.assertEqual(order.confirmation_status, "ready")
        order.with_user(self.buyer).with_context(**DIALOG).button_confirm()
        self.assertEqual(order.state, "purchase")

    def test_the_buyer_who_asks_cannot_approve_and_a_blocked_supplier_is_refused(self):
        order = self.buyer_order()
        order.with_user(self.buyer).write({"off_contract_reason": "urgent"})
        with self.assertRaises(AccessError):
            order.with_user(self.buyer).action_approve_off_contract()
        self.other_supplier.with_user(self.manager_a).action_supplier_block()
        with self.assertRaisesRegex(UserError, "CheapMed"):
            order.with_user(self.buyer).with_context(**DIALOG).button_confirm()
        self.assertEqual((order.state, order.confirmation_status), ("draft", "blocked"))

    def test_other_suppliers_contract_and_price_are_on_the_line(self):
        cheaper = self.activate(self.make_contract(supplier=self.other_supplier, price=8.0))
        third = self.env["res.partner"].create({"name": "PricyMed", "ref": "SUP-3"})
        self.activate(self.make_contract(supplier=third, price=12.0))
        line = self.buyer_order(supplier=self.supplier, price=10.0).order_line
        self.assertEqual(line.contract_line_id, self.contract.line_ids)
        self.assertEqual(line.other_contract_line_id, cheaper.line_ids)
        self.assertEqual(
            (line.other_contract_price, line.other_contract_partner_id), (8.0, self.other_supplier)
        )
        self.assertEqual(
            cheaper.line_ids.display_name, f"{cheaper.name} - {self.gloves.display_name}"
        )
        # a line of the contract's own supplier sees the others, never its own contract
        other_line = self.buyer_order(supplier=self.other_supplier, price=8.0).order_line
        self.assertEqual(other_line.other_contract_line_id, self.contract.line_ids)

    def test_banner_explains_the_block_with_the_suppliers_words_escaped(self):
        self.supplier._set_supplier_status("blocked", "<img src=x onerror=alert(1)>")
        order = self.buyer_order(supplier=self.supplier, price=10.0)
        self.assertEqual(order.confirmation_status, "blocked")
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", order.status_banner)
        self.assertNotIn("<img", order.status_banner)

    def test_ack_discrepancies_are_a_table_with_supplier_text_escaped(self):
        order = self.buyer_order(supplier=self.supplier, price=10.0)
        order.button_confirm()
        self.assertFalse(order.ack_sent_date)
        order._apply_acknowledgement(
            {
                "order_version": order.order_version,
                "status": "accepted",
                "lines": [
                    {"item": "C-GLV", "quantity": 12, "price": 10.0},
                    {"item": "<b>NM-9</b>", "quantity": 1},
                ],
            }
        )
        self.assertEqual(order.ack_state, "discrepancy")
        table = etree.fromstring(str(order.ack_discrepancy_html))
        rows = [[cell.text for cell in row] for row in table.iter("tr")]
        self.assertEqual(rows[0], ["Line", "Item", "Field", "Ordered", "Acknowledged"])
        self.assertEqual(rows[1], [order.order_line.name, "C-GLV", "Quantity", "10.0", "12"])
        self.assertEqual(rows[2][1:3], ["<b>NM-9</b>", "Item"])  # text, not markup
        self.assertIn("&lt;b&gt;NM-9", str(order.ack_discrepancy_html))


@tagged("post_install", "-at_install")
class TestApprovalRouting(ReadabilityMixin, ProcurementCase):
    def setUp(self):
        super().setUp()
        self.director = self.env["res.groups"].create(
            {"name": "Test Medical Director", "implied_ids": [Command.link(self.ref_id())]}
        )
        self.env["purchase.approval.rule"].create(
            {"name": "Big orders", "min_amount": 1000, "group_id": self.director.id}
        )

    def ref_id(self):
        return self.env.ref("purchase.group_purchase_user").id

    def test_an_approval_rule_works_for_users_without_an_email_address(self):
        approver = self._user("director-1", "purchase.group_purchase_user")
        approver.groups_id = [Command.link(self.director.id)]
        (self.buyer | approver).email = False
        order = self.buyer_order(supplier=self.supplier, qty=300, price=10.0)
        # refused with the reason, not with "configure the sender's email address"
        with self.assertRaisesRegex(UserError, "Test Medical Director"):
            order.with_user(self.buyer).button_confirm()
        notice = order.with_user(self.buyer).with_context(**DIALOG).button_confirm()
        self.assertIn(approver.name, notice["params"]["message"])
        self.assertEqual(self.approval_activities(order).user_id, approver)
        self.assertEqual(order.confirmation_status, "to_approve")
        order.with_user(approver).action_approve_order()
        self.assertEqual(order.approved_by_id, approver)
        self.assertFalse(self.approval_activities(order))
        order.with_user(self.buyer).with_context(**DIALOG).button_confirm()
        self.assertEqual(order.state, "purchase")

    def test_two_step_validation_is_one_more_approval_rule(self):
        self.env.company.write(
            {"po_double_validation": "two_step", "po_double_validation_amount": 500}
        )
        admins = self.env.ref("purchase.group_purchase_manager")
        small = self.buyer_order(supplier=self.supplier, qty=10, price=10.0)
        self.assertFalse(small.approval_group_ids)
        order = self.buyer_order(supplier=self.supplier, qty=60, price=10.0)
        self.assertEqual(order.approval_group_ids, admins)
        with self.assertRaisesRegex(UserError, "Purchase"):
            order.with_user(self.buyer).button_confirm()
        own = self.buyer_order(
            supplier=self.supplier, qty=60, price=10.0, user=self.purchase_manager
        )
        with self.assertRaises(UserError):
            own.with_user(self.purchase_manager).action_approve_order()
        order.with_user(self.purchase_manager).action_approve_order()
        order.with_user(self.buyer).button_confirm()
        # never Odoo's "To Approve": approved on the draft, then confirmed
        self.assertEqual(order.state, "purchase")

    def test_filters_find_orders_to_approve_blocked_and_with_a_match_exception(self):
        waiting = self.buyer_order(supplier=self.supplier, qty=300, price=10.0)
        blocked = self.buyer_order()  # off contract, no reason
        ready = self.buyer_order(supplier=self.supplier, qty=10, price=10.0)
        ready.button_confirm()
        # billed 10, nothing received yet
        vals = dict(ready.order_line._prepare_account_move_line(), quantity=10)
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.supplier.id,
                "ref": "READ-1",
                "invoice_date": self.day(0),
                "invoice_line_ids": [Command.create(vals)],
            }
        )
        bill._run_three_way_match()
        self.assertEqual(bill.match_state, "exception")
        Order = self.env["purchase.order"].with_user(self.buyer)
        # the demo database has orders of its own in every state: look at this test's
        mine = [("id", "in", (waiting | blocked | ready).ids)]
        found = {
            name: Order.search(
                self.filter_domain("purchase.view_purchase_order_filter", name) + mine
            )
            for name in ("to_approve", "filter_blocked", "filter_match_exception")
        }
        self.assertIn(waiting, found["to_approve"])
        self.assertNotIn(blocked | ready, found["to_approve"])
        self.assertIn(blocked, found["filter_blocked"])
        self.assertNotIn(waiting | ready, found["filter_blocked"])
        self.assertEqual(found["filter_match_exception"], ready)
        self.assertIn("three-way match", str(ready.status_banner))
        confirmed = Order.search(
            self.filter_domain("purchase.purchase_order_view_search", "filter_match_exception")
            + mine
        )
        self.assertEqual(confirmed, ready)

    def test_warehouse_user_reads_the_status_of_a_billed_order(self):
        """Stock users read orders (from their receipts), not bills: the banner names the
        held bills without opening accounting to them."""
        order = self.buyer_order(supplier=self.supplier, qty=10, price=10.0)
        order.button_confirm()
        vals = dict(order.order_line._prepare_account_move_line(), quantity=10)
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.supplier.id,
                "ref": "READ-STOCK",
                "invoice_date": self.day(0),
                "invoice_line_ids": [Command.create(vals)],
            }
        )
        bill._run_three_way_match()
        self.assertEqual(bill.match_state, "exception")
        self.env.invalidate_all()
        [values] = order.with_user(self.stock_user).read(["confirmation_status", "status_banner"])
        self.assertIn("three-way match", str(values["status_banner"]))
        with self.assertRaises(AccessError):
            bill.with_user(self.stock_user).read(["match_state"])

    def test_every_role_that_reads_orders_reads_their_status_and_lines(self):
        order = self.buyer_order(qty=300)  # off contract, held by the approval rule
        for user in (self.clerk, self.finance, self.stock_user, self.buyer):
            with self.subTest(user=user.login):
                # computed per reader, as in a request of his own
                self.env.invalidate_all()
                [values] = order.with_user(user).read(["confirmation_status", "status_banner"])
                self.assertEqual(values["confirmation_status"], "blocked")
                [line] = order.order_line.with_user(user).read(
                    ["other_contract_line_id", "other_contract_price"]
                )
                sees_contracts = user != self.stock_user
                self.assertEqual(bool(line["other_contract_line_id"]), sees_contracts)

    def filter_domain(self, view_xmlid, name):
        view = self.env["purchase.order"].get_view(self.env.ref(view_xmlid).id, "search")
        [node] = etree.fromstring(view["arch"]).xpath(f"//filter[@name='{name}']")
        return safe_eval(node.get("domain"))


@tagged("post_install", "-at_install")
class TestOffContractDialogRpc(ReadabilityMixin, ProcurementHttpCase):
    """The dialog is a question, never a way around the checks: attacked over JSON-RPC."""

    def test_json_rpc_confirm_without_a_reason_is_refused(self):
        order = self.buyer_order()
        self.assertRefused("UserError", self.buyer, "purchase.order", "button_confirm", [order.id])
        # the dialog's context over RPC answers with the dialog, it confirms nothing
        action = self.rpc(
            self.buyer, "purchase.order", "button_confirm", [order.id], context=DIALOG
        )
        self.assertEqual(action["res_model"], "purchase.order.off.contract.reason")
        # the reason alone, given by the dialog, asks for approval: still not confirmed
        [wizard_id] = self.rpc(
            self.buyer,
            "purchase.order.off.contract.reason",
            "create",
            [{"order_id": order.id, "reason": "urgent"}],
        )
        self.rpc(self.buyer, "purchase.order.off.contract.reason", "action_confirm", [wizard_id])
        self.assertRefused("UserError", self.buyer, "purchase.order", "button_confirm", [order.id])
        self.assertRefused("UserError", self.buyer, "purchase.order", "button_approve", [order.id])
        self.assertRefused(
            "AccessError", self.buyer, "purchase.order", "action_approve_off_contract", [order.id]
        )
        self.assertEqual(
            (order.state, order.off_contract_reason, order.off_contract_approved_by_id.id),
            ("draft", "urgent", False),
        )

    def test_company_b_buyer_cannot_give_a_reason_for_a_company_a_order(self):
        order = self.buyer_order()
        # not even the dialog: its creation would tell him the order exists
        self.assertRefused(
            "AccessError",
            self.buyer_b,
            "purchase.order.off.contract.reason",
            "create",
            [{"order_id": order.id, "reason": "other"}],
        )
        self.assertFalse(order.off_contract_reason)

    def test_asking_approvers_needs_the_right_to_change_the_order(self):
        """action_request_approval reads the approvers as superuser: only after checking
        that the caller may change the order (another company's buyer, a warehouse user
        who only reads orders)."""
        order = self.buyer_order(qty=300)
        for user in (self.buyer_b, self.stock_user):
            with self.subTest(user=user.login):
                self.assertRefused(
                    "AccessError", user, "purchase.order", "action_request_approval", [order.id]
                )
        self.assertFalse(self.approval_activities(order))

    def test_a_dialog_is_its_creators_only(self):
        """Odoo 18 no longer keeps wizard records to their creator: a rule does."""
        order = self.buyer_order()
        [wizard_id] = self.rpc(
            self.buyer,
            "purchase.order.off.contract.reason",
            "create",
            [{"order_id": order.id, "reason": "stockout", "note": "patient need"}],
        )
        for user in (self.buyer_b, self.purchase_manager):
            with self.subTest(user=user.login):
                found = self.rpc(user, "purchase.order.off.contract.reason", "search", [])
                self.assertNotIn(wizard_id, found)
                self.assertRefused(
                    "AccessError",
                    user,
                    "purchase.order.off.contract.reason",
                    "write",
                    [wizard_id],
                    {"note": "tampered"},
                )
                self.assertRefused(
                    "AccessError",
                    user,
                    "purchase.order.off.contract.reason",
                    "action_confirm",
                    [wizard_id],
                )
        self.assertFalse(order.off_contract_reason)
