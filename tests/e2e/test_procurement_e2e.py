"""contract_procurement from the outside: a contract arrives by message, a purchase request
makes an order at the contract price, the order is confirmed and transmitted to the supplier
(a local endpoint), the supplier acknowledges with a price change, goods arrive by an
inventory.receipt message, a bill arrives, and the match flags exactly the expected line.
Every partner system acts inside its scope: a supplier portal of another supplier is
refused (403) on the same order."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.harness.server import OdooServer

from .test_healthcare_e2e import Group, days, send
from .test_queue_crash import SECRET_KEY_CONFIG


class _Supplier(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.orders.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def _partner_with_types(group, code, types, extra=None):
    type_ids = group.call("integration.message.type", "search", [("code", "in", types)])
    group.call(
        "integration.partner",
        "create",
        [
            dict(
                {
                    "code": code,
                    "name": code,
                    "rate_limit": 0,
                    "message_type_ids": [(6, 0, type_ids)],
                },
                **(extra or {}),
            )
        ],
    )
    return group.partner(code)


def test_contract_to_match_through_messages(fresh_db):
    supplier_site = ThreadingHTTPServer(("127.0.0.1", 0), _Supplier)
    supplier_site.orders = []
    threading.Thread(target=supplier_site.serve_forever, daemon=True).start()
    server = OdooServer(fresh_db, max_cron_threads=2, config=SECRET_KEY_CONFIG).start()
    try:
        group = Group(server)
        # the supplier's endpoint is plain http on 127.0.0.1: allowed for this test only
        for key, value in (
            ("integration_queue.allow_insecure_http", "1"),
            ("integration_queue.outbound_allowed_networks", "127.0.0.0/8"),
        ):
            group.call("ir.config_parameter", "set_param", key, value)
        [portal_id] = group.call(
            "integration.partner",
            "create",
            [
                {
                    "code": "E2E-SUPPLIER-PORTAL",
                    "name": "Supplier portal",
                    "outbound_url": f"http://127.0.0.1:{supplier_site.server_address[1]}/po",
                    "message_type_ids": [
                        (
                            6,
                            0,
                            group.call(
                                "integration.message.type",
                                "search",
                                [("code", "=", "purchase.acknowledgement")],
                            ),
                        )
                    ],
                }
            ],
        )
        [supplier_id] = group.call(
            "res.partner",
            "create",
            [
                {
                    "name": "E2E Medical Supplies",
                    "ref": "SUP-E2E",
                    "integration_partner_id": portal_id,
                    "is_company": True,
                }
            ],
        )
        # each partner system acts for its supplier or facility only (its scope)
        speaks_for_supplier = {"supplier_ids": [(6, 0, [supplier_id])]}
        group.call("integration.partner", "write", [portal_id], speaks_for_supplier)
        portal = group.partner("E2E-SUPPLIER-PORTAL")
        hospital_north = group.call("stock.warehouse", "search", [("facility_code", "=", "HOSP-N")])
        platform = _partner_with_types(
            group, "E2E-CONTRACTS", ["contract.upsert"], speaks_for_supplier
        )
        # a contract platform's "active" contracts take effect only once a
        # Procurement Manager (admin here) trusts it; others wait in review
        platform_id = group.call("integration.partner", "search", [("code", "=", "E2E-CONTRACTS")])
        group.call("integration.partner", "action_trust_contract_platform", platform_id)
        ehr = _partner_with_types(
            group, "E2E-EHR", ["purchase.request"], {"facility_ids": [(6, 0, hospital_north)]}
        )
        ap = _partner_with_types(group, "E2E-AP", ["vendor.bill"], speaks_for_supplier)
        wms = group.partner("DEMO-HOSP-N")

        send(
            platform,
            "contract.upsert",
            {
                "contract": "E2E-CT-1",
                "supplier": "SUP-E2E",
                "start_date": days(-1),
                "end_date": days(365),
                "state": "active",
                "lines": [
                    {"item": "IVS-NACL-500", "price": 2.0},
                    {"item": "MSK-SURG", "price": 0.5},
                ],
            },
        )
        request = send(
            ehr,
            "purchase.request",
            {
                "request": "E2E-REQ-1",
                "facility": "HOSP-N",
                "lines": [
                    {"item": "IVS-NACL-500", "quantity": 100},
                    {"item": "MSK-SURG", "quantity": 200},
                ],
            },
        )
        [order_name] = request["result"]["orders"]
        [order] = group.call(
            "purchase.order", "search_read", [("name", "=", order_name)], ["order_line"]
        )
        lines = group.call(
            "purchase.order.line",
            "read",
            order["order_line"],
            ["product_id", "price_unit", "contract_price"],
        )
        assert sorted(line["price_unit"] for line in lines) == [0.5, 2.0]

        group.call("purchase.order", "button_confirm", [order["id"]])
        deadline = time.monotonic() + 120
        while not supplier_site.orders and time.monotonic() < deadline:
            time.sleep(0.2)
        [sent] = supplier_site.orders
        assert (sent["purchase_order"], sent["order_version"]) == (order_name, 1)

        send(
            portal,
            "purchase.acknowledgement",
            {
                "purchase_order": order_name,
                "order_version": 1,
                "status": "changed",
                "lines": [
                    {"item": "IVS-NACL-500", "quantity": 100, "price": 2.2},
                    {"item": "MSK-SURG", "quantity": 200, "price": 0.5},
                ],
            },
        )
        [acked] = group.call("purchase.order", "read", [order["id"]], ["ack_state"])
        assert acked["ack_state"] == "discrepancy"

        # another supplier's portal cannot reject this supplier's order
        [other_supplier_id] = group.call(
            "res.partner",
            "create",
            [{"name": "E2E Other Supplier", "ref": "SUP-E2E-OTHER", "is_company": True}],
        )
        other_portal = _partner_with_types(
            group,
            "E2E-OTHER-PORTAL",
            ["purchase.acknowledgement"],
            {"supplier_ids": [(6, 0, [other_supplier_id])]},
        )
        refused = other_portal.post(
            "purchase.acknowledgement",
            {"purchase_order": order_name, "order_version": 1, "status": "rejected"},
            msg_id="e2e_other_portal_ack",
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["field"] == "purchase_order"
        [acked] = group.call("purchase.order", "read", [order["id"]], ["ack_state"])
        assert acked["ack_state"] == "discrepancy"

        send(
            wms,
            "inventory.receipt",
            {
                "facility": "HOSP-N",
                "purchase_order": order_name,
                "received_at": days(0) + "T09:00:00Z",
                "lines": [
                    {"item": "IVS-NACL-500", "lot": "E2E-L1", "expiry": days(300), "quantity": 100},
                    {"item": "MSK-SURG", "quantity": 150},
                ],
            },
        )
        bill = send(
            ap,
            "vendor.bill",
            {
                "purchase_order": order_name,
                "invoice_number": "E2E-INV-1",
                "lines": [
                    {"item": "IVS-NACL-500", "quantity": 100, "price": 2.0},
                    {"item": "MSK-SURG", "quantity": 200, "price": 0.5},
                ],
            },
        )
        assert bill["result"]["match_state"] == "exception"
        assert bill["result"]["exceptions"] == ["qty_not_received"]
        exceptions = group.call(
            "purchase.match.exception",
            "search_read",
            [("move_id.ref", "=", "E2E-INV-1")],
            ["exception_type", "purchase_line_id", "state"],
        )
        assert len(exceptions) == 1
        [flagged] = group.call(
            "purchase.order.line", "read", [exceptions[0]["purchase_line_id"][0]], ["product_id"]
        )
        assert "MSK-SURG" in flagged["product_id"][1]
    finally:
        server.stop()
        supplier_site.shutdown()
