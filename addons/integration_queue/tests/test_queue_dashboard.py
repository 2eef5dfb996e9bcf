from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import ECHO_JOB, FakeQueueCase, set_jobs

FIGURES = (
    "pending_count",
    "running_count",
    "stuck_count",
    "done_last_hour",
    "failed_last_hour",
    "dead_count",
    "exception_count",
)


@tagged("post_install", "-at_install")
class TestQueueDashboard(FakeQueueCase):
    """One card per lane, its figures counted in the database, each opening its jobs.

    The jobs counted run the fake handler's ``_job_echo``.
    """

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.Lane = cls.env["integration.queue.lane"]
        cls.viewer = new_test_user(
            cls.env,
            login="iq_dashboard_viewer",
            groups="base.group_user,integration_queue.group_integration_user",
        )

    def lane(self, code, env=None):
        Lane = (env or self.env)["integration.queue.lane"]
        lane = Lane.search([("lane", "=", code)])
        lane.invalidate_recordset()
        return lane

    def figures(self, code, env=None):
        lane = self.lane(code, env)
        return {name: lane[name] for name in FIGURES}

    def delta(self, before, after):
        return {name: after[name] - before[name] for name in FIGURES if after[name] != before[name]}

    def enqueue(self, count=1, lane="bulk", **kwargs):
        Job = self.env["integration.job"]
        jobs = Job.browse()
        for _index in range(count):
            jobs |= Job._enqueue(*ECHO_JOB, lane=lane, name="dashboard-test", kwargs=kwargs)
        return jobs

    def start(self, jobs, minutes_ago, time_limit=60):
        """Mark jobs as under way for ``minutes_ago``, held by this live session."""
        jobs.env.cr.execute("SELECT pg_backend_pid()")
        pid = jobs.env.cr.fetchone()[0]
        now = fields.Datetime.now()
        set_jobs(
            jobs,
            lease_pid=pid,
            lease_until=now + timedelta(hours=1),
            running_since=now - timedelta(minutes=minutes_ago),
            time_limit=time_limit,
        )

    def test_one_card_per_lane_in_lane_order(self):
        self.assertEqual(self.Lane.search([]).mapped("lane"), ["critical", "standard", "bulk"])

    def test_figures_count_pending_running_and_stuck(self):
        before = self.figures("bulk")
        pending = self.enqueue(3)
        running, stuck = self.enqueue(2)
        self.start(running, minutes_ago=0)
        self.start(stuck, minutes_ago=5, time_limit=60)
        self.assertEqual(
            self.delta(before, self.figures("bulk")),
            {"pending_count": 3, "running_count": 2, "stuck_count": 1},
        )
        lane = self.lane("bulk")
        self.assertLessEqual(lane.oldest_pending_date, min(pending.mapped("create_date")))
        self.assertGreaterEqual(lane.oldest_pending_minutes, 0)

    def test_figures_count_the_last_hours_outcomes(self):
        # jobs of the database (demo) wait: only this test's jobs run below
        waiting = self.env["integration.job"].search([("state", "=", "pending")])
        set_jobs(waiting, eta=fields.Datetime.now() + timedelta(hours=1))
        before = self.figures("bulk")
        done = self.enqueue(2)
        failing = self.enqueue(1, outcome="technical")
        self.run_jobs("bulk")
        self.assertEqual(set(done.mapped("state")), {"done"})
        self.assertEqual(failing.state, "pending")
        delta = self.delta(before, self.figures("bulk"))
        self.assertEqual((delta["done_last_hour"], delta["failed_last_hour"]), (2, 1))
        lane = self.lane("bulk")
        self.assertGreater(lane.failure_rate, 0)
        self.assertLess(lane.failure_rate, 100)
        self.assertTrue(lane.last_done_date)

    def test_each_figure_opens_its_jobs(self):
        pending = self.enqueue(2)
        stuck = self.enqueue(1)
        self.start(stuck, minutes_ago=10, time_limit=30)
        set_jobs(pending | stuck, eta=fields.Datetime.now() + timedelta(hours=1))
        lane = self.lane("bulk")
        Job = self.env["integration.job"]
        opened_pending = Job.search(lane.action_open_pending()["domain"])
        self.assertLessEqual(pending, opened_pending)
        self.assertNotIn(stuck, opened_pending)
        self.assertIn(stuck, Job.search(lane.action_open_stuck()["domain"]))
        self.assertIn(stuck, Job.search(lane.action_open_running()["domain"]))
        self.assertFalse(Job.search(self.lane("critical").action_open_stuck()["domain"]) & stuck)

    def test_figures_cost_the_same_for_many_jobs(self):
        self.enqueue(3)
        few = self._queries_reading_lanes()
        self.enqueue(60)
        many = self._queries_reading_lanes()
        # the jobs are grouped in the database: as many queries on them for 66 as for 3
        self.assertEqual(len(many), len(few), "\n".join(many))

    def _queries_reading_lanes(self):
        """The queries of reading every figure of every lane, caches warm."""
        lanes = self.Lane.search([])
        lanes.read(FIGURES)
        self.env.flush_all()
        self.env.invalidate_all()
        queries = []
        execute = type(self.env.cr).execute

        def logged(cr, query, params=None, log_exceptions=True):
            queries.append(str(query))
            return execute(cr, query, params, log_exceptions)

        with patch.object(type(self.env.cr), "execute", logged):
            lanes.read([*FIGURES, "oldest_pending_minutes", "failure_rate", "heartbeat"])
        return [query for query in queries if "integration_job" in query]

    def test_heartbeat_shows_a_stopped_lane(self):
        self.assertNotEqual(self.lane("critical").heartbeat, "inactive")
        self.env.ref("integration_queue.ir_cron_lane_critical").active = False
        self.assertEqual(self.lane("critical").heartbeat, "inactive")
        self.assertFalse(self.lane("critical").cron_active)

    def test_heartbeat_shows_a_failing_lane(self):
        cron = self.env.ref("integration_queue.ir_cron_lane_standard")
        cron.write({"failure_count": 2, "first_failure_date": fields.Datetime.now()})
        lane = self.lane("standard")
        self.assertEqual((lane.heartbeat, lane.cron_failure_count), ("failing", 2))

    def test_integration_user_reads_the_dashboard_and_others_do_not(self):
        lane = self.lane("bulk", self.env(user=self.viewer))
        self.assertEqual(lane.lane, "bulk")
        self.assertIn(lane.heartbeat, ("ok", "late", "failing", "inactive"))
        plain = new_test_user(self.env, login="iq_dashboard_plain", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env(user=plain)["integration.queue.lane"].search([]).read(["pending_count"])

    def test_figures_count_only_the_readers_companies(self):
        other = self.env["res.company"].create({"name": "Dashboard Other Hospital"})
        other_user = new_test_user(
            self.env,
            login="iq_dashboard_other",
            groups="base.group_user,integration_queue.group_integration_user",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        before = self.figures("standard", self.env(user=other_user))
        jobs = self.enqueue(2, lane="standard")
        set_jobs(jobs, eta=fields.Datetime.now() + timedelta(hours=1))
        self.assertEqual(jobs.company_id, self.env.company)
        self.assertEqual(self.figures("standard", self.env(user=other_user)), before)
        self.assertEqual(self.delta(before, self.figures("standard"))["pending_count"], 2)


@tagged("post_install", "-at_install")
class TestDeadLettersByType(FakeQueueCase):
    """Dead letters and exceptions per message type, each row opening its messages.

    The messages are the fake handler's ``test.queue.record``.
    """

    def test_dead_and_exception_messages_are_counted_per_type(self):
        DeadLetter = self.env["integration.queue.dead.letter"]
        row = DeadLetter.search([("message_type_id", "=", self.test_type.id)])
        before = (row.dead_count, row.exception_count) if row else (0, 0)
        self.test_type.max_attempts = 1
        self.receive_test({"outcome": "technical"}, msg_id="msg_dl_dead")
        # two exceptions to one dead letter: the two figures cannot stand in for each other
        self.receive_test({"outcome": "business"}, msg_id="msg_dl_exception")
        self.receive_test({"outcome": "business"}, msg_id="msg_dl_exception_2")
        self.receive_test({"note": "fine"}, msg_id="msg_dl_fine")
        self.run_jobs()
        self.env.flush_all()
        row = DeadLetter.search([("message_type_id", "=", self.test_type.id)])
        self.assertEqual((row.dead_count, row.exception_count), (before[0] + 1, before[1] + 2))
        self.assertEqual(row.lane, self.test_type.lane)
        opened = self.env["integration.message"].search(row.action_open_messages()["domain"])
        self.assertIn(self.message("msg_dl_dead"), opened)
        self.assertIn(self.message("msg_dl_exception"), opened)
        self.assertNotIn(self.message("msg_dl_fine"), opened)

    def test_lane_card_opens_its_dead_letters(self):
        lane = self.env["integration.queue.lane"].search([("lane", "=", "critical")])
        action = lane.action_open_dead_letters()
        self.assertEqual(action["res_model"], "integration.queue.dead.letter")
        self.assertEqual(action["domain"], [("lane", "=", "critical")])
