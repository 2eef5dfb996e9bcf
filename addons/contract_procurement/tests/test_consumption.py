from odoo import Command
from odoo.tests import tagged

from .common import ProcurementHttpCase


@tagged("post_install", "-at_install")
class TestContractConsumption(ProcurementHttpCase):
    """Committed and invoiced value against the contract's ceiling."""

    def setUp(self):
        super().setUp()
        self.contract = self.make_contract(price=5.0)
        self.contract.ceiling_amount = 1000.0
        self.activate(self.contract)

    def confirmed_order(self, qty=10, currency=None):
        order = self.order(qty=qty, price=5.0)
        if currency:
            order.currency_id = currency
        order.button_confirm()
        return order

    def post_bill(self, order, qty, move_type="in_invoice"):
        picking = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
        if picking:
            picking.move_ids.quantity = order.order_line.product_qty
            picking.move_ids.picked = True
            picking.with_context(cancel_backorder=False)._action_done()
        vals = order.order_line._prepare_account_move_line()
        vals.update(quantity=qty)
        bill = self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": order.partner_id.id,
                "currency_id": order.currency_id.id,
                "ref": f"{move_type}-{order.name}-{qty}",
                "invoice_date": self.day(0),
                "invoice_line_ids": [Command.create(vals)],
            }
        )
        bill.action_post()
        return bill

    def figures(self, contract=None):
        contract = contract or self.contract
        contract.invalidate_recordset()
        return (
            contract.committed_amount,
            contract.invoiced_amount,
            contract.remaining_amount,
            contract.consumption_pct,
        )

    def test_confirmed_orders_commit_and_posted_bills_invoice(self):
        draft = self.order(qty=50, price=5.0)
        self.assertEqual(draft.order_line.contract_line_id.contract_id, self.contract)
        self.assertEqual(self.figures(), (0.0, 0.0, 1000.0, 0.0))
        order = self.confirmed_order(qty=40)
        self.assertEqual(self.figures(), (200.0, 0.0, 800.0, 20.0))
        self.post_bill(order, 30)
        self.assertEqual(self.figures(), (200.0, 150.0, 800.0, 20.0))
        self.post_bill(order, 10, move_type="in_refund")
        self.assertEqual(self.figures()[1], 100.0)

    def test_an_overrun_shows_negative_remaining(self):
        self.confirmed_order(qty=220)
        committed, _invoiced, remaining, pct = self.figures()
        self.assertEqual((committed, remaining, pct), (1100.0, -100.0, 110.0))
        self.assertTrue(self.contract.over_ceiling)

    def test_orders_in_another_currency_count_in_the_contract_currency(self):
        company_currency = self.env.company.currency_id
        foreign = self.env.ref("base.EUR" if company_currency.name != "EUR" else "base.USD")
        foreign.active = True
        self.env["res.currency.rate"].search(
            [("currency_id", "=", foreign.id), ("name", "=", self.day(0))]
        ).unlink()
        self.env["res.currency.rate"].create(
            {
                "name": self.day(0),
                "rate": 2.0,
                "currency_id": foreign.id,
                "company_id": self.env.company.id,
            }
        )
        order = self.confirmed_order(qty=40, currency=foreign)
        self.assertEqual(order.order_line.price_subtotal, 200.0)
        # 200 in a currency worth half the contract's
        self.assertAlmostEqual(self.figures()[0], 100.0, places=2)
        self.post_bill(order, 40)
        self.assertAlmostEqual(self.figures()[1], 100.0, places=2)

    def test_each_contract_counts_its_own_orders(self):
        self.confirmed_order(qty=10)
        other = self.activate(self.make_contract(supplier=self.other_supplier, product=self.mask))
        order = self.order(supplier=self.other_supplier, product=self.mask, qty=3, price=10.0)
        order.button_confirm()
        self.assertEqual(order.order_line.contract_line_id.contract_id, other)
        self.assertEqual(self.figures()[0], 50.0)
        self.assertEqual(self.figures(other)[0], 30.0)

    def test_figures_are_for_the_roles_that_see_the_contract(self):
        self.confirmed_order(qty=10)
        fields_ = ["committed_amount", "invoiced_amount", "remaining_amount", "consumption_pct"]
        for user in (self.buyer, self.clerk):
            (read,) = self.rpc(user, "purchase.contract", "read", [self.contract.id], fields_)
            self.assertEqual(read["committed_amount"], 50.0)
        # no access to contracts, nor to what they are worth
        self.assertRefused(
            "AccessError", self.stock_user, "purchase.contract", "read", [self.contract.id], fields_
        )
        # another company's buyer does not read this company's contract figures
        self.assertRefused(
            "AccessError", self.buyer_b, "purchase.contract", "read", [self.contract.id], fields_
        )

    def test_a_new_ceiling_needs_a_new_approval(self):
        self.assertEqual(self.contract.state, "active")
        self.rpc(
            self.buyer, "purchase.contract", "write", [self.contract.id], {"ceiling_amount": 9e6}
        )
        self.assertEqual(
            (self.contract.state, self.contract.approved_by_id.id, self.contract.ceiling_amount),
            ("review", False, 9e6),
        )
        self.assertRefused(
            "AccessError",
            self.stock_user,
            "purchase.contract",
            "write",
            [self.contract.id],
            {"ceiling_amount": 1.0},
        )
        self.assertRefused(
            "AccessError",
            self.buyer_b,
            "purchase.contract",
            "write",
            [self.contract.id],
            {"ceiling_amount": 1.0},
        )
        self.assertEqual(self.contract.ceiling_amount, 9e6)
