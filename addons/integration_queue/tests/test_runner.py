import time

from odoo.tests import TransactionCase, tagged

from odoo.addons.integration_audit.tests.common import thread_env


@tagged("post_install", "-at_install")
class TestLaneRunner(TransactionCase):
    """The cron entry point commits per batch, so it runs on cursors of its own here."""

    def _enqueue_noops(self, count, lane="bulk"):
        with thread_env(self.registry) as env:
            jobs = env["integration.job"].browse()
            for _index in range(count):
                jobs |= env["integration.job"]._enqueue(
                    "res.partner", "exists", lane=lane, name="runner-test-noop"
                )
            return jobs.ids

    def _states(self, ids):
        with thread_env(self.registry) as env:
            return env["integration.job"].browse(ids).mapped("state")

    def test_lane_works_through_its_backlog_in_one_call(self):
        ids = self._enqueue_noops(120)  # more than two batches of the bulk lane
        with thread_env(self.registry) as env:
            processed = env["integration.job"]._cron_run_lane("bulk", time_budget=60)
        self.assertGreaterEqual(processed, 120)
        self.assertEqual(set(self._states(ids)), {"done"})

    def test_lane_stops_within_budget_and_asks_to_be_called_again(self):
        ids = self._enqueue_noops(5)
        with thread_env(self.registry) as env:
            cron = env.ref("integration_queue.ir_cron_lane_bulk")
            before = env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
            started = time.monotonic()
            processed = env["integration.job"]._cron_run_lane("bulk", time_budget=1e-9)
            self.assertLess(time.monotonic() - started, 5)
            self.assertEqual(processed, 0)
            after = env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
            self.assertEqual(after, before + 1)
        with thread_env(self.registry) as env:
            env["integration.job"]._cron_run_lane("bulk", time_budget=60)
        self.assertEqual(set(self._states(ids)), {"done"})

    def test_purge_removes_old_done_jobs_and_keeps_dead_ones(self):
        ids = self._enqueue_noops(3)
        with thread_env(self.registry) as env:
            jobs = env["integration.job"].browse(ids)
            jobs[0].write({"state": "done"})
            jobs[1].write({"state": "dead"})
            env.flush_all()
            env.cr.execute(
                "UPDATE integration_job SET write_date = now() - interval '400 days'"
                " WHERE id = ANY(%s)",
                [ids],
            )
        with thread_env(self.registry) as env:
            env["integration.job"]._cron_purge_done()
        with thread_env(self.registry) as env:
            remaining = env["integration.job"].browse(ids).exists()
            self.assertEqual(sorted(remaining.ids), sorted(ids[1:]))
            remaining.write({"state": "cancelled"})
