"""The partner documentation works as written.

Every JSON example in README.md and in each addon's readme/USAGE.md is marked by the HTML
comment before it, ``<!-- example: <type> from <partner>: <status> <final state> -->``.
Each is posted, signed as that demo partner, to a server on a copy of the demo database,
in document order; the answer must be the documented HTTP status and the message must end
in the documented state (asked through the signed status query). The README's Python and
shell snippets are the code that signs and queries here, so they are run too.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
import xmlrpc.client
from pathlib import Path

import pytest

from tests.harness import odoo_env
from tests.harness.server import OdooServer

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md"] + [
    REPO / "addons" / name / "readme" / "USAGE.md" for name in odoo_env.OUR_ADDONS
]
MARKED = re.compile(
    r"<!-- example: (?P<spec>[^\n]*?) -->\n```(?P<lang>\w+)\n(?P<body>.*?)\n```", re.S
)
MESSAGE_SPEC = re.compile(
    r"(?P<type>[\w.]+) from (?P<partner>[\w-]+): (?P<status>\d{3}) (?P<state>\w+)$"
)
SECRET_KEY_CONFIG = {"integration_queue_secret_key": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="}
FINAL_STATES = ("done", "exception", "failed", "dead", "cancelled")


def marked_blocks(path):
    """(line, spec, language, body) of every marked code block of a document."""
    text = path.read_text()
    return [
        (text[: match.start()].count("\n") + 1, match["spec"], match["lang"], match["body"])
        for match in MARKED.finditer(text)
    ]


def message_examples(path):
    examples = []
    for line, spec, lang, body in marked_blocks(path):
        match = MESSAGE_SPEC.match(spec)
        if lang == "json" and match:
            examples.append((f"{path.relative_to(REPO)}:{line}", match.groupdict(), body))
    return examples


def snippet(language):
    """The README's marked snippet in ``language`` (python or shell)."""
    blocks = [
        body for _line, spec, _lang, body in marked_blocks(REPO / "README.md") if spec == language
    ]
    assert len(blocks) == 1, f"README.md must hold one snippet marked 'example: {language}'"
    return blocks[0]


def readme_client():
    """signed_headers, send and status, as the README defines them."""
    namespace = {"__name__": "readme_example"}
    exec(compile(snippet("python"), "README.md (python example)", "exec"), namespace)
    return namespace


class Admin:
    """XML-RPC as the demo administrator, the way an integrator's admin would click."""

    def __init__(self, server):
        self.db = server.dbname
        common = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/common")
        self.uid = common.authenticate(self.db, "admin", "admin", {})
        self.rpc = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/object", allow_none=True)

    def call(self, model, method, *args, **kwargs):
        return self.rpc.execute_kw(self.db, self.uid, "admin", model, method, list(args), kwargs)

    def rotate_secret(self, partner_code):
        """*Rotate Secret* on the partner form: the secret shown once."""
        ids = self.call("integration.partner", "search", [("code", "=", partner_code)])
        assert ids, f"the demo database has no integration partner {partner_code}"
        action = self.call("integration.partner", "action_rotate_secret", ids[:1])
        return action["context"]["default_secret"]


@pytest.fixture(scope="module")
def docs_server(template_db):
    name = f"{template_db}_docs_{uuid.uuid4().hex[:6]}"
    odoo_env.create_database_from_template(template_db, name)
    server = OdooServer(name, max_cron_threads=1, config=SECRET_KEY_CONFIG)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        odoo_env.drop_database(name)


@pytest.fixture(scope="module")
def secrets(docs_server):
    admin = Admin(docs_server)
    cache = {}

    def secret_of(partner_code):
        if partner_code not in cache:
            cache[partner_code] = admin.rotate_secret(partner_code)
        return cache[partner_code]

    return secret_of


