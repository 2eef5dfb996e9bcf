import threading
import time

from odoo import api
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import SQL

from odoo.addons.integration_audit.tests.common import thread_env

from .. import registry, watchdog
from ..exceptions import DeferJob
from .common import (
    CONTENDED_TABLE,
    ECHO_JOB,
    TEST_HANDLER,
    TEST_TYPE,
    FakeModelsMixin,
    set_jobs,
)

# no PostgreSQL backend has this pid: the session of a runner that is gone
GONE_PID = 2147483647


@tagged("post_install", "-at_install")
class TestWatchdog(TransactionCase):
    """The Python half of the time limit (plain module, no ORM)."""

    def _run_past_the_limit(self, limit):
        started = time.monotonic()
        with self.assertRaises(watchdog.JobTimeout), watchdog.time_limit(limit):
            while True:
                try:
                    time.sleep(0.05)
                except Exception:
                    continue
        return time.monotonic() - started

    def test_watchdog_interrupts_code_past_its_limit(self):
        self.assertLess(self._run_past_the_limit(0.2), 2)

    def test_watchdog_interrupts_a_job_in_a_thread(self):
        """Odoo runs cron jobs in a thread, not in the main thread signals reach."""
        outcome = {}

        def job():
            try:
                outcome["elapsed"] = self._run_past_the_limit(0.2)
            except BaseException as error:
                outcome["error"] = error

        runner = threading.Thread(target=job)
        runner.start()
        runner.join(10)
        self.assertNotIn("error", outcome)
        self.assertLess(outcome["elapsed"], 2)

    def test_watchdog_is_disarmed_after_the_block(self):
        with watchdog.time_limit(0.2):
            pass
        time.sleep(0.4)  # a stray alarm would raise here

    def test_watchdog_without_a_limit_does_nothing(self):
        with watchdog.time_limit(0) as armed:
            self.assertFalse(armed)


