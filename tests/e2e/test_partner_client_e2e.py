"""The partner client and its CLI (clients/python, imported from the repository) against a
real Odoo server on a copy of the demo database: ping, a batch with a progress summary,
status polling, a safe resend, and verification of an outbound webhook we deliver to a
local HTTP server (a purchase order transmitted to the partner's endpoint)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hcsc_partner_client import PartnerClient
from hcsc_partner_client.cli import main

from tests.harness.server import OdooServer

from .test_healthcare_e2e import Group, days
from .test_queue_crash import SECRET_KEY_CONFIG

CODE = "E2E-CLIENT"


class _Endpoint(BaseHTTPRequestHandler):
    """The partner's outbound endpoint: keeps each delivery's headers and raw body."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.deliveries.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def _register(group, endpoint_url):
    """A partner speaking for one supplier, with ping and contract.upsert, and a secret."""
    for key, value in (
        ("integration_queue.allow_insecure_http", "1"),
        ("integration_queue.outbound_allowed_networks", "127.0.0.0/8"),
    ):
        group.call("ir.config_parameter", "set_param", key, value)
    type_ids = group.call(
        "integration.message.type",
        "search",
        [("code", "in", ["integration.ping", "contract.upsert"])],
    )
    [partner_id] = group.call(
        "integration.partner",
        "create",
        [
            {
                "code": CODE,
                "name": CODE,
                "rate_limit": 0,
                "outbound_url": endpoint_url,
                "message_type_ids": [(6, 0, type_ids)],
            }
        ],
    )
    [supplier_id] = group.call(
        "res.partner",
        "create",
        [
            {
                "name": "E2E Client Supplier",
                "ref": "SUP-E2E-CLIENT",
                "integration_partner_id": partner_id,
                "is_company": True,
            }
        ],
    )
    group.call(
        "integration.partner", "write", [partner_id], {"supplier_ids": [(6, 0, [supplier_id])]}
    )
    action = group.call("integration.partner", "action_rotate_secret", [partner_id])
    return supplier_id, action["context"]["default_secret"]


def test_client_and_cli_against_the_demo_server(fresh_db, tmp_path, capsys, monkeypatch):
    endpoint = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    endpoint.deliveries = []
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    server = OdooServer(fresh_db, max_cron_threads=2, config=SECRET_KEY_CONFIG).start()
    try:
        group = Group(server)
        supplier_id, secret = _register(
            group, f"http://127.0.0.1:{endpoint.server_address[1]}/hooks"
        )
        monkeypatch.setenv("HCSC_URL", server.url)
        monkeypatch.setenv("HCSC_PARTNER", CODE)
        monkeypatch.setenv("HCSC_SECRET", secret)

        # ping: sent, processed by the cron lane, result polled
        assert main(["ping", "--note", "e2e", "--wait", "120"]) == 0
        pinged = json.loads(capsys.readouterr().out)
        assert pinged["body"]["status"] == "done"
        assert pinged["body"]["result"]["pong"] == "e2e"

        # a batch from an NDJSON file: progress bar and summary; all queued
        batch = tmp_path / "pings.ndjson"
        batch.write_text("".join(json.dumps({"note": f"n{i}"}) + "\n" for i in range(8)))
        assert main(["send", "integration.ping", str(batch)]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert (summary["sent"], summary["queued"], summary["failed"]) == (8, 8, 0)
        # resending the same file is safe: same webhook-ids, answered as duplicates
        assert main(["send", "integration.ping", str(batch), "--quiet"]) == 0
        assert json.loads(capsys.readouterr().out)["duplicate"] == 8

        # a batch with one message the gateway refuses: non-zero exit, the refusal named
        bad = tmp_path / "mixed.ndjson"
        bad.write_text('{"note": "fine"}\n{"note": "bad", "unknown_field": 1}\n')
        assert main(["send", "integration.ping", str(bad), "--quiet"]) == 1
        mixed = json.loads(capsys.readouterr().out)
        assert mixed["failed"] == 1 and mixed["failures"][0]["http_status"] == 400

        # status of one message of the batch, polled until done
        client = PartnerClient(server.url, CODE, secret)
        first_id = client.send("integration.ping", {"note": "n0"}).message_id
        assert main(["status", first_id, "--wait", "120"]) == 0
        assert json.loads(capsys.readouterr().out)["body"]["status"] == "done"
        assert main(["status", "msg_never_sent"]) == 1
        capsys.readouterr()

        # an outbound webhook: a contract sent with the CLI, an order at its price
        # confirmed as admin, transmitted to the endpoint, verified with the CLI
        contract = tmp_path / "contract.json"
        contract.write_text(
            json.dumps(
                {
                    "contract": "E2E-CLIENT-CT",
                    "supplier": "SUP-E2E-CLIENT",
                    "start_date": days(-1),
                    "end_date": days(365),
                    "state": "active",
                    "lines": [{"item": "MSK-SURG", "price": 0.5}],
                }
            )
        )
        assert main(["send", "contract.upsert", str(contract)]) == 0
        contract_id = json.loads(capsys.readouterr().out)["message_id"]
        assert client.wait(contract_id, timeout=120).body["status"] == "done"
        [product_id] = group.call("product.product", "search", [("default_code", "=", "MSK-SURG")])
        [order_id] = group.call(
            "purchase.order",
            "create",
            [
                {
                    "partner_id": supplier_id,
                    "order_line": [(0, 0, {"product_id": product_id, "product_qty": 10})],
                }
            ],
        )
        group.call("purchase.order", "button_confirm", [order_id])
        deadline = time.monotonic() + 120
        while not endpoint.deliveries and time.monotonic() < deadline:
            time.sleep(0.2)
        [(headers, body)] = endpoint.deliveries
        (tmp_path / "headers.json").write_text(json.dumps(headers))
        (tmp_path / "body").write_bytes(body)
        verify = ["verify", "--headers", str(tmp_path / "headers.json"), "--body"]
        assert main([*verify, str(tmp_path / "body")]) == 0
        verified = json.loads(capsys.readouterr().out)
        assert verified["payload"]["order_version"] == 1
        assert client.verify_webhook(body, headers)["purchase_order"]
        (tmp_path / "body").write_bytes(body.replace(b'"order_version":1', b'"order_version":2'))
        assert main([*verify, str(tmp_path / "body")]) == 1
    finally:
        server.stop()
        endpoint.shutdown()
        endpoint.server_close()
