import logging
import threading
import time

import psycopg2

from odoo.tests import BaseCase, TransactionCase, tagged
from odoo.tools import SQL

from odoo.addons.integration_audit.tests.common import thread_env

from .. import concurrency_log
from .common import CONTENDED_TABLE, TEST_HANDLER, FakeModelsMixin, set_jobs


def _pg_error(pgcode_class):
    """A psycopg2 error as the database layer raises it (its pgcode is a class attribute)."""
    return pgcode_class("could not serialize access due to concurrent update")


class TestRoutineConcurrencyFilter(BaseCase):
    """The filter alone, on a logger of the test's own (plain Python, no database)."""

    def setUp(self):
        super().setUp()
        self.name = "odoo.addons.integration_queue.tests.concurrency_probe"
        self.logger = logging.getLogger(self.name)
        self.addCleanup(self.logger.removeFilter, concurrency_log.install(self.name))

    def _log_bad_query(self, error):
        self.logger.error("bad query: %s\nERROR: %s", "UPDATE res_partner SET ref='x'", error)

    def test_lock_conflict_in_a_routine_block_is_info_without_the_query(self):
        with self.assertLogs(self.name, level=logging.DEBUG) as logs:
            with concurrency_log.routine_concurrency():
                self._log_bad_query(_pg_error(psycopg2.errors.SerializationFailure))
        self.assertEqual([record.levelname for record in logs.records], ["INFO"])
        self.assertIn("serialization_failure", logs.output[0])
        self.assertNotIn("res_partner", logs.output[0])

    def test_lock_conflict_outside_a_routine_block_stays_an_error(self):
        with self.assertLogs(self.name, level=logging.DEBUG) as logs:
            self._log_bad_query(_pg_error(psycopg2.errors.SerializationFailure))
        self.assertEqual([record.levelname for record in logs.records], ["ERROR"])

    def test_other_failures_in_a_routine_block_stay_errors(self):
        with self.assertLogs(self.name, level=logging.DEBUG) as logs:
            with concurrency_log.routine_concurrency():
                self._log_bad_query(psycopg2.errors.UndefinedColumn("no column ref2"))
                self.logger.error("plain error without arguments")
        self.assertEqual([record.levelname for record in logs.records], ["ERROR", "ERROR"])

    def test_block_is_per_thread_and_nests(self):
        seen = {}
        with concurrency_log.routine_concurrency():
            with concurrency_log.routine_concurrency():
                pass
            record = logging.LogRecord(
                self.name, logging.ERROR, __file__, 1, "bad query: %s %s", None, None
            )
            record.args = ("q", _pg_error(psycopg2.errors.DeadlockDetected))
            seen["here"] = concurrency_log.is_routine(record)
            other = threading.Thread(
                target=lambda: seen.setdefault("other", concurrency_log.is_routine(record))
            )
            other.start()
            other.join()
        self.assertEqual(seen, {"here": True, "other": False})


@tagged("post_install", "-at_install")
class TestRunnerLockConflictLog(FakeModelsMixin, TransactionCase):
    """A job meeting a concurrent update is retried, logged at INFO and never at ERROR.

    The job runs the fake handler's ``_job_set_contended`` on the committed plain
    table of the runner tests, which another session holds.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the handler only: the job runs in a session of its own, which would not
        # see the table of a fake model created in this test's transaction
        cls._load_fake_models(("IntegrationQueueTestHandler",))
        cls._create_contended_table()

    def test_lock_conflict_in_a_job_logs_info_not_error(self):
        job_id, row_id = self._contended_job()
        # numeric: Odoo names its level 25 "INFO" too
        with self.assertLogs("odoo", level=logging.INFO) as logs:
            self._run_against_a_concurrent_update(job_id, row_id)
        errors = [r for r in logs.records if r.levelno >= logging.ERROR]
        self.assertFalse(errors, [r.getMessage() for r in errors])
        routine = [r for r in logs.records if r.name == concurrency_log.SQL_LOGGER]
        self.assertEqual([r.levelname for r in routine], ["INFO"])
        self.assertIn("serialization_failure", routine[0].getMessage())
        self.assertNotIn(CONTENDED_TABLE, routine[0].getMessage())
        with thread_env(self.registry) as env:
            job = env["integration.job"].browse(job_id)
            self.assertEqual((job.state, job.attempts), ("pending", 1))
            self.assertIn("SerializationFailure", job.last_error)
            # not left pending for the lane crons of other tests
            set_jobs(job, state="cancelled")

    def _contended_job(self):
        with thread_env(self.registry) as env:
            row_id = self.contended_row(env)
            job = env["integration.job"]._enqueue(
                TEST_HANDLER,
                "_job_set_contended",
                kwargs={"row_id": row_id, "value": "from the job"},
                lane="bulk",
                name="contended-log",
            )
            return job.id, row_id

    def _run_against_a_concurrent_update(self, job_id, row_id):
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
        self.assertEqual(outcome.get("done"), 1)

    def _wait_for_lock_waiter(self, holder, timeout=30):
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