@tagged("post_install", "-at_install")
class TestRunnerFaults(FakeModelsMixin, TransactionCase):
    """Crashes and endless jobs, on cursors of their own: the runner commits.

    Jobs run the fake handler's targets; the one that waits on a lock updates the
    committed plain table of the runner tests.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the handler only: the runner's sessions would not see the table of a
        # fake model created in this test's transaction
        cls._load_fake_models(("IntegrationQueueTestHandler",))
        cls._create_contended_table()

    def _enqueue(self, count=1, lane="bulk", **kwargs):
        with thread_env(self.registry) as env:
            ids = []
            for _index in range(count):
                ids.append(
                    env["integration.job"]
                    ._enqueue(*ECHO_JOB, lane=lane, name="faults-test", **kwargs)
                    .id
                )
        self.addCleanup(self._cancel, ids)
        return ids

    def _cancel(self, ids):
        with thread_env(self.registry) as env:
            # not left for the lane runs and dashboards of other tests
            jobs = (
                env["integration.job"]
                .browse(ids)
                .filtered(lambda j: j.state in ("pending", "dead"))
            )
            set_jobs(jobs, state="cancelled", lease_pid=None, running_since=None)

    def _job(self, job_id):
        with thread_env(self.registry) as env:
            job = env["integration.job"].browse(job_id)
            return {
                name: job[name]
                for name in (
                    "state",
                    "attempts",
                    "lease_pid",
                    "running_since",
                    "last_error",
                    "time_limit",
                )
            }

    def _set(self, job_id, **values):
        with thread_env(self.registry) as env:
            set_jobs(env["integration.job"].browse(job_id), **values)

    def test_attempt_is_committed_before_the_job_runs(self):
        (job_id,) = self._enqueue()
        crashed = self.registry.cursor()
        try:
            crashed.transaction = api.Transaction(self.registry)
            env = api.Environment(crashed, 1, {})
            jobs = env["integration.job"]._claim("bulk", 10)
            self.assertIn(job_id, jobs.ids)
            jobs.browse(job_id)._start_attempt()
            crashed.commit()
            backend = crashed._cnx.get_backend_pid()
            # the process dies here: nothing after the attempt's commit is kept
            crashed.rollback()
        finally:
            crashed.close()
        job = self._job(job_id)
        self.assertEqual((job["state"], job["attempts"], job["lease_pid"]), ("pending", 1, backend))
        self.assertTrue(job["running_since"])

    def test_job_of_a_runner_that_is_gone_is_taken_over_at_once(self):
        (job_id,) = self._enqueue()
        self._set(job_id, attempts=1, lease_pid=GONE_PID, running_since="2020-01-01 00:00:00")
        self._set(job_id, lease_until="2999-01-01 00:00:00")
        with thread_env(self.registry) as env:
            env["integration.job"]._run_batch("bulk", 20)
        job = self._job(job_id)
        self.assertEqual((job["state"], job["attempts"]), ("done", 2))
        self.assertFalse(job["lease_pid"])
        self.assertFalse(job["running_since"])

    def test_job_held_by_a_live_runner_is_skipped_until_its_lease_ends(self):
        (job_id,) = self._enqueue()
        holder = self.registry.cursor()
        try:
            self._set(job_id, lease_pid=holder._cnx.get_backend_pid())
            self._set(job_id, lease_until="2999-01-01 00:00:00")
            with thread_env(self.registry) as env:
                self.assertNotIn(job_id, env["integration.job"]._claim("bulk", 50).ids)
            self._set(job_id, lease_until="2000-01-01 00:00:00")
            with thread_env(self.registry) as env:
                self.assertIn(job_id, env["integration.job"]._claim("bulk", 50).ids)
        finally:
            holder.close()

    def test_last_attempt_lost_with_its_worker_is_dead_without_running(self):
        (job_id,) = self._enqueue(max_attempts=3)
        self._set(job_id, attempts=3, lease_pid=GONE_PID, running_since="2020-01-01 00:00:00")
        with thread_env(self.registry) as env:
            env["integration.job"]._run_batch("bulk", 20)
        job = self._job(job_id)
        self.assertEqual((job["state"], job["attempts"]), ("dead", 3))
        self.assertIn("WorkerLost", job["last_error"])

    def test_lost_attempt_is_recorded_on_the_retry(self):
        (job_id,) = self._enqueue(max_attempts=3)
        self._set(job_id, attempts=1, lease_pid=GONE_PID, running_since="2020-01-01 00:00:00")
        with thread_env(self.registry) as env:
            job = env["integration.job"]._claim("bulk", 20).browse(job_id)
            self.assertIn(job_id, job.env.context["integration_job_abandoned"])
            job._start_attempt(abandoned=True)
            self.assertIn("WorkerLost", job.last_error)
            self.assertEqual(job.attempts, 2)

    def test_sql_past_the_time_limit_is_cancelled_and_counted(self):
        """A job that waits on a lock longer than its limit: PostgreSQL cancels it."""
        with thread_env(self.registry) as env:
            env["ir.config_parameter"].set_param("integration_queue.time_limit.bulk", "1")
            row_id = self.contended_row(env)
            job = env["integration.job"]._enqueue(
                TEST_HANDLER,
                "_job_set_contended",
                kwargs={"row_id": row_id, "value": "never"},
                lane="bulk",
                max_attempts=2,
            )
            job_id = job.id
        self.addCleanup(self._cancel, [job_id])
        self.addCleanup(self._reset_time_limit)
        holder = self.registry.cursor()
        try:
            holder.execute(
                SQL(
                    "SELECT id FROM %s WHERE id = %s FOR UPDATE",
                    SQL.identifier(CONTENDED_TABLE),
                    row_id,
                )
            )
            started = time.monotonic()
            with thread_env(self.registry) as env:
                env["integration.job"]._run_batch("bulk", 20)
            elapsed = time.monotonic() - started
        finally:
            holder.rollback()
            holder.close()
        job = self._job(job_id)
        self.assertLess(elapsed, 10)
        self.assertEqual((job["state"], job["attempts"], job["time_limit"]), ("pending", 1, 1))
        self.assertIn("QueryCanceled", job["last_error"])
        self.assertFalse(job["lease_pid"])

    def _reset_time_limit(self):
        with thread_env(self.registry) as env:
            env["ir.config_parameter"].set_param("integration_queue.time_limit.bulk", False)

    def test_time_limit_of_the_type_overrides_the_lanes(self):
        types = self.env["integration.message.type"]
        test_type = types.create({"code": TEST_TYPE, "name": "Queue test", "lane": "critical"})
        self.assertEqual(types._get_time_limit(TEST_TYPE, "critical"), 30)
        test_type.time_limit = 7
        self.assertEqual(types._get_time_limit(TEST_TYPE, "critical"), 7)
        self.env["ir.config_parameter"].set_param("integration_queue.time_limit.bulk", "12")
        self.assertEqual(types._get_time_limit("", "bulk"), 12)

    def test_deferral_gives_back_the_attempt(self):
        job = self.env["integration.job"]._enqueue(*ECHO_JOB, lane="bulk", name="defer-test")
        job._start_attempt()
        self.assertEqual(job.attempts, 1)
        with registry.write_guard():
            job._on_defer(DeferJob(until=job.create_date))
        self.assertEqual(job.attempts, 0)
        self.assertFalse(job.running_since)

    def test_metrics_show_stuck_jobs_and_dead_letters(self):
        stranded, dead = self._enqueue(2)
        self._set(stranded, lease_pid=GONE_PID, running_since="2020-01-01 00:00:00")
        self._set(stranded, time_limit=60)
        self._set(dead, state="dead")
        with thread_env(self.registry) as env:
            text = env["integration.gateway"]._metrics_text()
        self.assertRegex(text, r'integration_queue_jobs_stuck\{lane="bulk"\} [1-9]')
        self.assertRegex(
            text,
            r'integration_queue_dead_jobs\{message_type="integration\.queue\.test\.handler'
            r'\._job_echo"\} [1-9]',
        )
        self.assertRegex(text, r'integration_queue_lane_up\{lane="bulk"\} [01]')

    def test_killed_lane_run_does_not_count_against_the_lane_cron(self):
        """Odoo skips a cron after three runs that never finished; a lane run resets
        the count, since its jobs count their own attempts."""
        with thread_env(self.registry) as env:
            cron = env.ref("integration_queue.ir_cron_lane_bulk")
            progress = env["ir.cron.progress"].create(
                {"cron_id": cron.id, "remaining": 0, "done": 0, "timed_out_counter": 2}
            )
            progress_id = progress.id
        with thread_env(self.registry) as env:
            env["integration.job"].with_context(ir_cron_progress_id=progress_id)._cron_run_lane(
                "bulk", time_budget=5
            )
        with thread_env(self.registry) as env:
            progress = env["ir.cron.progress"].browse(progress_id)
            self.assertEqual(progress.timed_out_counter, 0)
            progress.unlink()


@tagged("post_install", "-at_install")
class TestReadiness(HttpCase):
    """/integration/v1/health is up; /integration/v1/health/ready needs the lanes."""

    def _beat(self, lanes=("critical", "standard", "bulk")):
        for lane in lanes:
            cron = self.env.ref(f"integration_queue.ir_cron_lane_{lane}")
            self.env["ir.cron.progress"].create({"cron_id": cron.id, "remaining": 0, "done": 0})
        self.env.flush_all()

    def _stale(self):
        self.env.cr.execute(
            "UPDATE ir_cron_progress SET create_date = create_date - interval '1 day'"
        )

    def test_ready_when_every_lane_heartbeats(self):
        self._stale()
        self._beat()
        response = self.url_open("/integration/v1/health/ready")
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertEqual(body["status"], "ready")
        self.assertEqual(set(body["lanes"]), {"critical", "standard", "bulk"})
        self.assertEqual(response.headers["Cache-Control"], "no-store")

    def test_not_ready_when_a_lane_stopped_heartbeating(self):
        self._stale()
        self._beat(("critical", "standard"))
        response = self.url_open("/integration/v1/health/ready")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.headers["Retry-After"], "10")
        body = response.json()
        self.assertEqual(body["status"], "not_ready")
        self.assertEqual(len(body["reasons"]), 1)
        self.assertIn("lane bulk", body["reasons"][0])
        # up is not ready: the process still answers
        self.assertEqual(self.url_open("/integration/v1/health").status_code, 200)

    def test_not_ready_when_a_lane_cron_is_inactive(self):
        self._stale()
        self._beat()
        self.env.ref("integration_queue.ir_cron_lane_standard").active = False
        self.env.flush_all()
        response = self.url_open("/integration/v1/health/ready")
        self.assertEqual(response.status_code, 503)
        self.assertIn("lane standard: cron inactive", response.json()["reasons"])
