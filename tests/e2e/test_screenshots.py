"""Each role's main screens, opened in headless Chromium on a copy of the demo database.

Every screen must render its content without a client error (a JavaScript exception,
an error logged to the console, a failed request, an error dialog). With
``HCSC_SCREENSHOTS=1`` the test also saves each screen as
``docs/screenshots/<role>-<screen>.png`` (1280x800), the images the addons' readmes show:

    HCSC_SCREENSHOTS=1 HCSC_TEST_DB=<installed db> python -m pytest tests/e2e/test_screenshots.py

Chromium is driven over the DevTools protocol with websocket-client, as Odoo's own
HttpCase does; ``make test`` installs Debian's chromium when it is missing.
"""

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
import websocket

from tests.harness import odoo_env
from tests.harness.cli import find_chrome
from tests.harness.server import OdooServer, free_port

from .rpc_client import RpcClient
from .test_queue_crash import SECRET_KEY_CONFIG

SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTH, HEIGHT = 1280, 800
ROLES = {
    "buyer": ["purchase.group_purchase_user"],
    "procurement_manager": ["contract_procurement.group_procurement_manager"],
    "ap_clerk": ["account.group_account_invoice"],
    "finance_manager": [
        "account.group_account_manager",
        "contract_procurement.group_match_override",
    ],
    "inventory_manager": ["stock.group_stock_manager"],
    "integration_manager": [
        "integration_queue.group_integration_manager",
        "integration_audit.group_audit_viewer",
    ],
}
ROWS = ".o_view_controller .o_data_row"
# what a page shows when it failed, whatever the console said
ERROR_UI = ".o_error_dialog, .o_notification.border-danger, .o_notification .text-danger"


def _screens(admin):
    """(role, screen, path, selector the page is ready at, selector to click first)."""

    def first(model, domain, order="id desc"):
        ids = admin.call(model, "search", domain, limit=1, order=order)
        assert ids, f"the demo data has no {model} matching {domain}"
        return ids[0]

    contract = first("purchase.contract", [("state", "=", "active")])
    order = first("purchase.order", [("order_line.contract_line_id", "!=", False)])
    bill = first("account.move", [("match_state", "=", "exception")])
    proposal = first("healthcare.replenishment.proposal", [], order="state, id desc")
    contracts = "/odoo/action-contract_procurement.purchase_contract_action"
    bills = "/odoo/action-account.action_move_in_invoice_type"
    proposals = "/odoo/action-healthcare_inventory_sync.healthcare_replenishment_proposal_action"
    return [
        ("buyer", "contracts", contracts, ROWS, None),
        ("buyer", "contract", f"{contracts}/{contract}", "div[name=line_ids] .o_data_row", None),
        (
            "buyer",
            "order",
            f"/odoo/action-purchase.purchase_rfq/{order}",
            "div[name=order_line] .o_data_row",
            None,
        ),
        ("procurement_manager", "rfqs", "/odoo/action-purchase.purchase_rfq", ROWS, None),
        ("ap_clerk", "bills", bills, ROWS, None),
        (
            "ap_clerk",
            "bill-match",
            f"{bills}/{bill}",
            "div[name=match_exception_ids] .o_data_row",
            ".o_notebook .nav-link[name=three_way_match]",
        ),
        (
            "ap_clerk",
            "match-exceptions",
            "/odoo/action-contract_procurement.purchase_match_exception_action",
            ROWS,
            None,
        ),
        (
            "finance_manager",
            "contract-compliance",
            "/odoo/action-contract_procurement.purchase_order_line_contract_action",
            ".o_pivot table",
            None,
        ),
        (
            "inventory_manager",
            "stock-overview",
            "/odoo/action-healthcare_inventory_sync.healthcare_stock_overview_action",
            ROWS,
            None,
        ),
        ("inventory_manager", "proposals", proposals, ROWS, None),
        (
            "inventory_manager",
            "proposal",
            f"{proposals}/{proposal}",
            ".o_form_view .o_statusbar_status",
            None,
        ),
        (
            "inventory_manager",
            "sync-health",
            "/odoo/action-healthcare_inventory_sync.stock_warehouse_sync_health_action",
            ROWS,
            None,
        ),
        (
            "integration_manager",
            "messages",
            "/odoo/action-integration_queue.integration_message_action",
            ROWS,
            None,
        ),
    ]


