"""schemathesis over every operation of the served OpenAPI document, against a real server
on a copy of the demo database.

Signed run: a requests auth hook signs each generated request (Standard Webhooks headers
over the exact bytes sent) as the demo partner DEMO-EHR, whose secret is rotated first and
which is given every inbound message type and its company's facilities and suppliers, so
requests reach validation, scope checks and the queue. Checks on every answer: no 5xx, the
status code, content type, headers and body documented for the operation, and every
rejection carries the documented error object. Unsigned run: the same operations without a
signature get 401 (health excepted). Bounded by ``MAX_EXAMPLES``; the number of requests and
the time are printed (``pytest -s`` shows them; they are also in the assertion message).
"""

import json
import time
import uuid
import xmlrpc.client
from collections import Counter
from urllib.parse import unquote, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.harness import odoo_env
from tests.harness.server import OdooServer

from .queue_client import sign
from .test_queue_crash import SECRET_KEY_CONFIG

PARTNER = "DEMO-EHR"
METRICS_TOKEN = "fuzz-metrics-token"
# examples per operation and generation mode: 13 operations x (positive + negative)
MAX_EXAMPLES = {"signed": 20, "unsigned": 5}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ERROR_KEYS = {"code", "message", "field", "correlation_id"}
READINESS_PATH = "/integration/v1/health/ready"


@schemathesis.serializer("application/edi-x12")
def _x12_text(_ctx, value):
    """An X12 interchange is text: the fuzzer's strings go out as UTF-8 bytes, and
    what negative testing makes of a body (numbers, objects) as its JSON text."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()


class Signer(requests.auth.AuthBase):
    """Sign the prepared request as the partner: the hook that lets requests through."""

    def __init__(self, code, secret):
        self.code = code
        self.secret = secret
        self.last_id = None
        self.count = 0

    def __call__(self, request):
        self.count += 1
        path = urlsplit(request.url).path
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        if path.startswith("/integration/v1/messages/"):
            msg_id = unquote(path.rsplit("/", 1)[1])
        elif self.last_id and self.count % 5 == 0:
            msg_id = self.last_id  # a resend: duplicate (200) or conflict (422)
        else:
            msg_id = f"fz_{uuid.uuid4().hex}"
        self.last_id = msg_id
        headers = sign(self.secret, msg_id, body)
        if not msg_id.isascii():
            # a status query signs the id of its path; the header copy is not read
            del headers["webhook-id"]
        request.headers.update(headers)
        request.headers["X-Partner-Code"] = self.code
        if path == "/integration/v1/metrics":
            request.headers["Authorization"] = f"Bearer {METRICS_TOKEN}"
        return request


def _scope_partner(server):
    """Give DEMO-EHR every inbound type, its company's facilities and suppliers; new secret."""
    common = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/common")
    uid = common.authenticate(server.dbname, "admin", "admin", {})
    rpc = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/object", allow_none=True)

    def call(model, method, *args, **kwargs):
        return rpc.execute_kw(server.dbname, uid, "admin", model, method, list(args), kwargs)

    [partner] = call("integration.partner", "search_read", [("code", "=", PARTNER)], ["company_id"])
    company = partner["company_id"][0]
    types = call("integration.message.type", "search", [("direction", "=", "inbound")])
    facilities = call("stock.warehouse", "search", [("company_id", "=", company)])
    suppliers = call(
        "res.partner",
        "search",
        [("is_company", "=", True), ("company_id", "in", [False, company])],
    )
    call(
        "integration.partner",
        "write",
        [partner["id"]],
        {
            "rate_limit": 0,
            "message_type_ids": [(6, 0, types)],
            "facility_ids": [(6, 0, facilities)],
            "supplier_ids": [(6, 0, suppliers)],
        },
    )
    action = call("integration.partner", "action_rotate_secret", [partner["id"]])
    return action["context"]["default_secret"]


def _wait_until_ready(server, timeout=120):
    """Fuzz a server whose lanes have run: before their first run it is rightly not
    ready (503). A ping wakes the cron workers at once."""
    body = b'{"note": "wake the lanes"}'
    headers = sign(server.secret, "fz_wake_" + uuid.uuid4().hex, body)
    headers.update({"X-Partner-Code": PARTNER, "Content-Type": "application/json"})
    requests.post(
        server.url + "/integration/v1/inbound/integration.ping",
        data=body,
        headers=headers,
        timeout=30,
    ).raise_for_status()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if requests.get(server.url + READINESS_PATH, timeout=10).status_code == 200:
            return
        time.sleep(0.5)
    raise AssertionError(f"the fuzz server's lanes did not run within {timeout} s")


