import json

from odoo.tests import HttpCase, TransactionCase, tagged

from ..correlation import (
    CONTEXT_KEY,
    correlation_id_from_headers,
    get_correlation_id,
    outbound_headers,
    with_correlation_id,
)
from .common import FakeModelsMixin

RECORD = "integration.audit.test.record"


@tagged("post_install", "-at_install")
class TestCorrelationParsing(TransactionCase):
    def test_header_wins_over_traceparent(self):
        cid = correlation_id_from_headers(
            {
                "X-Correlation-ID": "order-42",
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            }
        )
        self.assertEqual(cid, "order-42")

    def test_trace_id_taken_from_traceparent(self):
        cid = correlation_id_from_headers(
            {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
        )
        self.assertEqual(cid, "4bf92f3577b34da6a3ce929d0e0e4736")

    def test_invalid_values_are_ignored(self):
        for headers in (
            {"X-Correlation-ID": "bad id with spaces"},
            {"X-Correlation-ID": "x" * 200},
            {"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"},
            {"traceparent": "garbage"},
            {},
        ):
            self.assertIsNone(correlation_id_from_headers(headers), headers)

    def test_context_value_is_used_and_propagated(self):
        partner = with_correlation_id(self.env["res.partner"], "ctx-1")
        self.assertEqual(get_correlation_id(partner.env), "ctx-1")
        self.assertEqual(outbound_headers(partner.env)["X-Correlation-ID"], "ctx-1")

    def test_generated_once_per_transaction(self):
        first = get_correlation_id(self.env)
        self.assertRegex(first, r"^[0-9a-f]{32}$")
        self.assertEqual(get_correlation_id(self.env), first)
        self.assertIn(first, outbound_headers(self.env)["traceparent"])

    def test_cron_run_gets_its_own_correlation_id(self):
        action = self.env["ir.actions.server"].create(
            {
                "name": "log from cron",
                "model_id": self.env.ref("base.model_res_partner").id,
                "state": "code",
                "code": "env['integration.audit.event']._log('manual_action', 'cron test ran')",
            }
        )
        cron = self.env["ir.cron"].create(
            {
                "name": "audit correlation test",
                "ir_actions_server_id": action.id,
                "interval_number": 1,
                "interval_type": "days",
            }
        )
        cron._callback(cron.name, action.id)
        cron._callback(cron.name, action.id)
        events = self.env["integration.audit.event"].search(
            [("summary", "=", "cron test ran")], order="id"
        )
        self.assertEqual(len(events), 2)
        self.assertTrue(all(events.mapped("correlation_id")))
        self.assertNotEqual(events[0].correlation_id, events[1].correlation_id)
        self.assertNotIn(events[0].correlation_id, (self.env.context.get(CONTEXT_KEY), None))


@tagged("post_install", "-at_install")
class TestCorrelationHttp(FakeModelsMixin, HttpCase):
    """Correlation IDs from request headers to the audit events of a JSON-RPC write."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_fake_models()
        cls._create_audit_rule(RECORD, ("note",))
        cls.record = cls.Record.create({"name": "Ward 7 pharmacy"})

    def setUp(self):
        super().setUp()
        self.authenticate("admin", "admin")

    def _rpc_write(self, headers):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "model": RECORD,
                "method": "write",
                "args": [[self.record.id], {"note": "changed " + json.dumps(headers)}],
                "kwargs": {},
            },
        }
        return self.url_open(
            "/web/dataset/call_kw/%s/write" % RECORD,
            data=json.dumps(payload),
            headers=dict(headers, **{"Content-Type": "application/json"}),
        )

    def _last_change(self):
        return self.env["integration.audit.event"].search(
            [
                ("res_model", "=", RECORD),
                ("res_id", "=", self.record.id),
                ("event_type", "=", "record_changed"),
            ],
            order="id desc",
            limit=1,
        )

    def test_header_is_echoed_and_kept_on_audit_event(self):
        response = self._rpc_write({"X-Correlation-ID": "ehr-msg-0001"})
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("error", response.json())
        self.assertEqual(response.headers["X-Correlation-ID"], "ehr-msg-0001")
        self.assertEqual(self._last_change().correlation_id, "ehr-msg-0001")

    def test_traceparent_trace_id_is_used(self):
        response = self._rpc_write(
            {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
        )
        self.assertEqual(response.headers["X-Correlation-ID"], "0af7651916cd43dd8448eb211c80319c")
        self.assertEqual(self._last_change().correlation_id, "0af7651916cd43dd8448eb211c80319c")

    def test_generated_when_absent(self):
        response = self._rpc_write({})
        cid = response.headers["X-Correlation-ID"]
        self.assertRegex(cid, r"^[0-9a-f]{32}$")
        self.assertEqual(self._last_change().correlation_id, cid)

    def test_error_answers_carry_the_header(self):
        response = self.url_open("/web/content/999999999", headers={"X-Correlation-ID": "gone-1"})
        self.assertEqual(response.headers.get("X-Correlation-ID"), "gone-1")
