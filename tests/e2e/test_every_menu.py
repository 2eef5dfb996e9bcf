"""Every menu of the four addons, in each of its views, as each role that sees it.

Black box: one server on a copy of the installed (demo) database; as admin, over
JSON-RPC, one user per role; then, in each role's own cookie session, the menus it sees
are opened the way the 18.0 web client opens them (``menu_walk``: ``get_views``, then
``web_search_read``/``web_read_group``/``read_group``/``web_read``/``onchange`` per view
type, pivot and graph measures with the aggregator the client requires). Any error
answer fails the test, naming the role, the menu and the view.
"""

import importlib.util
import uuid
from pathlib import Path

import pytest

from tests.harness import odoo_env
from tests.harness.server import OdooServer

from .rpc_client import RpcClient
from .test_queue_crash import SECRET_KEY_CONFIG

ADDONS = (
    "integration_audit",
    "integration_queue",
    "healthcare_inventory_sync",
    "contract_procurement",
)
ROLES = {
    "purchase_user": ["purchase.group_purchase_user"],
    "purchase_manager": [
        "purchase.group_purchase_manager",
        "contract_procurement.group_procurement_manager",
    ],
    "billing": ["account.group_account_invoice"],
    "finance_manager": [
        "account.group_account_manager",
        "contract_procurement.group_match_override",
    ],
    "inventory_user": ["stock.group_stock_user"],
    "inventory_manager": ["stock.group_stock_manager"],
    "integration_user": ["integration_queue.group_integration_user"],
    "integration_manager": ["integration_queue.group_integration_manager"],
    "audit_viewer": ["integration_audit.group_audit_viewer"],
}
# what each role must at least open (the rest: whatever it sees)
MUST_OPEN = {
    "admin": [
        ("contract_procurement.purchase_order_line_contract_menu", "pivot"),
        ("contract_procurement.purchase_order_line_contract_menu", "graph"),
    ],
    "purchase_manager": [
        ("contract_procurement.purchase_order_line_contract_menu", "pivot"),
        ("contract_procurement.purchase_order_line_contract_menu", "graph"),
    ],
    "billing": [("contract_procurement.purchase_match_exception_menu", "list")],
}


def _walker_class():
    path = Path(__file__).resolve().parents[2] / "addons/contract_procurement/tests/menu_walk.py"
    spec = importlib.util.spec_from_file_location("hcsc_menu_walk", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MenuWalker


@pytest.fixture(scope="module")
def menu_server(template_db):
    name = f"{template_db}_menus_{uuid.uuid4().hex[:6]}"
    odoo_env.create_database_from_template(template_db, name)
    server = OdooServer(name, max_cron_threads=0, config=SECRET_KEY_CONFIG)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        odoo_env.drop_database(name)


def _sessions(server):
    admin = RpcClient(server.url, server.dbname).login("admin", "admin")
    company_id = admin.call("res.users", "read", [admin.uid], ["company_id"])[0]["company_id"][0]
    sessions = {"admin": admin}
    suffix = uuid.uuid4().hex[:6]
    for role, groups in ROLES.items():
        login = f"menu-{role}-{suffix}"
        admin.call(
            "res.users",
            "create",
            {
                "name": f"Menu {role}",
                "login": login,
                "password": login,
                "company_id": company_id,
                "company_ids": [(6, 0, [company_id])],
                "groups_id": [(6, 0, [admin.ref(g) for g in ("base.group_user", *groups)])],
            },
        )
        sessions[role] = RpcClient(server.url, server.dbname).login(login, login)
    return sessions


def test_every_menu_opens_in_every_view_for_every_role(menu_server):
    MenuWalker = _walker_class()
    failures = []
    opened = {}
    for role, client in _sessions(menu_server).items():
        company_ids = client.context.get("allowed_company_ids") or []

        def load_action(action_id, client=client):
            return client._post("/web/action/load", {"action_id": action_id})

        walker = MenuWalker(client.call, load_action, client.uid, company_ids)
        opened[role] = []
        for menu in walker.menus(ADDONS):
            try:
                opened[role] += [(menu["xmlid"], view) for view in walker.open_menu(menu)]
            except Exception as error:
                failures.append(f"{role}: {menu['xmlid']} ({menu['name']}): {error}")
    assert not failures, "\n".join(failures)
    for role, expected in MUST_OPEN.items():
        for item in expected:
            assert item in opened[role], f"{role} did not open {item}"
    for role in ROLES:
        if role not in ("billing", "finance_manager"):
            assert opened[role], f"{role} sees no menu of the four addons"