@pytest.fixture(scope="module")
def fuzz_server(template_db):
    name = f"{template_db}_fz_{uuid.uuid4().hex[:6]}"
    odoo_env.create_database_from_template(template_db, name)
    config = dict(SECRET_KEY_CONFIG, integration_queue_metrics_token=METRICS_TOKEN)
    server = OdooServer(name, max_cron_threads=1, config=config).start()
    try:
        server.secret = _scope_partner(server)
        _wait_until_ready(server)
        document = requests.get(server.url + "/integration/v1/openapi.json", timeout=60).json()
        server.schema = schemathesis.openapi.from_dict(document)
        yield server
    finally:
        server.stop()
        odoo_env.drop_database(name)


def _error_object_problem(response):
    if response.status_code < 400:
        return None
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return "no error object"
    if not isinstance(error, dict) or set(error) != ERROR_KEYS:
        return f"error object keys {sorted(error) if isinstance(error, dict) else error!r}"
    return None


def _fuzz(server, session, max_examples, expect=None):
    """Run every operation; return (requests, statuses, failures, seconds)."""
    statuses = Counter()
    failures = []
    started = time.monotonic()
    for result in server.schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(
                server, session, operation, mode, max_examples, expect, statuses, failures
            )
    return sum(statuses.values()), statuses, failures, time.monotonic() - started


def _fuzz_operation(server, session, operation, mode, max_examples, expect, statuses, failures):
    """Up to ``max_examples`` generated requests of one operation; problems into ``failures``."""

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        try:
            response = case.call(base_url=server.url, session=session, timeout=60)
        except requests.RequestException as error:
            failures.append((operation.label, mode.value, "transport", str(error)))
            return
        statuses[response.status_code] += 1
        problems = []
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as error:  # schemathesis' check failures
            problems.append(
                "; ".join(str(sub).split("\n")[0] for sub in getattr(error, "exceptions", [error]))
            )
        # the readiness probe answers 503 with its reasons (its documented Readiness
        # object, checked by response_schema_conformance), not as a rejection
        problem = None if operation.path == READINESS_PATH else _error_object_problem(response)
        if problem:
            problems.append(problem)
        if expect and response.status_code not in expect(operation.path):
            problems.append(f"expected {sorted(expect(operation.path))}")
        if problems:
            request = response.request
            failures.append(
                (
                    operation.label,
                    mode.value,
                    response.status_code,
                    {
                        "url": request.url,
                        "headers": dict(request.headers),
                        "body": (request.body or b"")[:500],
                        "answer": response.text[:500],
                        "problems": problems,
                    },
                )
            )

    try:
        run()
    except Unsatisfiable:
        # an operation without parameters or body (health) has no invalid input to make
        if mode != GenerationMode.NEGATIVE:
            raise


def _report(kind, count, statuses, failures, seconds):
    line = (
        f"schemathesis {kind}: {count} requests in {seconds:.1f}s, "
        f"statuses {dict(sorted(statuses.items()))}, {len(failures)} failures"
    )
    print(line)
    for failure in failures[:5]:
        print(json.dumps(failure, default=str, indent=1)[:3000])
    return line


def test_signed_requests_never_break_the_contract(fuzz_server):
    session = requests.Session()
    session.auth = Signer(PARTNER, fuzz_server.secret)
    count, statuses, failures, seconds = _fuzz(fuzz_server, session, MAX_EXAMPLES["signed"])
    line = _report("signed", count, statuses, failures, seconds)
    assert count > 0 and not failures, line + "\n" + json.dumps(failures[:5], default=str)[:6000]
    # the signing hook works: requests reached validation and the queue
    assert statuses[202] > 0 and statuses[400] > 0, line


def test_unsigned_requests_get_401(fuzz_server):
    def expect(path):
        if path == "/integration/v1/health":
            return {200}
        if path == READINESS_PATH:
            return {200, 503}
        if path.startswith("/integration/v1/inbound/"):
            return {401, 413, 415}  # size and media type are checked before the signature
        return {401}

    session = requests.Session()
    count, statuses, failures, seconds = _fuzz(
        fuzz_server, session, MAX_EXAMPLES["unsigned"], expect=expect
    )
    line = _report("unsigned", count, statuses, failures, seconds)
    assert count > 0 and not failures, line + "\n" + json.dumps(failures[:5], default=str)[:6000]
    assert statuses[401] > 0, line


def test_strings_postgresql_cannot_hold_are_refused_not_500(fuzz_server):
    """Found by this fuzzer: a JSON string with U+0000 (or a lone surrogate) in a field the
    scope check looks up reached PostgreSQL and answered 500."""
    session = requests.Session()
    session.auth = Signer(PARTNER, fuzz_server.secret)
    answers = {}
    for text in ("PO\\u0000X", "PO\\udcbdX"):
        body = (
            '{"purchase_order": "%s", "order_version": 1, "status": "accepted", "lines": []}' % text
        ).encode()
        response = session.post(
            fuzz_server.url + "/integration/v1/inbound/purchase.acknowledgement",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        answers[text] = (response.status_code, _error_object_problem(response))
    assert all(status < 500 and not problem for status, problem in answers.values()), answers
