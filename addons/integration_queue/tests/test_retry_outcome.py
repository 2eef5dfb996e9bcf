from odoo.tests import tagged

from .common import QueueCase, allow_local_outbound, set_jobs, start_recorder


@tagged("post_install", "-at_install")
class TestRetryOutcome(QueueCase):
    """A job that succeeds on retry shows no old error as current; the trail keeps it."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.server = start_recorder()
        cls.addClassCleanup(cls.server.shutdown)
        cls.out_type = cls.env["integration.message.type"].create(
            {"code": "test.retry", "name": "Retry", "direction": "outbound", "lane": "standard"}
        )
        cls.partner.write(
            {
                "outbound_url": f"http://127.0.0.1:{cls.server.server_address[1]}/hook",
                "subscription_ids": [(6, 0, cls.out_type.ids)],
            }
        )
        allow_local_outbound(cls.env)

    def _send_failing_once(self):
        self.server.statuses[:] = [503]
        message = self.env["integration.message"]._send_outbound(
            self.partner, "test.retry", {"item": "GLOVE-M"}
        )
        self.run_jobs()
        return message

    def test_success_on_retry_clears_current_errors(self):
        message = self._send_failing_once()
        job = message.job_ids
        self.assertEqual((message.state, job.state), ("failed", "pending"))
        self.assertIn("503", message.error)
        self.assertIn("503", job.last_error)
        self.assertTrue(job.traceback)
        set_jobs(job, eta="due")
        self.run_jobs()
        self.assertEqual((message.state, job.state, job.attempts), ("done", "done", 2))
        self.assertFalse(message.error)
        self.assertFalse(message.error_field)
        self.assertFalse(job.last_error)
        self.assertFalse(job.traceback)
        # what the list shows is what the database holds: no error left on done rows
        listed = self.env["integration.job"].search_read(
            [("id", "=", job.id)], ["state", "last_error"]
        )
        self.assertEqual(listed, [{"id": job.id, "state": "done", "last_error": False}])

    def test_failed_attempt_stays_in_the_audit_trail(self):
        message = self._send_failing_once()
        set_jobs(message.job_ids, eta="due")
        self.run_jobs()
        failures = self.env["integration.audit.event"].search(
            [("correlation_id", "=", message.correlation_id), ("event_type", "=", "job_failed")]
        )
        self.assertEqual(len(failures), 1)
        self.assertIn("503", failures.summary)
