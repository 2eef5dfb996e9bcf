from odoo import fields
from odoo.tests import tagged

from .common import PING_JOB, QueueCase, set_jobs


@tagged("post_install", "-at_install")
class TestJobs(QueueCase):
    def test_message_processed_once_with_result_and_audit(self):
        answer = self.receive({"note": "hi"}, msg_id="msg_done_1")
        self.assertEqual(answer.status, 202)
        message = self.message("msg_done_1")
        self.assertEqual(self.run_jobs(), 1)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.job_ids.state, "done")
        self.assertEqual(message.job_ids.attempts, 1)
        self.assertIn('"pong": "hi"', message.result)
        self.assertEqual(self.run_jobs(), 0)  # nothing runs twice
        types = (
            self.env["integration.audit.event"]
            .search([("correlation_id", "=", message.correlation_id)])
            .mapped("event_type")
        )
        self.assertIn("job_done", types)
        self.assertIn("inbound_received", types)

    def test_enqueue_is_separate_from_running(self):
        with self.trap_jobs() as trapped:
            self.receive({"note": "trap"})
        job = trapped["jobs"]
        self.assertEqual(len(job), 1)
        self.assertEqual(
            (job.lane, job.state, job.model_name), ("critical", "pending", "integration.ping")
        )

    def test_business_exception_activity_then_replay_after_fix(self):
        self.receive({"lookup": "WARD-9"}, msg_id="msg_biz")
        message = self.message("msg_biz")
        self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.error_field, "lookup")
        self.assertEqual(message.job_ids.attempts, 1)  # no retry
        self.assertTrue(message.activity_ids)
        self.assertIn("WARD-9", message.activity_ids[0].note)
        # the cause is fixed, then the message is replayed with payload and correlation kept
        contact = self.env["res.partner"].create({"name": "Ward 9", "ref": "WARD-9"})
        cid = message.correlation_id
        message.action_replay()
        self.assertEqual(message.state, "queued")
        self.assertFalse(message.activity_ids)
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.correlation_id, cid)
        self.assertEqual(len(message.job_ids), 2)
        self.assertEqual(message.link_ids.res_id, contact.id)
        replay_event = self.env["integration.audit.event"].search(
            [("correlation_id", "=", cid), ("event_type", "=", "manual_action")]
        )
        self.assertTrue(replay_event)

    def test_bulk_replay(self):
        for n in range(3):
            self.receive({"fail": "business"}, msg_id=f"msg_bulk_{n}")
        self.run_jobs()
        messages = self.env["integration.message"].search([("external_id", "like", "msg_bulk_")])
        self.assertEqual(set(messages.mapped("state")), {"exception"})
        messages.action_replay()
        self.assertEqual(set(messages.mapped("state")), {"queued"})

    def _failing_job(self, max_attempts=3):
        # a technical failure, every time
        return self.env["integration.job"]._enqueue(
            *PING_JOB, kwargs={"fail": "technical"}, max_attempts=max_attempts, lane="bulk"
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
        self.ping_type.max_attempts = 1
        self.receive({"fail": "technical"}, msg_id="msg_dead")
        message = self.message("msg_dead")
        self.run_jobs()
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.job_ids.state, "dead")
        self.assertTrue(message.activity_ids)

    def test_ordering_key_runs_one_at_a_time_oldest_first(self):
        for n in range(3):
            self.receive({"note": str(n), "stream": "facility-A"}, msg_id=f"msg_ord_{n}")
        self.receive({"note": "b", "stream": "facility-B"}, msg_id="msg_ord_b")
        Job = self.env["integration.job"]
        claimed = Job._claim("critical", 10)
        names = claimed.mapped("message_id.external_id")
        self.assertEqual(sorted(names), ["msg_ord_0", "msg_ord_b"])
        # the oldest of a key failing technically keeps the younger ones waiting
        self.receive({"stream": "facility-C", "fail": "technical"}, msg_id="msg_ord_c0")
        for n in range(1, 3):
            self.receive({"note": str(n), "stream": "facility-C"}, msg_id=f"msg_ord_c{n}")
        first = self.message("msg_ord_c0").job_ids
        self.run_jobs()
        self.assertEqual((first.state, first.attempts), ("pending", 1))
        self.assertEqual(self.message("msg_ord_c1").state, "queued")
        for _attempt in range(2):  # integration.ping gives up after 3 attempts
            self._make_due(first)
            self.run_jobs()
        self.assertEqual(first.state, "dead")
        done = self.env["integration.job"].search(
            [("ordering_key", "=", first.ordering_key), ("state", "=", "done")],
            order="date_done, id",
        )
        self.assertEqual(done.mapped("message_id.external_id"), ["msg_ord_c1", "msg_ord_c2"])
        self.assertEqual(
            self.message("msg_ord_0").job_ids.ordering_key,
            f"p{self.partner.id}/c{self.partner.company_id.id}/stream=facility-A",
        )

    def test_cancel_and_purge(self):
        self.receive({"note": "c"}, msg_id="msg_cancel")
        message = self.message("msg_cancel")
        message.action_cancel()
        self.assertEqual(message.job_ids.state, "cancelled")
        self.assertEqual(self.run_jobs(), 0)

    def test_counters_feed_metrics(self):
        self.receive({"note": "count"})
        self.run_jobs()
        text = self.env["integration.gateway"]._metrics_text()
        self.assertRegex(text, r'integration_queue_processed_total\{lane="critical"\} [1-9]')

    def test_critical_enqueue_triggers_its_cron(self):
        cron = self.env.ref("integration_queue.ir_cron_lane_critical")
        before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.receive({"note": "wake"})
        after = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.assertEqual(after, before + 1)

    def test_bulk_enqueue_wakes_the_lane_once(self):
        cron = self.env.ref("integration_queue.ir_cron_lane_bulk")
        Trigger = self.env["ir.cron.trigger"]
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        for _index in range(50):
            self.env["integration.job"]._enqueue(*PING_JOB, lane="bulk")
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 1)
