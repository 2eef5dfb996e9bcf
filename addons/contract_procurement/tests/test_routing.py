from odoo import Command
from odoo.tests import tagged

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestResponsiblePerson(ProcurementCase):
    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.partner.message_type_ids = [
            Command.link(cls.env.ref("contract_procurement.message_type_purchase_request").id)
        ]
        cls.odoobot = cls.env.ref("base.user_root")
        cls.mask.seller_ids = [Command.create({"partner_id": cls.other_supplier.id, "price": 2.0})]
        cls.gloves.seller_ids = [Command.create({"partner_id": cls.supplier.id, "price": 5.0})]
        # start from nobody configured (demo data names a facility buyer)
        cls.warehouse.procurement_user_id = False
        (cls.supplier | cls.other_supplier).buyer_id = False
        (cls.gloves | cls.mask).categ_id.procurement_user_id = False

    def request(self, ref, items):
        msg_id = self.new_id()
        self.receive(
            {
                "request": ref,
                "facility": self.warehouse.code,
                "lines": [{"item": item, "quantity": 5} for item in items],
            },
            message_type="purchase.request",
            msg_id=msg_id,
        )
        self.run_jobs()
        message = self.message(msg_id)
        self.assertEqual(message.state, "done", message.error)
        return self.env["purchase.order"].search([("origin", "=", ref)])

    def test_requested_order_buyer_from_vendor_category_facility_then_group(self):
        self.warehouse.procurement_user_id = self.buyer
        order = self.request("REQ-FAC", ["C-GLV"])
        self.assertEqual(order.user_id, self.buyer)
        self.gloves.categ_id.procurement_user_id = self.purchase_manager
        self.assertEqual(self.request("REQ-CAT", ["C-GLV"]).user_id, self.purchase_manager)
        self.supplier.buyer_id = self.manager_a
        self.assertEqual(self.request("REQ-VEN", ["C-GLV"]).user_id, self.manager_a)

    def test_requested_order_without_configuration_goes_to_the_fallback_group(self):
        team = self.env["res.groups"].create(
            {"name": "Test Buyers Desk", "users": [Command.set([self.odoobot.id, self.buyer.id])]}
        )
        self.env.company.procurement_fallback_group_id = team
        order = self.request("REQ-GRP", ["C-MSK"])
        self.assertEqual(order.user_id, self.buyer)
        self.env.company.procurement_fallback_group_id = False
        order = self.request("REQ-DEF", ["C-MSK"])
        self.assertNotEqual(order.user_id, self.odoobot)
        self.assertTrue(order.user_id.has_group("contract_procurement.group_procurement_manager"))

    def test_match_exception_activity_goes_to_the_buyer_not_odoobot(self):
        order = self.order(qty=10, price=5.0)
        order.user_id = self.odoobot
        order.button_confirm()
        self.warehouse.procurement_user_id = self.buyer
        vals = dict(order.order_line._prepare_account_move_line(), quantity=10)
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.supplier.id,
                "invoice_date": self.day(0),
                "invoice_line_ids": [Command.create(vals)],
            }
        )
        exception = bill.match_exception_ids
        self.assertEqual(exception.exception_type, "qty_not_received")
        self.assertEqual(exception.activity_ids.user_id, self.buyer)

    def test_bill_without_order_activity_goes_to_the_fallback(self):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.other_supplier.id,
                "invoice_date": self.day(0),
                "invoice_line_ids": [Command.create({"product_id": self.mask.id, "price_unit": 3})],
            }
        )
        bill._run_three_way_match()
        activity = bill.match_exception_ids.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertNotEqual(activity.user_id, self.odoobot)
        self.assertTrue(
            activity.user_id.has_group("contract_procurement.group_procurement_manager")
        )

    def test_renewal_reminder_of_a_partner_made_contract_goes_to_a_person(self):
        # made as OdooBot, as a contract.upsert handler makes it
        contract = self.activate(self.make_contract(end=10))
        self.assertEqual(contract.create_uid, self.odoobot)
        self.supplier.buyer_id = self.purchase_manager
        self.env["purchase.contract"]._cron_lifecycle()
        self.assertEqual(contract.activity_ids.user_id, self.purchase_manager)