class Chrome:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self):
        executable = find_chrome()
        assert executable, "Chromium is missing: apt-get install -y chromium"
        self.profile = tempfile.mkdtemp(prefix="hcsc-chrome-")
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                executable,
                "--headless=new",
                "--no-sandbox",  # root in CI containers
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                "--disable-extensions",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={WIDTH},{HEIGHT}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.ids = itertools.count(1)
        self.events = []
        self.ws = websocket.create_connection(self._page_socket(), timeout=60)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _page_socket(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                targets = requests.get(f"http://127.0.0.1:{self.port}/json", timeout=5).json()
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            time.sleep(0.2)

    def send(self, method, **params):
        message_id = next(self.ids)
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == message_id:
                assert "error" not in message, f"{method}: {message['error']}"
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression):
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        return result.get("result", {}).get("value")

    def wait_for(self, selector, timeout=30):
        """Wait until ``selector`` matches, no request is pending and no error is shown."""
        deadline = time.monotonic() + timeout
        check = (
            f"(() => document.querySelector({json.dumps(ERROR_UI)}) ? 'error' : "
            f"(document.querySelector({json.dumps(selector)}) && "
            "!document.querySelector('.o_loading_indicator, .o_blockUI')) ? 'ready' : '')()"
        )
        while True:
            state = self.evaluate(check)
            if state == "error":
                text = self.evaluate(f"document.querySelector({json.dumps(ERROR_UI)}).innerText")
                raise AssertionError(f"the page shows an error: {text}")
            if state == "ready":
                # two frames: what is in the DOM is painted
                self.evaluate(
                    "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
                )
                return
            assert time.monotonic() < deadline, f"{selector} did not appear"
            time.sleep(0.25)

    def client_errors(self):
        """Errors the page reported since the last call (exceptions, console, network)."""
        # drain what arrived after the last command
        self.send("Runtime.evaluate", expression="0")
        errors = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append(details.get("exception", {}).get("description") or details["text"])
            elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
                errors.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                # the bus websocket is refused while the test server starts: not the page's fault
                if "/websocket" not in entry.get("url", ""):
                    errors.append(f"{entry['text']} {entry.get('url', '')}".strip())
        self.events.clear()
        return errors

    def open(self, url, session_id, ready, click=None):
        self.send("Network.setCookie", name="session_id", value=session_id, url=url, path="/")
        self.send("Page.navigate", url=url)
        if click:
            self.wait_for(click)
            self.evaluate(f"document.querySelector({json.dumps(click)}).click()")
        self.wait_for(ready)

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            self.process.wait(timeout=30)
            shutil.rmtree(self.profile, ignore_errors=True)


def _forget_asset_bundles(dbname):
    """A database copied with CREATE DATABASE ... TEMPLATE has no filestore: its asset
    bundles would be served empty and the web client would not start. Without their
    attachments the server builds them again."""
    conn = odoo_env.pg_connect(dbname)
    try:
        with conn, conn.cursor() as cr:
            cr.execute("DELETE FROM ir_attachment WHERE url LIKE '/web/assets/%%'")
    finally:
        conn.close()


@pytest.fixture(scope="module")
def demo_server(template_db):
    name = f"{template_db}_shots_{uuid.uuid4().hex[:6]}"
    odoo_env.create_database_from_template(template_db, name)
    _forget_asset_bundles(name)
    server = OdooServer(name, max_cron_threads=0, config=SECRET_KEY_CONFIG)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        odoo_env.drop_database(name)


def _role_sessions(server, admin):
    company = admin.call("res.users", "read", [admin.uid], ["company_id"])[0]["company_id"][0]
    sessions = {}
    for role, groups in ROLES.items():
        login = f"{role.replace('_', '-')}-{uuid.uuid4().hex[:4]}"
        admin.call(
            "res.users",
            "create",
            {
                "name": role.replace("_", " ").title(),
                "login": login,
                "password": login,
                "company_id": company,
                "company_ids": [(6, 0, [company])],
                "groups_id": [(6, 0, [admin.ref(g) for g in ("base.group_user", *groups)])],
            },
        )
        client = RpcClient(server.url, server.dbname).login(login, login)
        sessions[role] = client.session.cookies.get("session_id")
    return sessions


def test_each_roles_main_screens_render_without_client_errors(demo_server):
    admin = RpcClient(demo_server.url, demo_server.dbname).login("admin", "admin")
    sessions = _role_sessions(demo_server, admin)
    save = os.environ.get("HCSC_SCREENSHOTS") == "1"
    if save:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    failures = []
    chrome = Chrome()
    try:
        for role, screen, path, ready, click in _screens(admin):
            where = f"{role} {screen} ({path})"
            try:
                chrome.open(demo_server.url + path, sessions[role], ready, click)
            except AssertionError as error:
                failures.append(f"{where}: {error}")
                chrome.client_errors()
                continue
            errors = chrome.client_errors()
            if errors:
                failures.append(f"{where}: " + "; ".join(errors))
            elif save:
                chrome.screenshot(SCREENSHOT_DIR / f"{role}-{screen}.png")
    finally:
        chrome.close()
    assert not failures, "\n".join(failures)
