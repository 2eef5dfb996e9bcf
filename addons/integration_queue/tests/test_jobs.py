from odoo import fields
from odoo.tests import tagged

from .common import ECHO_JOB, TEST_HANDLER, FakeQueueCase, QueueCase, set_jobs


@tagged("post_install", "-at_install")
class TestJobs(FakeQueueCase):
    """The queue's mechanics, on the tests' own message type and handler (tests/models.py)."""

    def test_message_processed_once_with_result_and_audit(self):
        answer = self.receive_test({"note": "hi"}, msg_id="msg_done_1")
        self.assertEqual(answer.status, 202)
        message = self.message("msg_done_1")
        self.assertEqual(self.run_jobs(), 1)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.job_ids.state, "done")
        self.assertEqual(message.job_ids.attempts, 1)
        self.assertIn('"echo": "hi"', message.result)
        self.assertEqual(self.run_jobs(), 0)  # nothing runs twice
        self.assertEqual(self.handled(), ["msg_done_1"])
        types = (
            self.env["integration.audit.event"]
            .search([("correlation_id", "=", message.correlation_id)])
            .mapped("event_type")
        )
        self.assertIn("job_done", types)
        self.assertIn("inbound_received", types)

    def test_enqueue_is_separate_from_running(self):
        with self.trap_jobs() as trapped:
            self.receive_test({"note": "trap"})
        job = trapped["jobs"]
        self.assertEqual(len(job), 1)
        self.assertEqual(
            (job.lane, job.state, job.model_name, job.method_name),
            ("critical", "pending", TEST_HANDLER, "_handle"),
        )
        self.assertFalse(self.handled())  # enqueued, not run

    def test_business_exception_activity_then_replay_after_fix(self):
        self.receive_test({"ref": "WARD-9"}, msg_id="msg_biz")
        message = self.message("msg_biz")
        self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.error_field, "ref")
        self.assertEqual(message.job_ids.attempts, 1)  # no retry
        self.assertTrue(message.activity_ids)
        self.assertIn("WARD-9", message.activity_ids[0].note)
        # the cause is fixed, then the message is replayed with payload and correlation kept
        record = self.TestRecord.create({"name": "Ward 9", "ref": "WARD-9"})
        cid = message.correlation_id
        message.action_replay()
        self.assertEqual(message.state, "queued")
        self.assertFalse(message.activity_ids)
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.correlation_id, cid)
        self.assertEqual(len(message.job_ids), 2)
        self.assertEqual(
            (message.link_ids.res_model, message.link_ids.res_id), (record._name, record.id)
        )
        self.assertEqual(self.handled(), ["msg_biz"])
        replay_event = self.env["integration.audit.event"].search(
            [("correlation_id", "=", cid), ("event_type", "=", "manual_action")]
        )
        self.assertTrue(replay_event)

    def test_bulk_replay(self):
        for n in range(3):
            self.receive_test({"outcome": "business"}, msg_id=f"msg_bulk_{n}")
        self.run_jobs()
        messages = self.env["integration.message"].search([("external_id", "like", "msg_bulk_")])
        self.assertEqual(set(messages.mapped("state")), {"exception"})
        messages.action_replay()
        self.assertEqual(set(messages.mapped("state")), {"queued"})

    def _failing_job(self, max_attempts=3):
        # a technical failure, every time
        return self.env["integration.job"]._enqueue(
            *ECHO_JOB, kwargs={"outcome": "technical"}, max_attempts=max_attempts, lane="bulk"
        )

    def _make_due(self, job):
        set_jobs(job, eta="due")

    def test_technical_failure_retries_with_backoff_then_dead(self):
        job = self._failing_job(max_attempts=3)
        before = fields.Datetime.now()
        self.run_jobs()
        self.assertEqual((job.state, job.attempts), ("pending", 1))
        self.assertIn("RuntimeError", job.last_error)
        self.assertTrue(job.traceback)
        first_delay = (job.eta - before).total_seconds()
        self.assertGreaterEqual(first_delay, 4)
        self.assertEqual(self.run_jobs(), 0)  # not before its eta
        self._make_due(job)
        self.run_jobs()
        self.assertEqual((job.state, job.attempts), ("pending", 2))
        self.assertGreater((job.eta - fields.Datetime.now()).total_seconds(), first_delay / 2)
        self._make_due(job)
        self.run_jobs()
        self.assertEqual((job.state, job.attempts), ("dead", 3))
        job.action_requeue()
        self.assertEqual((job.state, job.attempts), ("pending", 0))

    def test_dead_message_gets_activity_for_integration_managers(self):
        self.test_type.max_attempts = 1
        self.receive_test({"outcome": "technical"}, msg_id="msg_dead")
        message = self.message("msg_dead")
        self.run_jobs()
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.job_ids.state, "dead")
        self.assertTrue(message.activity_ids)

    def test_ordering_key_runs_one_at_a_time_oldest_first(self):
        for n in range(3):
            self.receive_test({"note": str(n), "stream": "facility-A"}, msg_id=f"msg_ord_{n}")
        self.receive_test({"note": "b", "stream": "facility-B"}, msg_id="msg_ord_b")
        Job = self.env["integration.job"]
        claimed = Job._claim("critical", 10)
        names = claimed.mapped("message_id.external_id")
        self.assertEqual(sorted(names), ["msg_ord_0", "msg_ord_b"])
        # the oldest of a key failing technically keeps the younger ones waiting
        self.receive_test({"stream": "facility-C", "outcome": "technical"}, msg_id="msg_ord_c0")
        for n in range(1, 3):
            self.receive_test({"note": str(n), "stream": "facility-C"}, msg_id=f"msg_ord_c{n}")
        first = self.message("msg_ord_c0").job_ids
        self.run_jobs()
        self.assertEqual((first.state, first.attempts), ("pending", 1))
        self.assertEqual(self.message("msg_ord_c1").state, "queued")
        for _attempt in range(2):  # the test type gives up after 3 attempts
            self._make_due(first)
            self.run_jobs()
        self.assertEqual(first.state, "dead")
        done = self.env["integration.job"].search(
            [("ordering_key", "=", first.ordering_key), ("state", "=", "done")],
            order="date_done, id",
        )
        self.assertEqual(done.mapped("message_id.external_id"), ["msg_ord_c1", "msg_ord_c2"])
        # the handler saw each stream oldest first, and C's failing head never done
        stream_a = ["msg_ord_0", "msg_ord_1", "msg_ord_2"]
        stream_c = ["msg_ord_c0", "msg_ord_c1", "msg_ord_c2"]
        handled = self.handled()
        self.assertEqual([name for name in handled if name in stream_a], stream_a)
        self.assertEqual([name for name in handled if name in stream_c], stream_c[1:])
        self.assertEqual(
            self.message("msg_ord_0").job_ids.ordering_key,
            f"p{self.partner.id}/c{self.partner.company_id.id}/stream=facility-A",
        )

    def test_cancel_and_purge(self):
        self.receive_test({"note": "c"}, msg_id="msg_cancel")
        message = self.message("msg_cancel")
        message.action_cancel()
        self.assertEqual(message.job_ids.state, "cancelled")
        self.assertEqual(self.run_jobs(), 0)

    def test_counters_feed_metrics(self):
        self.receive_test({"note": "count"})
        self.run_jobs()
        text = self.env["integration.gateway"]._metrics_text()
        self.assertRegex(text, r'integration_queue_processed_total\{lane="critical"\} [1-9]')

    def test_critical_enqueue_triggers_its_cron(self):
        cron = self.env.ref("integration_queue.ir_cron_lane_critical")
        before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.receive_test({"note": "wake"})
        after = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.assertEqual(after, before + 1)

    def test_bulk_enqueue_wakes_the_lane_once(self):
        cron = self.env.ref("integration_queue.ir_cron_lane_bulk")
        Trigger = self.env["ir.cron.trigger"]
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        for _index in range(50):
            self.env["integration.job"]._enqueue(*ECHO_JOB, lane="bulk")
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 1)


@tagged("post_install", "-at_install")
class TestPingHandler(QueueCase):
    """integration.ping as partners use it: its lookup resolves a contact by reference."""

    def test_lookup_of_an_unknown_contact_is_a_business_exception_until_it_exists(self):
        self.receive({"lookup": "WARD-9"}, msg_id="msg_ping_lookup")
        message = self.message("msg_ping_lookup")
        self.run_jobs()
        self.assertEqual((message.state, message.error_field), ("exception", "lookup"))
        contact = self.env["res.partner"].create({"name": "Ward 9", "ref": "WARD-9"})
        message.action_replay()
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertIn('"pong": ""', message.result)
        self.assertEqual(message.link_ids.res_id, contact.id)
