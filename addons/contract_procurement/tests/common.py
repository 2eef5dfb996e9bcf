from datetime import date, timedelta

from odoo import Command

from odoo.addons.integration_queue.tests.common import QueueCase


class ProcurementCase(QueueCase):
    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        env = cls.env
        if not env["account.journal"].search(
            [("type", "=", "purchase"), ("company_id", "=", env.company.id)], limit=1
        ):
            # a database without a chart of accounts: give the company the generic one
            env["account.chart.template"].try_loading(
                "generic_coa", env.company, install_demo=False
            )
        manager = env.ref("contract_procurement.group_procurement_manager")
        cls.manager_a = env["res.users"].create(
            {"name": "Manager A", "login": "proc-a", "groups_id": [Command.link(manager.id)]}
        )
        cls.manager_b = env["res.users"].create(
            {"name": "Manager B", "login": "proc-b", "groups_id": [Command.link(manager.id)]}
        )
        cls.buyer = env["res.users"].create(
            {
                "name": "Buyer",
                "login": "buyer-1",
                "groups_id": [Command.link(env.ref("purchase.group_purchase_user").id)],
            }
        )
        cls.finance = env["res.users"].create(
            {
                "name": "Finance Manager",
                "login": "fin-1",
                "groups_id": [
                    Command.link(env.ref("account.group_account_manager").id),
                    Command.link(env.ref("contract_procurement.group_match_override").id),
                ],
            }
        )
        cls.supplier = env["res.partner"].create({"name": "MedSupply Ltd", "ref": "SUP-1"})
        cls.other_supplier = env["res.partner"].create({"name": "CheapMed", "ref": "SUP-2"})
        cls.gloves = env["product.product"].create(
            {
                "name": "Contract gloves",
                "default_code": "C-GLV",
                "is_storable": True,
                "purchase_method": "receive",
            }
        )
        cls.mask = env["product.product"].create(
            {
                "name": "Contract mask",
                "default_code": "C-MSK",
                "is_storable": True,
                "purchase_method": "receive",
            }
        )
        cls.warehouse = env["stock.warehouse"].search(
            [("company_id", "=", env.company.id)], limit=1
        )
        inventory_types = [
            env.ref(f"contract_procurement.message_type_{name}").id
            for name in ("contract_upsert", "supplier_status", "vendor_bill")
        ]
        cls.partner.write({"message_type_ids": [Command.link(t) for t in inventory_types]})

    def day(self, offset=0):
        return date.today() + timedelta(days=offset)

    def make_contract(
        self,
        supplier=None,
        price=10.0,
        product=None,
        start=-1,
        end=365,
        warehouses=None,
        breaks=None,
    ):
        product = product or self.gloves
        contract = self.env["purchase.contract"].create(
            {
                "partner_id": (supplier or self.supplier).id,
                "date_start": self.day(start),
                "date_end": self.day(end) if end is not None else False,
                "warehouse_ids": [Command.set((warehouses or self.env["stock.warehouse"]).ids)],
                "line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_id": product.uom_po_id.id,
                            "price": price,
                            "break_ids": [
                                Command.create({"min_qty": q, "price": p})
                                for q, p in (breaks or [])
                            ],
                        }
                    )
                ],
            }
        )
        return contract

    def activate(self, contract):
        contract.with_user(self.manager_a).action_submit()
        contract.with_user(self.manager_b).action_approve()
        return contract

    def order(self, supplier=None, product=None, qty=10, price=None):
        product = product or self.gloves
        line = {"product_id": product.id, "product_qty": qty}
        if price is not None:
            line["price_unit"] = price
        return self.env["purchase.order"].create(
            {
                "partner_id": (supplier or self.supplier).id,
                "picking_type_id": self.warehouse.in_type_id.id,
                "order_line": [Command.create(line)],
            }
        )
