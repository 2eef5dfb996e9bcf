from datetime import date, timedelta

from odoo import Command
from odoo.tests import HttpCase, TransactionCase
from odoo.tests.common import JsonRpcException

from odoo.addons.integration_queue import signing
from odoo.addons.integration_queue.tests.common import QueueMixin


class ProcurementMixin(QueueMixin):
    """Two companies: A (the test company) and B, each with its facility, supplier,
    contract and orders; one user per role (login = password); partner systems of
    both companies, each scoped to its own supplier and facility."""

    @classmethod
    def _user(cls, login, *groups, company=None):
        company = company or cls.env.company
        return cls.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "password": login,
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
                "groups_id": [
                    Command.set([cls.env.ref(g).id for g in ("base.group_user", *groups)])
                ],
            }
        )

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
        manager = "contract_procurement.group_procurement_manager"
        cls.manager_a = cls._user("proc-a", manager)
        cls.manager_b = cls._user("proc-b", manager)
        cls.buyer = cls._user("buyer-1", "purchase.group_purchase_user")
        cls.purchase_manager = cls._user("purchase-mgr", "purchase.group_purchase_manager")
        cls.clerk = cls._user("ap-clerk", "account.group_account_invoice")
        cls.finance = cls._user(
            "fin-1", "account.group_account_manager", "contract_procurement.group_match_override"
        )
        cls.stock_user = cls._user("stock-1", "stock.group_stock_user")
        cls.supplier = env["res.partner"].create(
            {"name": "MedSupply Ltd", "ref": "SUP-1", "is_company": True}
        )
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
        cls.partner.write(
            {
                "message_type_ids": [Command.link(t) for t in inventory_types],
                "supplier_ids": [Command.set(cls.supplier.ids)],
                "facility_ids": [Command.set(cls.warehouse.ids)],
            }
        )
        # company A's test platform is a trusted contract platform; B's partner is not
        cls.partner.with_user(cls.manager_a).action_trust_contract_platform()
        cls._setup_company_b()

    @classmethod
    def _setup_company_b(cls):
        env = cls.env
        cls.company_b = env["res.company"].create(
            {"name": "Procurement Company B", "currency_id": env.company.currency_id.id}
        )
        cls.warehouse_b = env["stock.warehouse"].search(
            [("company_id", "=", cls.company_b.id)], limit=1
        )
        cls.supplier_b = env["res.partner"].create(
            {
                "name": "Supplier of B",
                "ref": "SUP-B",
                "is_company": True,
                "company_id": cls.company_b.id,
            }
        )
        cls.buyer_b = cls._user("buyer-b", "purchase.group_purchase_user", company=cls.company_b)
        cls.contract_b = (
            env["purchase.contract"]
            .with_company(cls.company_b)
            .create(
                {
                    "partner_id": cls.supplier_b.id,
                    "company_id": cls.company_b.id,
                    "external_ref": "CP-SHARED",
                    "date_start": date.today() - timedelta(days=1),
                    "warehouse_ids": [Command.set(cls.warehouse_b.ids)],
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": cls.gloves.id,
                                "product_uom_id": cls.gloves.uom_po_id.id,
                                "price": 3.0,
                            }
                        )
                    ],
                }
            )
        )
        cls.order_b = (
            env["purchase.order"]
            .with_company(cls.company_b)
            .create(
                {
                    "partner_id": cls.supplier_b.id,
                    "company_id": cls.company_b.id,
                    "picking_type_id": cls.warehouse_b.in_type_id.id,
                    "order_line": [
                        Command.create(
                            {"product_id": cls.gloves.id, "product_qty": 5, "price_unit": 3.0}
                        )
                    ],
                }
            )
        )
        cls.partner_b = env["integration.partner"].create(
            {
                "code": "TEST-B-PORTAL",
                "name": "Company B supplier portal",
                "company_id": cls.company_b.id,
                "rate_limit": 1000,
                "supplier_ids": [Command.set(cls.supplier_b.ids)],
                "facility_ids": [Command.set(cls.warehouse_b.ids)],
                "message_type_ids": [
                    Command.set(
                        [
                            env.ref(f"contract_procurement.message_type_{name}").id
                            for name in (
                                "contract_upsert",
                                "supplier_status",
                                "vendor_bill",
                                "purchase_request",
                                "purchase_acknowledgement",
                            )
                        ]
                    )
                ],
            }
        )
        cls.secret_b = signing.generate_secret()
        env["integration.partner.secret"]._store(cls.partner_b, cls.secret_b)

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

    def receive_as_b(self, payload, message_type, **kwargs):
        """What company B's partner system gets from the gateway for ``payload``."""
        return self.receive(
            payload,
            message_type=message_type,
            secret=self.secret_b,
            partner_code=self.partner_b.code,
            **kwargs,
        )

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


class ProcurementCase(ProcurementMixin, TransactionCase):
    pass


class ProcurementHttpCase(ProcurementMixin, HttpCase):
    """JSON-RPC as a real client: ``rpc(user, model, method, *args, **kwargs)``."""

    def rpc(self, user, model, method, *args, **kwargs):
        self.authenticate(user.login, user.login)
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def assertRefused(self, error_name, user, model, method, *args, **kwargs):
        """The call is refused with ``error_name`` (e.g. ``AccessError``), not a crash."""
        with self.assertRaises(JsonRpcException) as refused:
            self.rpc(user, model, method, *args, **kwargs)
        self.assertEqual(str(refused.exception), f"odoo.exceptions.{error_name}")
        return refused.exception
