import threading
import time

from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from odoo.addons.integration_audit.tests.common import thread_env

from .common import CONTENDED_TABLE, ECHO_JOB, TEST_HANDLER, FakeModelsMixin, set_jobs


@tagged("post_install", "-at_install")
class TestLaneRunner(FakeModelsMixin, TransactionCase):
    """The cron entry point commits per batch, so it runs on cursors of its own here.

    Jobs run the fake handler's targets; what they touch in other sessions is a
    plain table of this class, created and dropped with committed cursors.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the handler only: a model with a table of its own would exist in this
        # test's transaction alone, which the runner's sessions cannot see
        cls._load_fake_models(("IntegrationQueueTestHandler",))
        cls._create_contended_table()

    def _enqueue_noops(self, count, lane="bulk"):
        with thread_env(self.registry) as env:
            jobs = env["integration.job"].browse()
            for _index in range(count):
                jobs |= env["integration.job"]._enqueue(
                    *ECHO_JOB, lane=lane, name="runner-test-noop"
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

    def test_a_second_runner_of_the_lane_costs_no_job(self):
        """Two runners of one lane add to the same counter rows: the second one met
        the first's update, failed to serialise and lost the rest of its batch."""
        ids = self._enqueue_noops(3)
        company_id = self.env.company.id
        with thread_env(self.registry) as env:
            env["integration.job"]._bump_counters("bulk", [("done", 0.01, company_id)])

        def processed(cr):
            cr.execute(
                "SELECT COALESCE(sum(value), 0) FROM integration_queue_counter"
                " WHERE lane = 'bulk' AND name = 'processed'"
            )
            return cr.fetchone()[0]

        holder = self.registry.cursor()
        try:
            before = processed(holder)
            # the other runner's counters, not yet committed
            holder.execute(
                "UPDATE integration_queue_counter SET value = value + 1"
                " WHERE lane = 'bulk' AND name = 'processed'"
            )
            outcome = {}

            def run_lane():
                with thread_env(self.registry) as env:
                    outcome["done"] = env["integration.job"]._cron_run_lane("bulk", time_budget=60)

            runner = threading.Thread(target=run_lane)
            runner.start()
            self._wait_for_lock_waiter(holder)
            holder.commit()
            runner.join(60)
        finally:
            holder.close()
        self.assertGreaterEqual(outcome.get("done", 0), 3)
        self.assertEqual(set(self._states(ids)), {"done"})
        with thread_env(self.registry) as env:
            self.assertGreaterEqual(processed(env.cr), before + 1 + 3)
            leased = env["integration.job"].search_count(
                [("id", "in", ids), ("lease_pid", "!=", False)]
            )
            self.assertEqual(leased, 0)

    def test_purge_removes_old_done_jobs_and_keeps_dead_ones(self):
        ids = self._enqueue_noops(3)
        with thread_env(self.registry) as env:
            jobs = env["integration.job"].browse(ids)
            set_jobs(jobs[0], state="done")
            set_jobs(jobs[1], state="dead")
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
            set_jobs(remaining, state="cancelled")

    def test_lock_conflict_is_retried_soon(self):
        """A job that meets a concurrent update fails to serialise and is retried within
        seconds (not after a partner-outage backoff)."""
        with thread_env(self.registry) as env:
            row_id = self.contended_row(env)
            job = env["integration.job"]._enqueue(
                TEST_HANDLER,
                "_job_set_contended",
                kwargs={"row_id": row_id, "value": "from the job"},
                lane="bulk",
                name="contended",
            )
            job_id = job.id
        holder = self.registry.cursor()
        try:
            holder.execute(
                SQL(
                    "UPDATE %s SET value = 'held' WHERE id = %s",
                    SQL.identifier(CONTENDED_TABLE),
                    row_id,
                )
            )
            outcome = {}

            def run_job():
                with thread_env(self.registry) as env:
                    outcome["done"] = env["integration.job"]._run_batch("bulk", 1)

            runner = threading.Thread(target=run_job)
            runner.start()
            self._wait_for_lock_waiter(holder)
            holder.commit()
            runner.join(60)
        finally:
            holder.close()
        with thread_env(self.registry) as env:
            job = env["integration.job"].browse(job_id)
            self.assertEqual(outcome.get("done"), 1)
            self.assertEqual((job.state, job.attempts), ("pending", 1))
            self.assertIn("SerializationFailure", job.last_error)
            self.assertLess((job.eta - job.date_done).total_seconds(), 2.5)
            set_jobs(job, eta=None)
        with thread_env(self.registry) as env:
            env["integration.job"]._run_batch("bulk", 5)
        with thread_env(self.registry) as env:
            job = env["integration.job"].browse(job_id)
            self.assertEqual(job.state, "done")
            self.assertEqual(self.contended_value(env, row_id), "from the job")

    def _wait_for_lock_waiter(self, holder, timeout=30):
        """Return once another session of this database waits on a row lock."""
        deadline = time.monotonic() + timeout
        with self.registry.cursor() as probe:
            while time.monotonic() < deadline:
                probe.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND pid != %s",
                    [holder._cnx.get_backend_pid()],
                )
                if probe.fetchone()[0]:
                    return
                probe.rollback()
                time.sleep(0.05)
        self.fail("the job never waited for the held row")
