import time
import tracemalloc
import uuid

from odoo.tests import new_test_user, tagged

from .. import signing
from .common import QueueCase, QueueHttpCase, allow_local_outbound, start_recorder

INBOUND = "/integration/v1/inbound/"


@tagged("post_install", "-at_install")
class TestQueueRedTeam(QueueHttpCase):
    """What got through a red-team pass (JSON-RPC and signed HTTP), each refused now."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Red Team Company B"})
        new_test_user(
            cls.env,
            "rt_iq_manager",
            groups="base.group_user,integration_queue.group_integration_manager",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.partner_b = cls.env["integration.partner"].create(
            {
                "code": "RT-EHR-B",
                "name": "Red team EHR of company B",
                "company_id": cls.company_b.id,
                "rate_limit": 1000,
                "message_type_ids": [(6, 0, cls.ping_type.ids)],
            }
        )
        cls.secret_b = signing.generate_secret()
        cls.env["integration.partner.secret"]._store(cls.partner_b, cls.secret_b)

    def post(self, path, body, **sign):
        headers, body_bytes = self.signed(body, **sign)
        return self.url_open(INBOUND + path, data=body_bytes, headers=headers)

    def status(self, external_id, path_id=None, **extra):
        """A signed status query (signature over the empty body)."""
        headers = signing.sign_headers(self.secret, external_id, b"", timestamp=int(time.time()))
        headers.update({"X-Partner-Code": self.partner.code, **extra})
        return self.url_open(
            "/integration/v1/messages/" + (path_id or external_id), headers=headers
        )

    # ------------------------------------------------------------------
    # JSON-RPC
    # ------------------------------------------------------------------

    def test_manager_cannot_move_a_partner_into_a_company_he_is_not_in(self):
        """He holds the partner's secret: in company B it would act where he has no right."""
        self.authenticate("rt_iq_manager", "rt_iq_manager")
        message = self.assertRefused(
            "integration.partner", "write", [self.partner.id], {"company_id": self.company_b.id}
        )
        self.assertIn("company_id", message)
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.company_id, self.company_a)
        self.assertEqual(self.partner.secret_ids.company_id, self.company_a)

    # ------------------------------------------------------------------
    # Signed and unsigned HTTP
    # ------------------------------------------------------------------

    def test_nul_characters_in_codes_and_ids_get_4xx_never_500(self):
        # anonymous: a NUL in X-Partner-Code broke the partner look-up itself
        headers = {
            "X-Partner-Code": "TEST\x00EHR",
            "webhook-id": "msg_nul",
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": "v1,AAAA",
            "Content-Type": "application/json",
        }
        response = self.url_open(INBOUND + "integration.ping", data=b"{}", headers=headers)
        self.assertEqual(response.status_code, 401, response.text)
        # signed: a NUL in the message type of the path
        response = self.post("integration.ping%00", {"note": "x"})
        self.assertEqual(response.status_code, 404, response.text)
        self.assertEqual(response.json()["error"]["code"], "unknown_message_type")
        # signed: a NUL in the webhook-id of a status query
        response = self.status("msg\x00x", path_id="msg%00x")
        self.assertEqual(response.status_code, 400, response.text)
        self.assertEqual(response.json()["error"]["field"], "webhook-id")

    def test_escaped_quotes_do_not_make_the_depth_check_quadratic(self):
        """33 brackets then 40 000 escaped quotes (80 KB) held a worker for about a
        minute before the fix; a 1 MiB body of them, for hours."""
        body = ("[" * 33 + '"' + '\\"' * 40000).encode()
        started = time.monotonic()
        response = self.post("integration.ping", body)
        elapsed = time.monotonic() - started
        self.assertEqual(response.status_code, 400, response.text)
        self.assertIn("nested deeper", response.json()["error"]["message"])
        self.assertLess(elapsed, 5, "the depth check is not linear")

    def test_chunked_body_is_not_read_beyond_the_limit(self):
        """A chunked body has no Content-Length: all 64 MiB of it went into memory
        (twice; up to Odoo's 128 MiB) for a request refused at 1 MiB. What a
        request costs anyway (about 22 MiB traced here) does not grow with it."""
        chunk = b" " * (1024 * 1024)

        def chunks():
            yield b'{"note": "'
            for _i in range(64):
                yield chunk
            yield b'"}'

        headers, _body = self.signed({"note": "x"})
        # warm up: the first request of a run builds the routing map and more
        self.url_open(INBOUND + "integration.ping", data=b"{}", headers=headers)
        tracemalloc.start()
        try:
            try:
                response = self.url_open(
                    INBOUND + "integration.ping", data=chunks(), headers=headers
                )
                status = response.status_code
            except OSError:
                status = None  # the server may drop the connection it stopped reading
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertIn(status, (413, None))
        self.assertLess(peak, 48 * 1024 * 1024, f"{peak} bytes held for a refused body")

    def test_partner_cannot_join_another_partners_trace(self):
        """Partner A names partner B's correlation ID (company B): A gets a fresh one."""
        response = self.post(
            "integration.ping",
            {"note": "b"},
            secret=self.secret_b,
            partner_code=self.partner_b.code,
        )
        self.assertEqual(response.status_code, 202, response.text)
        trace_b = response.json()["correlation_id"]

        msg_id = "msg_" + uuid.uuid4().hex
        headers, body = self.signed({"note": "a"}, msg_id=msg_id)
        headers["X-Correlation-ID"] = trace_b
        response = self.url_open(INBOUND + "integration.ping", data=body, headers=headers)
        self.assertEqual(response.status_code, 202, response.text)
        own = response.json()["correlation_id"]
        self.assertNotEqual(own, trace_b)
        self.assertEqual(response.headers["X-Correlation-ID"], own)
        self.assertEqual(self.message(msg_id).correlation_id, own)
        events = self.env["integration.audit.event"].search([("correlation_id", "=", trace_b)])
        self.assertEqual(set(events.mapped("partner_code")), {self.partner_b.code})

        # nor with a status query
        response = self.status(msg_id, **{"X-Correlation-ID": trace_b})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertNotEqual(response.headers["X-Correlation-ID"], trace_b)

        # a trace of its own is kept
        headers, body = self.signed({"note": "a2"})
        headers["X-Correlation-ID"] = "ehr-run-4711"
        response = self.url_open(INBOUND + "integration.ping", data=body, headers=headers)
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json()["correlation_id"], "ehr-run-4711")


