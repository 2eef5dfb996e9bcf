import html

from odoo.tests import BaseCase, tagged

from .. import outbound
from .common import QueueCase, allow_local_outbound, start_recorder


class TestOutboundPolicy(BaseCase):
    """The address check itself (plain Python)."""

    def test_inside_addresses_are_refused(self):
        policy = outbound.Policy()
        for address in (
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "0.0.0.0",
            "240.0.0.1",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
        ):
            with self.assertRaises(outbound.BlockedDestination, msg=address):
                policy.check_address("partner.example", address)
        policy.check_address("partner.example", "93.184.216.34")

    def test_allow_list_names_networks_and_hosts(self):
        policy = outbound.Policy.from_text("10.20.0.0/16, wms.internal")
        policy.check_address("any", "10.20.3.4")
        policy.check_address("wms.internal", "10.9.9.9")
        with self.assertRaises(outbound.BlockedDestination):
            policy.check_address("other.internal", "10.9.9.9")

    def test_https_only_unless_allowed(self):
        with self.assertRaises(outbound.BlockedDestination):
            outbound.Policy().check_url("http://partner.example/hook")
        with self.assertRaises(outbound.BlockedDestination):
            outbound.Policy().check_url("https://user:pw@partner.example/hook")
        outbound.Policy().check_url("https://partner.example/hook")
        outbound.Policy(allow_http=True).check_url("http://partner.example/hook")

    def test_excerpt_is_short_and_escaped(self):
        text = outbound.excerpt("<script>alert(1)</script>\x00" + "x" * 500, 40)
        self.assertNotIn("<script>", text)
        self.assertIn("&lt;script&gt;", text)
        self.assertLessEqual(len(html.unescape(text)), 40)


@tagged("post_install", "-at_install")
class TestOutboundGuard(QueueCase):
    """Deliveries to a real local endpoint: refused unless the allow-list lets them through."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.server = start_recorder()
        cls.other = start_recorder()
        cls.addClassCleanup(cls.server.shutdown)
        cls.addClassCleanup(cls.other.shutdown)
        cls.out_type = cls.env["integration.message.type"].create(
            {"code": "test.guarded", "name": "Guarded", "direction": "outbound"}
        )
        cls.partner.write(
            {
                "outbound_url": f"http://127.0.0.1:{cls.server.server_address[1]}/hook",
                "subscription_ids": [(6, 0, cls.out_type.ids)],
            }
        )

    def setUp(self):
        super().setUp()
        for server in (self.server, self.other):
            server.received.clear()
            server.statuses.clear()
            server.answer_body = b"{}"

    def send(self):
        message = self.env["integration.message"]._send_outbound(
            self.partner, "test.guarded", {"n": 1}
        )
        self.run_jobs()
        return message

    def params(self):
        return self.env["ir.config_parameter"].sudo()

    def test_http_is_refused_by_default(self):
        self.params().set_param("integration_queue.outbound_allowed_networks", "127.0.0.0/8")
        self.params().set_param("integration_queue.allow_insecure_http", "")
        message = self.send()
        self.assertEqual(message.state, "exception")
        self.assertIn("scheme", message.error)
        self.assertFalse(self.server.received)

    def test_loopback_is_refused_without_allow_list(self):
        self.params().set_param("integration_queue.allow_insecure_http", "1")
        self.params().set_param("integration_queue.outbound_allowed_networks", "")
        for host in ("127.0.0.1", "localhost"):
            self.partner.outbound_url = f"http://{host}:{self.server.server_address[1]}/hook"
            message = self.send()
            self.assertEqual(message.state, "exception", host)
            self.assertIn("not a public address", message.error)
            self.assertEqual(message.error_field, "outbound_url")
        self.assertFalse(self.server.received)

    def test_redirect_is_not_followed(self):
        allow_local_outbound(self.env)
        self.server.statuses.append(302)
        self.server.location = f"http://127.0.0.1:{self.other.server_address[1]}/inside"
        message = self.send()
        self.assertEqual(len(self.server.received), 1)
        self.assertFalse(self.other.received)
        self.assertEqual(message.state, "exception")
        self.assertIn("redirect", message.error)

    def test_partner_answer_is_kept_as_short_escaped_excerpt(self):
        allow_local_outbound(self.env)
        self.server.statuses.append(400)
        self.server.answer_body = b"<img src=x onerror=alert(1)>" + b"A" * 5000
        message = self.send()
        self.assertEqual(message.state, "exception")
        self.assertIn("400", message.error)
        self.assertNotIn("<img", message.error)
        self.assertIn("&lt;img", message.error)
        self.assertLess(len(message.error), 600)
        self.assertNotIn("<img", message.job_ids.last_error)
