from odoo.tests import tagged

from .common import QueueHttpCase

URL = "/integration/v1/inbound/integration.ping"


@tagged("post_install", "-at_install")
class TestGatewayHostile(QueueHttpCase):
    """Bad input and anonymous callers over real HTTP: 4xx JSON, never 500."""

    def post_raw(self, body, **sign):
        headers, body_bytes = self.signed(body, **sign)
        return self.url_open(URL, data=body_bytes, headers=headers)

    def events(self, **domain):
        return self.env["integration.audit.event"].search(
            [(name, "=", value) for name, value in domain.items()]
        )

    def assert400(self, response, code="malformed_json"):
        self.assertEqual(response.status_code, 400, response.text)
        error = response.json()["error"]
        self.assertEqual(error["code"], code)
        self.assertTrue(error["message"])
        self.assertEqual(error["correlation_id"], response.headers["X-Correlation-ID"])
        return error

    def test_hostile_bodies_get_400_naming_the_problem_with_an_audit_event(self):
        cases = {
            b"[" * 100000: "nested deeper",
            b'{"note": "a", "note": "b"}': "duplicate key",
            b'{"note": NaN}': "NaN",
            b'{"note": Infinity}': "Infinity",
            b'{"note": 1e999999}': "out of range",
            b'{"note": ' + b"9" * 100000 + b"}": "digits",
            b'{"note": "caf\xe9"}': "not UTF-8",
            '{"note": "x"}'.encode("utf-16"): "not UTF-8",
        }
        before = len(self.events(event_type="inbound_rejected"))
        for body, reason in cases.items():
            error = self.assert400(self.post_raw(body))
            self.assertIn(reason, error["message"])
        self.assertEqual(
            self.assert400(self.post_raw(b'{"note": "a", "note": "b"}'))["field"], "note"
        )
        # one audit event per partner, code and minute; every rejection is counted
        self.assertIn(len(self.events(event_type="inbound_rejected")) - before, (1, 2))
        rows = self.env["integration.gateway.rejection"].search(
            [("partner_id", "=", self.partner.id), ("code", "=", "malformed_json")]
        )
        self.assertEqual(sum(rows.mapped("count")), len(cases) + 1)

    def test_oversized_webhook_id_is_a_400_not_a_500(self):
        error = self.assert400(
            self.post_raw({"note": "x"}, msg_id="m" * 5000), "invalid_webhook_id"
        )
        self.assertEqual(error["field"], "webhook-id")

    def test_status_query_is_bound_to_the_signed_webhook_id(self):
        self.receive({"note": "mine"}, msg_id="msg_status_a")
        self.receive({"note": "other"}, msg_id="msg_status_b")
        headers, _body = self.signed(b"", msg_id="msg_status_a")
        own = self.url_open("/integration/v1/messages/msg_status_a", headers=headers)
        self.assertEqual(own.status_code, 200, own.text)
        replayed = self.url_open("/integration/v1/messages/msg_status_b", headers=headers)
        self.assertEqual(replayed.status_code, 401, replayed.text)
        self.assertNotIn("other", replayed.text)

    def test_bad_signature_flood_leaves_a_handful_of_audit_events(self):
        before = len(self.events(event_type="inbound_rejected"))
        for _index in range(200):
            response = self.post_raw({"note": "x"}, secret="whsec_" + "B" * 44)
            self.assertEqual(response.status_code, 401)
        after = len(self.events(event_type="inbound_rejected"))
        self.assertLessEqual(after - before, 3)
        counted = sum(self.env["integration.gateway.rejection"].search([]).mapped("count"))
        self.assertGreaterEqual(counted, 200)

    def test_anonymous_caller_never_joins_a_partner_trace(self):
        answer = self.receive({"note": "victim"}, msg_id="msg_victim")
        victim_cid = answer.body["correlation_id"]
        before = len(self.events(correlation_id=victim_cid))
        for response in (
            self.post_raw({"note": "x"}, secret="whsec_" + "B" * 44, msg_id="msg_anon"),
            self.url_open(
                URL,
                data=b"{}",
                headers={"Content-Type": "application/json", "X-Correlation-ID": victim_cid},
            ),
            self.url_open(
                "/integration/v1/messages/msg_victim", headers={"X-Correlation-ID": victim_cid}
            ),
        ):
            self.assertEqual(response.status_code, 401)
            self.assertNotEqual(response.headers["X-Correlation-ID"], victim_cid)
            self.assertEqual(
                response.json()["error"]["correlation_id"], response.headers["X-Correlation-ID"]
            )
        self.assertEqual(len(self.events(correlation_id=victim_cid)), before)

    def post_raw_with_cid(self, body, cid, **sign):
        headers, body_bytes = self.signed(body, **sign)
        headers["X-Correlation-ID"] = cid
        return self.url_open(URL, data=body_bytes, headers=headers)

    def test_authenticated_partner_keeps_its_correlation_id(self):
        response = self.post_raw_with_cid({"note": 42}, "partner-trace-1")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.headers["X-Correlation-ID"], "partner-trace-1")
