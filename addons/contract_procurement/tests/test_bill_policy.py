from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestBillWithoutOrderPolicy(ProcurementCase):
    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.utility = cls.env["res.partner"].create({"name": "City Power", "is_company": True})
        cls.services = cls.env["product.category"].create({"name": "Utilities"})
        cls.electricity = cls.env["product.product"].create(
            {"name": "Electricity", "type": "service", "categ_id": cls.services.id}
        )

    def loose_bill(self, partner=None, product=None, amount=100.0):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": (partner or self.utility).id,
                "invoice_date": self.day(0),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": (product or self.electricity).id,
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        bill._run_three_way_match()
        return bill

    def test_default_requires_an_order(self):
        bill = self.loose_bill()
        self.assertEqual(bill.match_exception_ids.exception_type, "no_order")
        with self.assertRaisesRegex(UserError, "three-way match"):
            bill.action_post()
        stock_bill = self.loose_bill(product=self.gloves)
        self.assertEqual(stock_bill.match_exception_ids.exception_type, "no_order")

    def test_vendor_without_order_posts(self):
        self.utility.bill_po_policy = "not_required"
        bill = self.loose_bill()
        self.assertFalse(bill.match_exception_ids)
        bill.with_user(self.clerk).action_post()
        self.assertEqual((bill.state, bill.match_state), ("posted", "matched"))

    def test_category_threshold_needs_override_above_it(self):
        self.services.write({"bill_po_policy": "threshold", "bill_po_threshold": 500.0})
        small = self.loose_bill(amount=400.0)
        self.assertFalse(small.match_exception_ids)
        big = self.loose_bill(amount=900.0)
        self.assertEqual(big.match_exception_ids.exception_type, "no_order")
        self.assertIn("500", big.match_exception_ids.description)
        with self.assertRaisesRegex(UserError, "three-way match"):
            big.with_user(self.clerk).action_post()

    def test_journal_policy_applies_to_its_bills(self):
        bill = self.loose_bill()
        bill.journal_id.bill_po_policy = "not_required"
        bill._run_three_way_match()
        self.assertEqual(bill.match_state, "matched")

    def test_stock_item_in_a_free_category_still_needs_an_order(self):
        self.services.bill_po_policy = "not_required"
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.utility.id,
                "invoice_date": self.day(0),
                "invoice_line_ids": [
                    Command.create({"product_id": self.electricity.id, "price_unit": 10}),
                    Command.create({"product_id": self.gloves.id, "price_unit": 10}),
                ],
            }
        )
        bill._run_three_way_match()
        self.assertEqual(bill.match_exception_ids.exception_type, "no_order")

    def test_only_the_override_group_sets_the_policy(self):
        # a contacts manager and purchase manager edits vendors, not their bill policy
        editor = self._user(
            "partner-editor", "base.group_partner_manager", "purchase.group_purchase_manager"
        )
        self.utility.with_user(editor).write({"comment": "meter 42"})
        for user in (editor, self.clerk, self.buyer):
            with self.assertRaises(AccessError):
                self.utility.with_user(user).write({"bill_po_policy": "not_required"})
        with self.assertRaises(AccessError):
            self.services.with_user(editor).write({"bill_po_policy": "not_required"})
        accountant = self._user("accountant-1", "account.group_account_manager")
        journal = self.loose_bill().journal_id
        with self.assertRaises(AccessError):
            journal.with_user(accountant).write({"bill_po_policy": "not_required"})
        journal.with_user(self.finance).write({"bill_po_policy": "not_required"})
        self.assertEqual(journal.bill_po_policy, "not_required")
