from odoo import Command
from odoo.tests import tagged

from .common import ProcurementHttpCase


@tagged("post_install", "-at_install")
class TestSupplierForm(ProcurementHttpCase):
    """The vendor form counts the supplier's contracts, open orders and blocked bills."""

    def counts(self, user, partner=None):
        (read,) = self.rpc(
            user,
            "res.partner",
            "read",
            [(partner or self.supplier).id],
            [
                "supplier_contract_count",
                "supplier_open_order_count",
                "supplier_exception_bill_count",
            ],
        )
        return (
            read["supplier_contract_count"],
            read["supplier_open_order_count"],
            read["supplier_exception_bill_count"],
        )

    def test_documents_are_counted_and_opened_from_the_vendor(self):
        self.activate(self.make_contract(price=5.0))
        self.make_contract(price=4.0, product=self.mask)
        self.order(qty=3, price=5.0)
        confirmed = self.order(qty=10, price=5.0)
        confirmed.button_confirm()
        vals = confirmed.order_line._prepare_account_move_line()
        vals.update(quantity=10, price_unit=5.0)
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.supplier.id,
                "ref": "VF-1",
                "invoice_date": self.day(0),
                "invoice_line_ids": [Command.create(vals)],
            }
        )
        self.assertEqual(bill.match_state, "exception")
        contact = self.env["res.partner"].create(
            {"name": "Sales desk", "parent_id": self.supplier.id}
        )
        self.assertEqual(self.counts(self.buyer), (2, 2, 1))
        # a contact person of the supplier shows its company's documents
        self.assertEqual(self.counts(self.buyer, contact), (2, 2, 1))
        self.assertEqual(self.counts(self.clerk)[0::2], (2, 1))
        action = self.rpc(
            self.buyer, "res.partner", "action_view_supplier_exception_bills", [self.supplier.id]
        )
        self.assertEqual(
            self.env["account.move"].with_user(self.buyer).search(action["domain"]), bill
        )
        action = self.rpc(
            self.buyer, "res.partner", "action_view_supplier_open_orders", [self.supplier.id]
        )
        self.assertEqual(
            len(self.env["purchase.order"].with_user(self.buyer).search(action["domain"])), 2
        )

    def test_another_company_documents_are_not_counted(self):
        # the supplier is shared; company B's order is B's business
        order_b = (
            self.env["purchase.order"]
            .with_company(self.company_b)
            .create(
                {
                    "partner_id": self.supplier.id,
                    "company_id": self.company_b.id,
                    "picking_type_id": self.warehouse_b.in_type_id.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.gloves.id, "product_qty": 1, "price_unit": 1}
                        )
                    ],
                }
            )
        )
        self.assertTrue(order_b)
        self.assertEqual(self.counts(self.buyer), (0, 0, 0))

    def test_roles_without_purchase_or_billing_do_not_read_the_counts(self):
        self.assertRefused(
            "AccessError",
            self.stock_user,
            "res.partner",
            "read",
            [self.supplier.id],
            ["supplier_contract_count"],
        )
        arch = (
            self.env["res.partner"]
            .with_user(self.stock_user)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertNotIn("supplier_contract_count", arch)

    def test_the_status_banner_shows_a_held_supplier(self):
        self.supplier.supplier_status_reason = "Recall pending"
        self.supplier.with_user(self.manager_a).action_supplier_suspend()
        arch = (
            self.env["res.partner"]
            .with_user(self.buyer)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertIn('name="supplier_status_banner"', arch)
        self.assertIn('name="action_view_supplier_contracts"', arch)
        (read,) = self.rpc(
            self.buyer, "res.partner", "read", [self.supplier.id], ["supplier_status"]
        )
        self.assertEqual(read["supplier_status"], "suspended")
