import select
import time

import psycopg2

from odoo import sql_db
from odoo.tests import TransactionCase, tagged

from .. import lane_wakeup


def _listener():
    """A session on the ``postgres`` database listening as Odoo's cron workers do."""
    _name, info = sql_db.connection_info_for("postgres")
    cnx = psycopg2.connect(**info)
    cnx.autocommit = True
    with cnx.cursor() as cr:
        cr.execute("LISTEN cron_trigger")
    return cnx


def _received(cnx, timeout=5):
    deadline = time.monotonic() + timeout
    payloads = []
    while time.monotonic() < deadline and not payloads:
        select.select([cnx], [], [], 0.2)
        cnx.poll()
        payloads += [notify.payload for notify in cnx.notifies]
        cnx.notifies.clear()
    return payloads


@tagged("post_install", "-at_install")
class TestLaneWakeup(TransactionCase):
    """The lane's wake-up: Odoo's trigger row, and a NOTIFY the cron workers hear."""

    def _triggers(self, cron):
        self.env.cr.execute("SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])
        return self.env.cr.fetchone()[0]

    def test_trigger_row_once_per_transaction_and_notify_after_commit(self):
        jobs = self.env["integration.job"]
        cron = jobs._lane_cron("standard")
        before = self._triggers(cron)
        jobs._trigger_lane("standard")
        jobs._trigger_lane("standard")
        self.assertEqual(self._triggers(cron), before + 1, "one trigger per transaction")
        # the NOTIFY waits for the commit
        callbacks = list(self.env.cr.postcommit._funcs)
        self.assertEqual(len(callbacks), 1)

    def test_inactive_cron_gets_no_trigger(self):
        jobs = self.env["integration.job"]
        cron = jobs._lane_cron("bulk")
        cron.active = False
        before = self._triggers(cron)
        jobs._trigger_lane("bulk")
        self.assertEqual(self._triggers(cron), before)
        self.assertFalse(list(self.env.cr.postcommit._funcs))

    def test_later_trigger_goes_through_odoo(self):
        jobs = self.env["integration.job"]
        cron = jobs._lane_cron("bulk")
        before = self._triggers(cron)
        jobs._trigger_lane("bulk", at=cron.nextcall)
        self.assertEqual(self._triggers(cron), before + 1)

    def test_notify_reaches_listening_cron_workers(self):
        cnx = _listener()
        try:
            lane_wakeup.notify_cron_workers(self.env.cr.dbname, fallback=self.fail)
            self.assertEqual(_received(cnx), [self.env.cr.dbname])
        finally:
            cnx.close()

    def test_lost_connection_reconnects_and_falls_back(self):
        """A killed session (server restart, operator) costs one fallback NOTIFY."""
        lane_wakeup.notify_cron_workers(self.env.cr.dbname, fallback=self.fail)
        backend = lane_wakeup._connection["cnx"].get_backend_pid()
        self.env.cr.execute("SELECT pg_terminate_backend(%s)", [backend])
        self.assertTrue(self.env.cr.fetchone()[0])
        fallbacks = []
        lane_wakeup.notify_cron_workers(self.env.cr.dbname, fallback=lambda: fallbacks.append(1))
        self.assertEqual(fallbacks, [1])
        cnx = _listener()
        try:
            lane_wakeup.notify_cron_workers(self.env.cr.dbname, fallback=self.fail)
            self.assertEqual(_received(cnx), [self.env.cr.dbname])
        finally:
            cnx.close()

    def test_failing_fallback_never_raises_after_commit(self):
        lane_wakeup._drop_connection()
        broken = {"pid": None, "cnx": None}
        original = lane_wakeup.sql_db.connection_info_for

        def unreachable(_name, readonly=False):
            return "postgres", {"host": "127.0.0.1", "port": 1, "dbname": "postgres"}

        def fallback():
            raise psycopg2.OperationalError("server gone")

        lane_wakeup.sql_db.connection_info_for = unreachable
        try:
            with self.assertLogs("odoo.addons.integration_queue.lane_wakeup", "WARNING"):
                lane_wakeup.notify_cron_workers(self.env.cr.dbname, fallback)
        finally:
            lane_wakeup.sql_db.connection_info_for = original
            lane_wakeup._connection.update(broken)


@tagged("post_install", "-at_install")
class TestCronWorkerPriority(TransactionCase):
    """Prefork cron workers run the lanes at a lower CPU priority than HTTP workers."""

    def test_niceness_from_the_configuration_file(self):
        from odoo.service import server  # noqa: PLC0415
        from odoo.tools import config  # noqa: PLC0415

        from .. import cron_wakeup  # noqa: PLC0415

        self.assertTrue(getattr(server.WorkerCron.start, "integration_queue_wakeup", False))
        self.assertFalse(getattr(server.WorkerHTTP.start, "integration_queue_wakeup", False))
        previous = config.options.get("integration_queue_cron_nice")
        try:
            for given, expected in ((None, 5), ("0", 0), ("12", 12), ("99", 19), ("x", 0)):
                if given is None:
                    config.options.pop("integration_queue_cron_nice", None)
                else:
                    config.options["integration_queue_cron_nice"] = given
                self.assertEqual(cron_wakeup.cron_niceness(), expected, given)
        finally:
            if previous is None:
                config.options.pop("integration_queue_cron_nice", None)
            else:
                config.options["integration_queue_cron_nice"] = previous
