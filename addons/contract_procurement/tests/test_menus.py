from odoo import Command
from odoo.tests import tagged

from .common import ProcurementHttpCase
from .menu_walk import MenuWalker

ADDONS = ("integration_audit", "integration_queue", "contract_procurement")

ROLES = {
    "menu-purchase-user": ("purchase.group_purchase_user",),
    "menu-purchase-manager": (
        "purchase.group_purchase_manager",
        "contract_procurement.group_procurement_manager",
    ),
    "menu-billing": ("account.group_account_invoice",),
    "menu-finance-manager": (
        "account.group_account_manager",
        "contract_procurement.group_match_override",
    ),
    "menu-inventory-user": ("stock.group_stock_user",),
    "menu-inventory-manager": ("stock.group_stock_manager",),
    "menu-integration-user": ("integration_queue.group_integration_user",),
    "menu-integration-manager": ("integration_queue.group_integration_manager",),
    "menu-audit-viewer": ("integration_audit.group_audit_viewer",),
}


@tagged("post_install", "-at_install")
class TestEveryMenuOpens(ProcurementHttpCase):
    """Every menu of these addons, in each of its views, opens for every role that sees it."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.role_users = {login: cls._user(login, *groups) for login, groups in ROLES.items()}
        cls.admin = cls.env.ref("base.user_admin")
        cls.admin.password = "menu-admin"
        # something to show: a contract order confirmed, a bill with a match exception
        contract = cls.env["purchase.contract"].create(
            {
                "partner_id": cls.supplier.id,
                "date_start": "2020-01-01",
                "line_ids": [
                    Command.create(
                        {
                            "product_id": cls.gloves.id,
                            "product_uom_id": cls.gloves.uom_po_id.id,
                            "price": 5.0,
                        }
                    )
                ],
            }
        )
        contract.with_user(cls.manager_a).action_submit()
        contract.with_user(cls.manager_b).action_approve()
        order = cls.env["purchase.order"].create(
            {
                "partner_id": cls.supplier.id,
                "picking_type_id": cls.warehouse.in_type_id.id,
                "order_line": [Command.create({"product_id": cls.gloves.id, "product_qty": 8})],
            }
        )
        order.button_confirm()
        cls.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": cls.supplier.id,
                "invoice_date": "2024-01-05",
                "invoice_line_ids": [
                    Command.create(dict(order.order_line._prepare_account_move_line(), quantity=8))
                ],
            }
        )

    def walk_as(self, login, password, failures):
        """Open every menu the user sees; failures are collected as 'login: menu: error'."""
        self.authenticate(login, password)
        user = self.env["res.users"].search([("login", "=", login)])

        def call(model, method, *args, **kwargs):
            return self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
            )

        def load_action(action_id):
            return self.make_jsonrpc_request("/web/action/load", {"action_id": action_id})

        walker = MenuWalker(call, load_action, user.id, user.company_ids.ids)
        opened = []
        for menu in walker.menus(ADDONS):
            try:
                opened += [(menu["xmlid"], view) for view in walker.open_menu(menu)]
            except Exception as error:
                failures.append(f"{login}: {menu['xmlid']} ({menu['name']}): {error!r}")
        return opened

    def test_every_menu_opens_in_every_view_for_every_role(self):
        failures = []
        opened = {"admin": self.walk_as("admin", "menu-admin", failures)}
        for login in ROLES:
            opened[login] = self.walk_as(login, login, failures)
        self.assertFalse(failures, "\n".join(failures))
        compliance = "contract_procurement.purchase_order_line_contract_menu"
        for role in ("admin", "menu-purchase-manager"):
            self.assertIn((compliance, "pivot"), opened[role])
            self.assertIn((compliance, "graph"), opened[role])
        self.assertIn(
            ("contract_procurement.purchase_match_exception_menu", "list"),
            opened["menu-billing"],
        )
        self.assertIn(
            ("contract_procurement.purchase_match_exception_menu", "pivot"),
            opened["menu-finance-manager"],
        )
        for role in ("menu-integration-user", "menu-audit-viewer"):
            self.assertTrue(opened[role], f"{role} sees no menu of {ADDONS}")
