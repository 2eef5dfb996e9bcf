import json
import threading
import time

from odoo.tests import tagged
from odoo.tools import config

from .common import QueueHttpCase

URL = "/integration/v1/inbound/"


@tagged("post_install", "-at_install")
class TestGatewayHttp(QueueHttpCase):
    def post(self, body, message_type="integration.ping", headers=None, **sign):
        signed, body_bytes = self.signed(body, **sign)
        signed.update(headers or {})
        return self.url_open(URL + message_type, data=body_bytes, headers=signed)

    def assertError(self, response, status, code, field=None):
        self.assertEqual(response.status_code, status, response.text)
        error = response.json()["error"]
        self.assertEqual(error["code"], code)
        self.assertTrue(error["message"])
        self.assertEqual(error["correlation_id"], response.headers["X-Correlation-ID"])
        if field:
            self.assertEqual(error["field"], field)
        return error

    def rejected_events(self):
        return self.env["integration.audit.event"].search([("event_type", "=", "inbound_rejected")])

    def test_202_stores_queues_and_audits(self):
        msg_id = self.new_id()
        response = self.post(
            {"note": "hello"}, msg_id=msg_id, headers={"X-Correlation-ID": "corr-202"}
        )
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(
            response.json(),
            {"message_id": msg_id, "correlation_id": "corr-202", "status": "queued"},
        )
        self.assertEqual(response.headers["X-Correlation-ID"], "corr-202")
        message = self.message(msg_id)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.correlation_id, "corr-202")
        self.assertEqual(len(message.job_ids), 1)
        self.assertEqual(message.job_ids.lane, "critical")
        event = self.env["integration.audit.event"].search(
            [("correlation_id", "=", "corr-202"), ("event_type", "=", "inbound_received")]
        )
        self.assertEqual(event.payload_sha256, message.payload_sha256)
        self.assertEqual(event.partner_code, self.partner.code)

    def test_200_on_same_id_and_body_any_number_of_times(self):
        msg_id = self.new_id()
        first = self.post({"note": "once"}, msg_id=msg_id)
        self.assertEqual(first.status_code, 202)
        for _attempt in range(3):
            again = self.post({"note": "once"}, msg_id=msg_id)
            self.assertEqual(again.status_code, 200)
            self.assertEqual(again.json()["status"], "queued")
            self.assertEqual(again.json()["message_id"], msg_id)
        self.assertEqual(len(self.message(msg_id)), 1)
        self.assertEqual(len(self.message(msg_id).job_ids), 1)

    def test_concurrent_duplicates_give_one_message_and_one_job(self):
        msg_id = self.new_id()
        headers, body = self.signed({"note": "race"}, msg_id=msg_id)
        statuses = []

        def send():
            statuses.append(
                self.url_open(URL + "integration.ping", data=body, headers=headers).status_code
            )

        threads = [threading.Thread(target=send) for _index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(sorted(statuses), [200] * 7 + [202])
        self.assertEqual(len(self.message(msg_id)), 1)
        self.assertEqual(len(self.message(msg_id).job_ids), 1)

    def test_422_same_id_other_body(self):
        msg_id = self.new_id()
        self.post({"note": "a"}, msg_id=msg_id)
        self.assertError(
            self.post({"note": "b"}, msg_id=msg_id), 422, "idempotency_conflict", "webhook-id"
        )
        # a reused webhook-id is a conflict even when the new body would not validate
        self.assertError(self.post({"note": 42}, msg_id=msg_id), 422, "idempotency_conflict")
        self.assertEqual(self.message(msg_id).payload, '{"note": "a"}')

    def test_400_malformed_json(self):
        before = len(self.rejected_events())
        self.assertError(self.post('{"note": '), 400, "malformed_json")
        self.assertEqual(len(self.rejected_events()), before + 1)

    def test_400_schema_violation_names_field(self):
        error = self.assertError(self.post({"note": 42}), 400, "invalid_payload", "note")
        self.assertIn("not of type", error["message"])
        self.assertError(self.post({"unexpected": 1}), 400, "invalid_payload")

    def test_401_cases_look_alike(self):
        answers = [
            self.post({"note": "x"}, partner_code="NOPE"),
            self.post({"note": "x"}, secret="whsec_" + "B" * 44),
            self.post({"note": "x"}, timestamp=int(time.time()) - 400),
            self.post({"note": "x"}, headers={"webhook-signature": ""}),
            self.url_open(
                URL + "integration.ping", data=b"{}", headers={"Content-Type": "application/json"}
            ),
        ]
        for response in answers:
            error = self.assertError(response, 401, "unauthorized")
            self.assertEqual(error["message"], "authentication failed")

    def test_401_inactive_partner(self):
        self.partner.active = False
        self.assertError(self.post({"note": "x"}), 401, "unauthorized")

    def test_403_type_not_allowed(self):
        other = self.env["integration.message.type"].create({"code": "test.other", "name": "Other"})
        self.assertEqual(other.code, "test.other")
        self.assertError(self.post({}, message_type="test.other"), 403, "forbidden")

    def test_404_unknown_type(self):
        self.assertError(self.post({}, message_type="no.such.type"), 404, "unknown_message_type")

    def test_413_body_over_limit(self):
        self.env["ir.config_parameter"].set_param("integration_queue.max_body_bytes", "100")
        self.assertError(self.post({"note": "x" * 150}), 413, "payload_too_large")

    def test_415_not_json(self):
        self.assertError(
            self.post({"note": "x"}, headers={"Content-Type": "text/plain"}),
            415,
            "unsupported_media_type",
            "Content-Type",
        )

    def test_429_over_rate_limit_with_retry_after(self):
        self.partner.rate_limit = 2
        self.assertEqual(self.post({"note": "1"}).status_code, 202)
        self.assertEqual(self.post({"note": "2"}).status_code, 202)
        response = self.post({"note": "3"})
        self.assertError(response, 429, "rate_limited")
        self.assertTrue(1 <= int(response.headers["Retry-After"]) <= 61)

    def test_message_status_query(self):
        msg_id = self.new_id()
        self.post({"note": "status"}, msg_id=msg_id)
        self.run_jobs()
        headers, _body = self.signed(b"", msg_id=msg_id)
        response = self.url_open(f"/integration/v1/messages/{msg_id}", headers=headers)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["status"], "done")
        self.assertEqual(response.json()["result"]["pong"], "status")
        self.assertTrue(
            self.env["integration.audit.event"].search(
                [("event_type", "=", "inbound_query"), ("res_id", "=", self.message(msg_id).id)]
            )
        )
        bad = dict(headers, **{"webhook-signature": "v1,AAAA"})
        self.assertEqual(
            self.url_open(f"/integration/v1/messages/{msg_id}", headers=bad).status_code, 401
        )
        headers, _body = self.signed(b"", msg_id="msg_unknown")
        self.assertEqual(
            self.url_open("/integration/v1/messages/msg_unknown", headers=headers).status_code, 404
        )

    def test_health_needs_no_auth_and_reveals_nothing(self):
        response = self.url_open("/integration/v1/health")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok"})
        self.assertTrue(response.headers["X-Correlation-ID"])

    def test_metrics_need_the_token(self):
        self.assertEqual(self.url_open("/integration/v1/metrics").status_code, 401)
        config.options["integration_queue_metrics_token"] = "s3cret-token"
        self.addCleanup(config.options.pop, "integration_queue_metrics_token", None)
        self.assertEqual(
            self.url_open(
                "/integration/v1/metrics", headers={"Authorization": "Bearer wrong"}
            ).status_code,
            401,
        )
        self.post({"note": "m"})
        self.run_jobs()
        response = self.url_open(
            "/integration/v1/metrics", headers={"Authorization": "Bearer s3cret-token"}
        )
        self.assertEqual(response.status_code, 200)
        text = response.text
        self.assertIn('integration_queue_jobs{lane="critical",state="done"}', text)
        self.assertIn('integration_queue_processed_total{lane="critical"}', text)
        self.assertIn('integration_queue_latency_seconds_bucket{lane="critical",le="+Inf"}', text)

    def test_every_answer_has_correlation_id_and_audit_event(self):
        before = self.env["integration.audit.event"].search_count(
            [("event_type", "in", ("inbound_received", "inbound_rejected"))]
        )
        responses = [
            self.post({"note": "ok"}),
            self.post("nope"),
            self.post({}, message_type="x.y"),
        ]
        for response in responses:
            self.assertTrue(response.headers.get("X-Correlation-ID"))
        after = self.env["integration.audit.event"].search_count(
            [("event_type", "in", ("inbound_received", "inbound_rejected"))]
        )
        self.assertEqual(after - before, 3)
        rejected = self.rejected_events()[:1]
        self.assertTrue(json.loads(rejected.details)["code"])
