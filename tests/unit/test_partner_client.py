"""The partner client (clients/python) against a real local HTTP server playing the gateway.

Imported from the repository path: tests/conftest.py puts clients/python on sys.path.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hcsc_partner_client import PartnerClient, PartnerError, message_id_for
from hcsc_partner_client.cli import main

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
PARTNER = "TEST-PARTNER"


def reference_signature(secret, msg_id, timestamp, body):
    """HMAC-SHA256 per the gateway's README, independent of the library under test."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class Gateway(BaseHTTPRequestHandler):
    """Answers from ``server.script`` (a list of (status, headers, body, delay)), then 202."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        expected = reference_signature(
            SECRET, self.headers["webhook-id"], self.headers["webhook-timestamp"], body
        )
        self.server.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "body": body,
                "signed": hmac.compare_digest(expected, self.headers["webhook-signature"]),
            }
        )
        if self.server.script:
            status, headers, answer, delay = self.server.script.pop(0)
        elif b"bad" in body:
            status, headers, answer, delay = 400, {}, {"error": {"code": "invalid_payload"}}, 0
        elif self.command == "GET":
            status, headers, delay = 200, {}, 0
            answer = {"message_id": self.headers["webhook-id"], "status": "done"}
        else:
            status, headers, delay = 202, {}, 0
            answer = {"message_id": self.headers["webhook-id"], "status": "queued"}
        time.sleep(delay)
        data = json.dumps(answer).encode()
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_POST = _answer
    do_GET = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.requests = []
    server.script = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(gateway, sleeps):
    return PartnerClient(gateway.url, PARTNER, SECRET, timeout=2, retries=3, sleep=sleeps.append)


def test_send_is_signed_with_a_stable_webhook_id(client, gateway):
    first = client.send("integration.ping", {"note": "hello", "a": 1})
    again = client.send("integration.ping", {"a": 1, "note": "hello"})
    assert first.status_code == 202 and first.accepted
    assert (
        first.message_id
        == again.message_id
        == message_id_for("integration.ping", {"note": "hello", "a": 1})
    )
    assert all(request["signed"] for request in gateway.requests)
    headers = gateway.requests[0]["headers"]
    assert headers["X-Partner-Code"] == PARTNER
    assert headers["Content-Type"] == "application/json"
    assert gateway.requests[0]["path"] == "/integration/v1/inbound/integration.ping"


def test_other_body_gets_another_id(client):
    assert client.send("t", {"n": 1}).message_id != client.send("t", {"n": 2}).message_id


def test_429_waits_retry_after_and_resends_the_same_id(client, gateway, sleeps):
    gateway.script = [(429, {"Retry-After": "7"}, {"error": {"code": "rate_limited"}}, 0)]
    result = client.send("integration.ping", {"note": "x"})
    assert result.status_code == 202 and result.attempts == 2
    assert sleeps == [7.0]
    ids = {request["headers"]["webhook-id"] for request in gateway.requests}
    assert len(ids) == 1 and all(request["signed"] for request in gateway.requests)


def test_5xx_backs_off_and_gives_up_after_the_bound(client, gateway, sleeps):
    gateway.script = [(503, {}, {"error": {"code": "x"}}, 0)] * 10
    result = client.send("integration.ping", {"note": "x"})
    assert result.status_code == 503 and result.attempts == 4
    assert len(gateway.requests) == 4 and len(sleeps) == 3
    assert all(0 <= delay <= 30 for delay in sleeps)


def test_5xx_then_success(client, gateway, sleeps):
    gateway.script = [(500, {}, {}, 0), (502, {}, {}, 0)]
    result = client.send("integration.ping", {"note": "x"})
    assert result.status_code == 202 and result.attempts == 3 and len(sleeps) == 2


def test_timeout_is_retried(gateway, sleeps):
    client = PartnerClient(
        gateway.url, PARTNER, SECRET, timeout=0.3, retries=2, sleep=sleeps.append
    )
    gateway.script = [(202, {}, {"late": True}, 1.0)]
    result = client.send("integration.ping", {"note": "slow"})
    assert result.status_code == 202 and result.attempts == 2 and len(sleeps) == 1


def test_connection_refused_raises_after_retries(sleeps):
    client = PartnerClient("http://127.0.0.1:9", PARTNER, SECRET, retries=2, sleep=sleeps.append)
    with pytest.raises(PartnerError):
        client.send("integration.ping", {})
    assert len(sleeps) == 2


def test_4xx_is_not_retried(client, gateway, sleeps):
    result = client.send("integration.ping", {"bad": True})
    assert result.status_code == 400 and result.error == {"code": "invalid_payload"}
    assert len(gateway.requests) == 1 and not sleeps


def test_status_is_signed_over_an_empty_body_with_the_id(client, gateway):
    result = client.status("msg_42")
    assert result.status_code == 200 and result.body["status"] == "done"
    request = gateway.requests[0]
    assert request["method"] == "GET" and request["path"] == "/integration/v1/messages/msg_42"
    assert request["body"] == b"" and request["signed"]
    assert request["headers"]["webhook-id"] == "msg_42"


def test_verify_webhook_accepts_ours_and_refuses_tampering(client):
    body = b'{"event":"purchase.order","n":1}'
    stamp = str(int(time.time()))
    headers = {
        "webhook-id": "msg_out_1",
        "webhook-timestamp": stamp,
        "webhook-signature": reference_signature(SECRET, "msg_out_1", stamp, body),
    }
    assert client.verify_webhook(body, headers) == {"event": "purchase.order", "n": 1}
    for forged_body, forged_headers in (
        (body.replace(b"1", b"2"), headers),
        (body, dict(headers, **{"webhook-id": "msg_other"})),
        (body, dict(headers, **{"webhook-timestamp": str(int(time.time()) - 3600)})),
        (body, dict(headers, **{"webhook-signature": "v1,garbage"})),
        (body, dict(headers, **{"webhook-signature": "nonsense"})),
        (body, {}),
    ):
        with pytest.raises(PartnerError):
            client.verify_webhook(forged_body, forged_headers)


def cli(gateway, *args):
    return main(["--url", gateway.url, "--partner", PARTNER, "--secret", SECRET, *args])


def test_cli_send_batch_summarises_and_fails_on_any_failure(gateway, tmp_path, capsys):
    batch = tmp_path / "batch.ndjson"
    batch.write_text('{"note": "one"}\n{"note": "two"}\n\n{"bad": true}\n')
    assert cli(gateway, "--retries", "0", "send", "integration.ping", str(batch)) == 1
    summary = json.loads(capsys.readouterr().out)
    assert (summary["sent"], summary["queued"], summary["failed"]) == (3, 2, 1)
    assert summary["failures"][0]["source"] == "batch.ndjson:4"


def test_cli_send_folder_and_single_file(gateway, tmp_path, capsys):
    folder = tmp_path / "messages"
    folder.mkdir()
    for number in range(3):
        (folder / f"m{number}.json").write_text(json.dumps({"note": str(number)}))
    assert cli(gateway, "send", "integration.ping", str(folder)) == 0
    assert json.loads(capsys.readouterr().out)["queued"] == 3
    assert cli(gateway, "send", "integration.ping", str(folder / "m0.json"), "--id", "x1") == 0
    assert json.loads(capsys.readouterr().out)["message_id"] == "x1"


def test_cli_status_and_missing_configuration(gateway, capsys, monkeypatch):
    assert cli(gateway, "status", "msg_1") == 0
    assert json.loads(capsys.readouterr().out)["body"]["status"] == "done"
    for name in ("HCSC_URL", "HCSC_PARTNER", "HCSC_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit, match="missing"):
        main(["status", "msg_1"])


def test_cli_verify(tmp_path, capsys):
    body = b'{"n":1}'
    stamp = str(int(time.time()))
    headers = {
        "webhook-id": "msg_out",
        "webhook-timestamp": stamp,
        "webhook-signature": reference_signature(SECRET, "msg_out", stamp, body),
    }
    (tmp_path / "body").write_bytes(body)
    (tmp_path / "headers").write_text("\n".join(f"{k}: {v}" for k, v in headers.items()))
    args = ["--secret", SECRET, "verify", "--headers", str(tmp_path / "headers")]
    assert main([*args, "--body", str(tmp_path / "body")]) == 0
    assert json.loads(capsys.readouterr().out)["payload"] == {"n": 1}
    (tmp_path / "body").write_bytes(b'{"n":2}')
    assert main([*args, "--body", str(tmp_path / "body")]) == 1
