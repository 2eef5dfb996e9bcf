import json
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .. import signing
from .common import QueueCase, allow_local_outbound, set_jobs, start_recorder


@tagged("post_install", "-at_install")
class TestOutbound(QueueCase):
    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.server = start_recorder()
        cls.addClassCleanup(cls.server.shutdown)
        cls.out_type = cls.env["integration.message.type"].create(
            {"code": "test.notice", "name": "Notice", "direction": "outbound", "lane": "standard"}
        )
        cls.partner.write(
            {
                "outbound_url": f"http://127.0.0.1:{cls.server.server_address[1]}/hook",
                "subscription_ids": [(6, 0, cls.out_type.ids)],
            }
        )
        cls.env["ir.config_parameter"].set_param("integration_queue.circuit_failure_threshold", "3")
        allow_local_outbound(cls.env)

    def setUp(self):
        super().setUp()
        self.server.received.clear()
        self.server.statuses.clear()

    def send(self, payload=None):
        return self.env["integration.message"]._send_outbound(
            self.partner, "test.notice", payload or {"item": "GLOVE-M", "qty": 3}
        )

    def _make_due(self, message):
        set_jobs(message.job_ids, eta="due")

    def test_delivery_is_signed_and_correlated(self):
        message = self.send()
        self.run_jobs()
        self.assertEqual(message.state, "done")
        headers, body = self.server.received[0]
        self.assertEqual(headers["webhook-id"], message.external_id)
        self.assertEqual(headers["X-Correlation-ID"], message.correlation_id)
        signing.verify(
            [self.secret],
            headers["webhook-id"],
            headers["webhook-timestamp"],
            body,
            headers["webhook-signature"],
        )
        self.assertEqual(json.loads(body), {"item": "GLOVE-M", "qty": 3})
        self.assertTrue(
            self.env["integration.audit.event"].search(
                [
                    ("correlation_id", "=", message.correlation_id),
                    ("event_type", "=", "outbound_sent"),
                ]
            )
        )

    def test_retry_keeps_webhook_id(self):
        self.server.statuses.extend([503])
        message = self.send()
        self.run_jobs()
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.job_ids.attempts, 1)
        self._make_due(message)
        self.run_jobs()
        self.assertEqual(message.state, "done")
        ids = {headers["webhook-id"] for headers, _body in self.server.received}
        self.assertEqual(ids, {message.external_id})
        self.assertEqual(len(self.server.received), 2)

    def test_client_error_is_business_exception(self):
        self.server.statuses.extend([400])
        message = self.send()
        self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertIn("400", message.error)

    def test_circuit_breaker_opens_defers_and_closes_after_probe(self):
        self.server.statuses.extend([500, 500, 500])
        messages = [self.send({"n": n}) for n in range(3)]
        for _round in range(3):
            for message in messages:
                self._make_due(message)
            self.run_jobs()
        self.assertEqual(self.partner.circuit_state, "open")
        calls = len(self.server.received)
        # while open: jobs are deferred, not failed, and the partner is not called
        for message in messages:
            self._make_due(message)
        attempts_before = sum(m.job_ids.attempts for m in messages)
        self.run_jobs()
        self.assertEqual(len(self.server.received), calls)
        self.assertEqual(sum(m.job_ids.attempts for m in messages), attempts_before)
        self.assertTrue(
            all(
                m.job_ids.eta >= self.partner.circuit_open_until - timedelta(seconds=1)
                for m in messages
                if m.state != "done"
            )
        )
        # cooldown over: a probe succeeds and the circuit closes
        self.partner.circuit_open_until = fields.Datetime.now() - timedelta(seconds=1)
        for message in messages:
            self._make_due(message)
        self.run_jobs()
        self.assertEqual(self.partner.circuit_state, "closed")
        self.assertEqual({m.state for m in messages}, {"done"})