def wait_final(client, server, partner, secret, webhook_id, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        answer = client["status"](server.url, partner, secret, webhook_id)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if body["status"] in FINAL_STATES or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


def missing_demo_records(admin, examples):
    """Demo records the examples name that the database does not hold (partners, orders)."""
    missing = []
    for _where, spec, body in examples:
        payload = json.loads(body)
        if not admin.call("integration.partner", "search", [("code", "=", spec["partner"])]):
            missing.append(f"integration.partner {spec['partner']}")
        order = payload.get("purchase_order")
        if order and not admin.call("purchase.order", "search", [("name", "=", order)]):
            missing.append(f"purchase.order {order}")
    return sorted(set(missing))


def check_business_state(admin, message_type, payload):
    """The record the documented example promises, beyond the message's state."""
    if message_type == "contract.upsert":
        contracts = admin.call(
            "purchase.contract",
            "search_read",
            [("external_ref", "=", payload["contract"])],
            fields=["state"],
        )
        assert [c["state"] for c in contracts] == [payload["state"]], contracts
    elif message_type == "purchase.acknowledgement" and payload["status"] == "accepted":
        # the documented acceptance matches the demo order: no discrepancy
        orders = admin.call(
            "purchase.order",
            "search_read",
            [("name", "=", payload["purchase_order"])],
            fields=["ack_state", "ack_version"],
        )
        assert [(o["ack_state"], o["ack_version"]) for o in orders] == [
            ("acknowledged", payload["order_version"])
        ], orders
    elif message_type == "vendor.bill":
        bills = admin.call(
            "account.move",
            "search_read",
            [("move_type", "=", "in_invoice"), ("ref", "=", payload["invoice_number"])],
            fields=["invoice_origin", "state"],
        )
        assert [(b["invoice_origin"], b["state"]) for b in bills] == [
            (payload["purchase_order"], "draft")
        ], bills


def test_every_json_example_is_marked():
    for path in DOCS:
        text = path.read_text()
        marked = sum(1 for _l, _s, lang, _b in marked_blocks(path) if lang == "json")
        assert text.count("```json") == marked, f"{path}: a JSON example without its marker"
        for line, spec, lang, body in marked_blocks(path):
            if lang == "json":
                json.loads(body)  # valid JSON as written, no comments or placeholders
                assert MESSAGE_SPEC.match(spec) or spec.startswith("outbound "), (path, line, spec)


@pytest.mark.parametrize(
    "doc",
    [d for d in DOCS if message_examples(d)],
    ids=lambda d: d.parent.parent.name if d.name == "USAGE.md" else d.name,
)
def test_documented_examples_answer_as_documented(doc, docs_server, secrets):
    client = readme_client()
    admin = Admin(docs_server)
    for where, spec, body in message_examples(doc):
        payload = json.loads(body)
        # the demo database holds every record an example names: one missing fails
        missing = missing_demo_records(admin, [(where, spec, body)])
        assert not missing, f"{where}: the demo database lacks {', '.join(missing)}"
        secret = secrets(spec["partner"])
        webhook_id, answer = client["send"](
            docs_server.url, spec["partner"], secret, spec["type"], payload
        )
        assert answer.status_code == int(spec["status"]), (
            f"{where}: {answer.status_code} {answer.text}"
        )
        if answer.status_code != 202:
            continue
        final = wait_final(client, docs_server, spec["partner"], secret, webhook_id)
        assert final["status"] == spec["state"], f"{where}: {final}"
        check_business_state(admin, spec["type"], payload)


def test_readme_python_snippet_pings_and_queries(docs_server, secrets):
    client = readme_client()
    secret = secrets("DEMO-EHR")
    webhook_id, answer = client["send"](
        docs_server.url, "DEMO-EHR", secret, "integration.ping", {"note": "hello"}
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "queued"
    final = wait_final(client, docs_server, "DEMO-EHR", secret, webhook_id)
    assert final["status"] == "done"
    assert final["result"] == {"pong": "hello", "message": webhook_id}
    other = client["status"](docs_server.url, "DEMO-EHR", secret, "msg_" + uuid.uuid4().hex)
    assert other.status_code == 404


def test_readme_shell_snippet_pings_and_queries(docs_server, secrets):
    missing = [t for t in ("bash", "curl", "openssl", "od", "base64") if not shutil.which(t)]
    assert not missing, f"the README's shell example needs {', '.join(missing)}"
    env = dict(os.environ, ODOO_URL=docs_server.url, PARTNER="DEMO-EHR", SECRET=secrets("DEMO-EHR"))
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", snippet("shell")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    queued, answered = (json.loads(line) for line in done.stdout.strip().splitlines())
    assert queued["status"] == "queued", queued
    assert answered["message_id"] == queued["message_id"], answered
    assert answered["type"] == "integration.ping", answered
    # five seconds are usually enough for the job; the Python client waits for sure
    final = wait_final(
        readme_client(), docs_server, "DEMO-EHR", env["SECRET"], queued["message_id"]
    )
    assert final["status"] == "done", final
    assert final["result"]["pong"] == "hello"


def test_odoo_conf_example_audit_key_commands_work(tmp_path):
    """The commands odoo.conf.example gives for the audit signing key, run from a checkout."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PrivateKey,
    )

    text = (REPO / "odoo.conf.example").read_text()
    commands = [
        line.removeprefix(";").strip()
        for line in text.splitlines()
        if line.startswith(";   ") and line.rstrip().endswith("> audit-export.pem")
    ]
    assert len(commands) == 2, commands
    for command in commands:
        if command.startswith("python "):
            command = f"{shlex.quote(sys.executable)} {command.removeprefix('python ')}"
        else:
            assert shutil.which(command.split()[0]), f"{command.split()[0]} is needed: {command}"
        (tmp_path / "audit-export.pem").unlink(missing_ok=True)
        done = subprocess.run(
            command,
            shell=True,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{command}: {done.stderr}"
        pem = (tmp_path / "audit-export.pem").read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(key, Ed25519PrivateKey), command


def outbound_examples():
    return [
        (f"{path.relative_to(REPO)}:{line}", spec.removeprefix("outbound ").strip(), body)
        for path in DOCS
        for line, spec, lang, body in marked_blocks(path)
        if lang == "json" and spec.startswith("outbound ")
    ]


@pytest.mark.parametrize("where, message_type, body", outbound_examples())
def test_outbound_example_has_the_shape_that_is_sent(where, message_type, body, docs_server):
    """An outbound example carries the keys Odoo sends, and the same values for its order."""
    admin = Admin(docs_server)
    documented = json.loads(body)
    sent = admin.call(
        "integration.message",
        "search_read",
        [("direction", "=", "outbound"), ("message_type", "=", message_type)],
        fields=["payload"],
        order="id desc",
    )
    assert sent, f"{where}: the demo database has sent no {message_type} to compare with"
    payloads = [json.loads(row["payload"]) for row in sent]
    same_record = [
        p
        for p in payloads
        if "purchase_order" in p and p["purchase_order"] == documented.get("purchase_order")
    ]
    if "purchase_order" in documented:
        assert same_record, (
            f"{where}: the demo database sent no {message_type} for {documented['purchase_order']}"
        )
    actual = (same_record or payloads)[0]
    assert sorted(actual) == sorted(documented), where
    if actual.get("lines") and documented.get("lines"):
        assert sorted(actual["lines"][0]) == sorted(documented["lines"][0]), where
    if same_record:
        for key in ("supplier", "facility", "currency", "buyer_company"):
            assert actual.get(key) == documented.get(key), f"{where}: {key}"
