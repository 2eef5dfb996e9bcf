from datetime import timedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .integration_job import check_group
from .integration_message_type import LANES

HEARTBEAT_STATES = [
    ("ok", "Running"),
    ("late", "Late"),
    ("failing", "Failing"),
    ("inactive", "Stopped"),
]
USER_GROUP = "integration_queue.group_integration_user"


class IntegrationQueueLane(models.Model):
    """One row per lane of the queue, with its health computed when read.

    The figures come from grouped queries on indexed columns of the jobs, run
    in the reader's environment, so record rules decide which jobs count; no
    Python loop ever walks the jobs themselves.
    """

    _name = "integration.queue.lane"
    _description = "Integration Queue Lane"
    _auto = False
    _order = "sequence"
    _rec_name = "lane"

    lane = fields.Selection(LANES, readonly=True)
    sequence = fields.Integer(readonly=True)
    pending_count = fields.Integer("Pending", compute="_compute_job_figures")
    running_count = fields.Integer("Running", compute="_compute_job_figures")
    stuck_count = fields.Integer(
        "Stuck",
        compute="_compute_job_figures",
        help="Attempts running past their time limit (the lanes' time budget,"
        " integration_queue.lane_time_budget, when they have none), or held by a"
        " runner that is gone.",
    )
    oldest_pending_date = fields.Datetime("Oldest Pending", compute="_compute_job_figures")
    oldest_pending_minutes = fields.Integer("Oldest Pending (min)", compute="_compute_job_figures")
    done_last_hour = fields.Integer("Done, Last Hour", compute="_compute_job_figures")
    failed_last_hour = fields.Integer(
        "Failed, Last Hour",
        compute="_compute_job_figures",
        help="Jobs whose last attempt in the past hour failed (retrying, exception or dead).",
    )
    failure_rate = fields.Float("Failure Rate (%)", compute="_compute_job_figures", digits=(16, 1))
    dead_count = fields.Integer("Dead", compute="_compute_job_figures")
    exception_count = fields.Integer("Exceptions", compute="_compute_job_figures")
    last_done_date = fields.Datetime("Last Job Done", compute="_compute_job_figures")
    cron_active = fields.Boolean("Cron Active", compute="_compute_heartbeat")
    cron_lastcall = fields.Datetime("Last Cron Run", compute="_compute_heartbeat")
    cron_last_success = fields.Datetime("Last Cron Success", compute="_compute_heartbeat")
    cron_nextcall = fields.Datetime("Next Cron Run", compute="_compute_heartbeat")
    cron_failure_count = fields.Integer("Consecutive Cron Failures", compute="_compute_heartbeat")
    cron_failing_since = fields.Datetime("Failing Since", compute="_compute_heartbeat")
    heartbeat = fields.Selection(HEARTBEAT_STATES, compute="_compute_heartbeat")

    def init(self):
        if not self.env.su:
            raise AccessError(_("Only the server sets up the queue dashboard."))
        tools.drop_view_if_exists(self.env.cr, self._table)
        # the lanes are code (LANES), not data: the view lists them in their order
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW integration_queue_lane AS
                SELECT id, id AS sequence, lane::varchar AS lane
                  FROM (VALUES %s) AS lanes (id, lane)
                """,
                SQL(", ").join(
                    SQL("(%s, %s)", index, code)
                    for index, (code, _label) in enumerate(LANES, start=1)
                ),
            )
        )
        # the last hour's outcomes per lane are read on every dashboard load
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS integration_job_lane_date_done
                ON integration_job (lane, date_done)
            """
        )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    def _compute_job_figures(self):
        now = fields.Datetime.now()
        figures = self._job_figures(now)
        for lane in self:
            values = figures.get(lane.lane, {})
            oldest = values.get("oldest_pending_date")
            done = values.get("done_last_hour", 0)
            failed = values.get("failed_last_hour", 0)
            lane.pending_count = values.get("pending_count", 0)
            lane.running_count = values.get("running_count", 0)
            lane.stuck_count = values.get("stuck_count", 0)
            lane.oldest_pending_date = oldest or False
            lane.oldest_pending_minutes = int((now - oldest).total_seconds() // 60) if oldest else 0
            lane.done_last_hour = done
            lane.failed_last_hour = failed
            lane.failure_rate = 100.0 * failed / (done + failed) if done + failed else 0.0
            lane.dead_count = values.get("dead_count", 0)
            lane.exception_count = values.get("exception_count", 0)
            lane.last_done_date = values.get("last_done_date") or False

    def _compute_heartbeat(self):
        beats = self._lane_heartbeats()
        crons = self._lane_crons()
        for lane in self:
            beat = beats.get(lane.lane, {})
            cron = crons.get(lane.lane)
            lane.cron_active = bool(beat.get("active"))
            lane.cron_lastcall = beat.get("last_run") or False
            lane.cron_last_success = beat.get("last_success") or False
            lane.cron_nextcall = cron.nextcall if cron else False
            lane.cron_failure_count = cron.failure_count if cron else 0
            lane.cron_failing_since = cron.first_failure_date if cron else False
            lane.heartbeat = lane._heartbeat_state(beat, cron)

    # ------------------------------------------------------------------
    # Actions: each count opens the jobs or messages behind it
    # ------------------------------------------------------------------

    def action_open_pending(self):
        self.ensure_one()
        return self._action_jobs(_("Pending"), self._pending_domain())

    def action_open_running(self):
        self.ensure_one()
        return self._action_jobs(_("Running"), self._running_domain())

    def action_open_stuck(self):
        self.ensure_one()
        return self._action_jobs(_("Stuck"), self._stuck_domain())

    def action_open_done_last_hour(self):
        self.ensure_one()
        since = fields.Datetime.now() - timedelta(hours=1)
        return self._action_jobs(
            _("Done in the last hour"), [("state", "=", "done"), ("date_done", ">=", since)]
        )

    def action_open_failed_last_hour(self):
        self.ensure_one()
        since = fields.Datetime.now() - timedelta(hours=1)
        return self._action_jobs(
            _("Failed in the last hour"), [("state", "!=", "done"), ("date_done", ">=", since)]
        )

    def action_open_dead(self):
        self.ensure_one()
        return self._action_jobs(_("Dead"), [("state", "=", "dead")])

    def action_open_exceptions(self):
        self.ensure_one()
        return self._action_jobs(_("Exceptions"), [("state", "=", "exception")])

    def action_open_dead_letters(self):
        """Dead letters and exceptions of this lane's message types, per type."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_queue.integration_queue_dead_letter_action"
        )
        action["domain"] = [("lane", "=", self.lane)]
        action["display_name"] = _("Dead Letters: %(lane)s lane", lane=self._lane_label())
        return action

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    @api.model
    def _time_budget(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("integration_queue.lane_time_budget", "50")
        )
        try:
            return float(value)
        except ValueError:
            return 50.0

    @api.model
    def _pending_domain(self):
        return [("state", "=", "pending"), ("running_since", "=", False)]

    @api.model
    def _running_domain(self):
        return [("state", "=", "pending"), ("running_since", "!=", False)]

    @api.model
    def _stuck_domain(self):
        return [("id", "in", self._stuck_job_ids())]

    @api.model
    def _job_figures(self, now):
        """{lane: {figure: value}}: one grouped query per figure, in the reader's env."""
        Job = self.env["integration.job"]
        since = now - timedelta(hours=1)
        figures = {code: {} for code, _label in LANES}
        for lane, count, oldest in Job._read_group(
            self._pending_domain(), ["lane"], ["__count", "create_date:min"]
        ):
            figures[lane].update(pending_count=count, oldest_pending_date=oldest)
        for lane, count in Job._read_group(self._running_domain(), ["lane"], ["__count"]):
            figures[lane]["running_count"] = count
        for lane, count in Job._read_group(self._stuck_domain(), ["lane"], ["__count"]):
            figures[lane]["stuck_count"] = count
        # every attempt stamps date_done, so a job retrying after a failure counts as failed
        for lane, state, count in Job._read_group(
            [("date_done", ">=", since)], ["lane", "state"], ["__count"]
        ):
            key = "done_last_hour" if state == "done" else "failed_last_hour"
            figures[lane][key] = figures[lane].get(key, 0) + count
        for lane, state, count in Job._read_group(
            [("state", "in", ("dead", "exception"))], ["lane", "state"], ["__count"]
        ):
            figures[lane][f"{state}_count"] = count
        for lane, last_done in Job._read_group(
            [("state", "=", "done")], ["lane"], ["date_done:max"]
        ):
            figures[lane]["last_done_date"] = last_done
        return figures

    @api.model
    def _lane_heartbeats(self):
        """The heartbeat the readiness probe also reports (integration.queue.health).

        It reads the lane crons as superuser (crons are for administrators): the
        caller is checked first, and only times and counts are shown.
        """
        check_group(self.env, USER_GROUP, _("Reading the lanes' heartbeat"))
        return self.env["integration.queue.health"].sudo()._lane_heartbeats()

    @api.model
    def _lane_crons(self):
        """{lane: its cron, as superuser}; see :meth:`_lane_heartbeats` for why."""
        check_group(self.env, USER_GROUP, _("Reading the lanes' heartbeat"))
        Job = self.env["integration.job"].sudo()
        crons = {}
        for code, _label in LANES:
            cron = Job._lane_cron(code)
            if cron:
                crons[code] = cron.sudo().with_context(active_test=False)
        return crons

    @api.model
    def _heartbeat_state(self, beat, cron):
        """Stopped, failing (the cron's last runs raised), late (no run within its
        window) or running."""
        if not beat.get("active"):
            return "inactive"
        if cron and cron.failure_count:
            return "failing"
        return "ok" if beat.get("ok") else "late"

    @api.model
    def _stuck_job_ids(self):
        """Jobs whose attempt runs past its time limit (the lanes' time budget when it
        has none), or whose runner's session is gone while it holds the job.

        Ids only: the figures and lists then search them in the reader's env.
        """
        self.env.cr.execute(
            """
            SELECT j.id FROM integration_job j
             WHERE j.state = 'pending' AND j.lease_pid IS NOT NULL
               AND ((j.running_since IS NOT NULL
                     AND j.running_since < (now() at time zone 'UTC')
                         - make_interval(secs => COALESCE(NULLIF(j.time_limit, 0), %s)))
                    OR j.lease_until < (now() at time zone 'UTC')
                    OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = j.lease_pid))
            """,
            [self._time_budget()],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _lane_label(self):
        return dict(self._fields["lane"]._description_selection(self.env)).get(self.lane)

    def _action_jobs(self, what, domain):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_queue.integration_job_action"
        )
        action["domain"] = [("lane", "=", self.lane), *domain]
        action["display_name"] = _("%(what)s: %(lane)s lane", what=what, lane=self._lane_label())
        action["context"] = {"create": False}
        return action
