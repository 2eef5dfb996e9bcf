from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .. import signing
from .common import TEST_TYPE, FakeQueueCase, set_jobs


@tagged("post_install", "-at_install")
class TestFairness(FakeQueueCase):
    """One partner's failing stream never holds back another's; formats fail closed."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.other = cls.env["integration.partner"].create(
            {
                "code": "TEST-OTHER",
                "name": "Other partner",
                "rate_limit": 1000,
                "message_type_ids": [(6, 0, cls.test_type.ids)],
            }
        )
        cls.other_secret = signing.generate_secret()
        cls.env["integration.partner.secret"]._store(cls.other, cls.other_secret)

    def receive_other(self, body, msg_id):
        return self.receive(
            body,
            message_type=TEST_TYPE,
            msg_id=msg_id,
            secret=self.other_secret,
            partner_code=self.other.code,
        )

    def test_same_ordering_value_of_two_partners_are_two_streams(self):
        self.receive_test({"stream": "ward-1", "outcome": "technical"}, msg_id="msg_fair_a")
        self.receive_other({"stream": "ward-1", "note": "b"}, msg_id="msg_fair_b")
        failing = self.message("msg_fair_a").job_ids
        other = self.env["integration.message"].search([("external_id", "=", "msg_fair_b")])
        self.assertNotEqual(failing.ordering_key, other.job_ids.ordering_key)
        self.run_jobs()
        # the first partner's message is retrying, with its eta in the future ...
        self.assertEqual((failing.state, failing.attempts), ("pending", 1))
        self.assertTrue(failing.eta)
        # ... and the other partner's message of the same ordering value went through
        self.assertEqual(other.state, "done")

    def test_retrying_job_at_the_head_does_not_block_the_lane(self):
        self.receive_test({"outcome": "technical"}, msg_id="msg_head")
        head = self.message("msg_head").job_ids
        self.run_jobs()
        self.assertEqual(head.state, "pending")
        set_jobs(head, priority=0)  # the very first in claim order
        for n in range(5):
            self.receive_other({"note": str(n)}, msg_id=f"msg_behind_{n}")
        self.run_jobs()
        behind = self.env["integration.message"].search([("external_id", "like", "msg_behind_")])
        self.assertEqual(set(behind.mapped("state")), {"done"})
        self.assertEqual(head.attempts, 1)  # not run again before its eta

    def test_formats_are_enforced(self):
        self.env["integration.message.type"].browse(self.test_type.id).sudo().write(
            {
                "schema": '{"type": "object", "properties": {'
                '"note": {"type": "string", "format": "date-time"},'
                '"stream": {"type": "string", "format": "email"}}}'
            }
        )
        bad = self.receive_test({"note": "yesterday"})
        self.assertEqual(bad.status, 400)
        self.assertEqual(bad.body["error"]["field"], "note")
        self.assertEqual(self.receive_test({"stream": "not-an-address"}).status, 400)
        self.assertEqual(self.receive_test({"note": "2026-01-31T10:00:00Z"}).status, 202)

    def test_format_without_checker_fails_closed(self):
        with self.assertRaises(ValidationError):
            self.env["integration.message.type"].create(
                {
                    "code": "test.unchecked",
                    "name": "Unchecked",
                    "schema": '{"properties": {"x": {"format": "no-such-format"}}}',
                }
            )