@tagged("post_install", "-at_install")
class TestOutboundRedTeam(QueueCase):
    """A hostile partner endpoint, over real HTTP on 127.0.0.1."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.server = start_recorder()
        cls.addClassCleanup(cls.server.shutdown)
        out_type = cls.env["integration.message.type"].create(
            {"code": "test.redteam", "name": "Red team", "direction": "outbound"}
        )
        cls.partner.write(
            {
                "outbound_url": f"http://127.0.0.1:{cls.server.server_address[1]}/hook",
                "subscription_ids": [(6, 0, out_type.ids)],
            }
        )
        allow_local_outbound(cls.env)

    def test_a_huge_answer_is_not_read_into_memory(self):
        """64 MiB answered to a delivery went whole into the worker's memory
        (the message keeps a 200-character excerpt of it)."""
        self.server.statuses.append(400)
        self.server.answer_body = b"<b>" + b"x" * (64 * 1024 * 1024)
        tracemalloc.start()
        try:
            message = self.env["integration.message"]._send_outbound(
                self.partner, "test.redteam", {"n": 1}
            )
            self.run_jobs()
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            self.server.answer_body = b"{}"
        self.assertEqual(message.state, "exception")
        self.assertIn("&lt;b&gt;xxx", message.error)
        self.assertLess(peak, 16 * 1024 * 1024, f"{peak} bytes held for a partner's answer")
