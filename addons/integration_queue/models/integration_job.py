import functools
import json
import logging
import time
import traceback
from contextlib import contextmanager
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from odoo.addons.integration_audit.correlation import (
    CONTEXT_KEY,
    ServerCorrelationId,
    get_correlation_id,
)

from .. import lane_wakeup, registry, watchdog
from ..backoff import retry_delay
from ..concurrency_log import routine_concurrency
from ..exceptions import BusinessError, DeferJob
from .integration_message_type import LANES

_logger = logging.getLogger(__name__)

JOB_STATES = [
    ("pending", "Pending"),
    ("done", "Done"),
    ("exception", "Exception"),
    ("dead", "Dead"),
    ("cancelled", "Cancelled"),
]
# jobs claimed per transaction: a crash rolls a whole batch back to pending
BATCH_SIZE = {"critical": 1, "standard": 20, "bulk": 50}
PG_CONCURRENCY_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)
# a claimed job not yet started is the claimer's for this long, unless the claimer's
# database session ends first (a killed worker: its jobs are taken over at once)
CLAIM_LEASE_SECONDS = 900
# a started job's lease outlives its time limit by this much: time for the
# watchdog to stop it and for the runner to record the outcome
LEASE_GRACE_SECONDS = 30
# the Python watchdog fires this long after PostgreSQL's statement timeout would
WATCHDOG_GRACE_SECONDS = 1
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
OUTBOUND_TARGET = ("integration.message", "_deliver_outbound")
MANAGER_GROUP = "integration_queue.group_integration_manager"
USER_GROUP = "integration_queue.group_integration_user"


class LeaseLost(Exception):
    """Another runner took the job over while this one ran it."""


def check_group(env, xmlid, action):
    """Refuse ``action`` with a clear AccessError unless the real user is in ``xmlid``."""
    if env.su or env.user.has_group(xmlid):
        return
    group = env.ref(xmlid, raise_if_not_found=False)
    raise AccessError(
        _(
            "%(action)s needs the group %(group)s.",
            action=action,
            group=group.sudo().full_name if group else xmlid,
        )
    )


class IntegrationJob(models.Model):
    """A unit of work run by the lane crons: claimed with SKIP LOCKED, run and
    marked in one transaction, so a crash leaves it pending, never half done."""

    _name = "integration.job"
    _description = "Integration Job"
    _order = "id desc"

    name = fields.Char(readonly=True)
    message_id = fields.Many2one(
        "integration.message", readonly=True, index=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(related="message_id.partner_id", store=True, index=True)
    company_id = fields.Many2one("res.company", readonly=True, default=lambda s: s.env.company)
    lane = fields.Selection(LANES, required=True, default="standard", readonly=True, index=True)
    priority = fields.Integer(default=10, readonly=True)
    eta = fields.Datetime("Not Before", readonly=True)
    state = fields.Selection(
        JOB_STATES, default="pending", required=True, readonly=True, index=True
    )
    attempts = fields.Integer(readonly=True)
    max_attempts = fields.Integer(default=5, readonly=True)
    last_error = fields.Text(readonly=True)
    traceback = fields.Text(readonly=True)
    date_started = fields.Datetime(readonly=True)
    date_done = fields.Datetime(readonly=True)
    duration = fields.Float("Duration (s)", readonly=True, digits=(16, 3))
    correlation_id = fields.Char(readonly=True, index=True)
    ordering_key = fields.Char(readonly=True, index=True)
    model_name = fields.Char(readonly=True, required=True)
    method_name = fields.Char(readonly=True, required=True)
    record_ids = fields.Char(readonly=True, help="JSON list of ids")
    kwargs = fields.Text("Arguments", readonly=True, help="JSON object")
    lease_pid = fields.Integer(
        "Runner Session",
        readonly=True,
        help="PostgreSQL backend of the runner that holds the job: while that session"
        " lives and the lease runs, no other runner takes the job.",
    )
    lease_until = fields.Datetime(readonly=True)
    running_since = fields.Datetime(
        readonly=True, help="Start of the attempt under way; empty when none runs."
    )
    time_limit = fields.Integer(
        "Time Limit (s)", readonly=True, help="Limit of the attempt under way or last run."
    )

    def init(self):
        if not self.env.su:
            raise AccessError(_("Only the server sets up the job tables."))
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS integration_job_ready
                ON integration_job (lane, priority, id) WHERE state = 'pending';
            CREATE INDEX IF NOT EXISTS integration_job_ordering_pending
                ON integration_job (ordering_key, id) WHERE state = 'pending';
            """
        )

    def _register_hook(self):
        # the allow-list of handlers and targets, built once the registry is loaded;
        # a message type declared twice stops the load here
        registry.reset(self.env.registry)
        self._wake_lanes_with_work()
        return super()._register_hook()

    @api.model
    def _wake_lanes_with_work(self):
        """Trigger the crons of lanes that have due jobs, when a server loads the database.

        After a crash the backlog must drain as soon as cron workers poll (they
        poll at once when they start, see ``cron_wakeup.py``), not when the lane
        cron's next scheduled run comes.
        """
        self.env.cr.execute(
            """
            SELECT DISTINCT lane FROM integration_job
             WHERE state = 'pending'
               AND (eta IS NULL OR eta <= (now() at time zone 'UTC'))
            """
        )
        for (lane,) in self.env.cr.fetchall():
            cron = self._lane_cron(lane)
            if cron:
                # not _trigger_lane: its once-per-transaction mark would swallow the
                # wake-ups of jobs enqueued later in this transaction
                cron.sudo()._trigger()

    @api.model_create_multi
    def create(self, vals_list):
        if not registry.guarded():
            raise AccessError(_("Jobs are created by the queue's code only."))
        for vals in vals_list:
            self._check_target(vals)
        return super().create(vals_list)

    def write(self, vals):
        # every field of a job is the runner's: requeue and cancel go through their actions
        if not registry.guarded():
            raise AccessError(
                _(
                    "Jobs are changed by the queue only (use Requeue or Cancel): %(fields)s",
                    fields=", ".join(sorted(vals)),
                )
            )
        return super().write(vals)

    def unlink(self):
        if not registry.guarded():
            raise AccessError(_("Jobs are removed by the retention cron only."))
        return super().unlink()

    @api.model
    def _check_target(self, vals):
        """Refuse a job whose model and method are not declared in code for it."""
        target = (vals.get("model_name"), vals.get("method_name"))
        routes = registry.routes(self.env.registry)
        message = self.env["integration.message"].sudo().browse(vals.get("message_id") or [])
        if message and message.direction == "inbound":
            handler = routes.handler(message.message_type)
            allowed = handler is not None and target == tuple(handler)
        elif message:
            allowed = target == OUTBOUND_TARGET and json.loads(vals.get("record_ids") or "[]") == [
                message.id
            ]
        else:
            allowed = target != OUTBOUND_TARGET and routes.is_target(*target)
        if not allowed:
            raise AccessError(
                _(
                    "%(model)s.%(method)s is not a registered job target.",
                    model=target[0],
                    method=target[1],
                )
            )

    # ------------------------------------------------------------------
    # Enqueue
    # ------------------------------------------------------------------

    @api.model
    def _enqueue(
        self,
        model_name,
        method_name,
        record_ids=None,
        message=None,
        lane="standard",
        priority=10,
        max_attempts=5,
        ordering_key=None,
        eta=None,
        kwargs=None,
        name=None,
        correlation_id=None,
    ):
        """Create a pending job and wake its lane's cron.

        ``model_name.method_name`` must be declared in code: the handler of the
        message's type, the outbound delivery, or a ``@job_target``.
        """
        with registry.write_guard():
            job = self.sudo().create(
                {
                    "name": name or f"{model_name}.{method_name}",
                    "message_id": message.id if message else False,
                    "company_id": (message.company_id.id if message else self.env.company.id),
                    "lane": lane,
                    "priority": priority,
                    "max_attempts": max_attempts,
                    "ordering_key": ordering_key or False,
                    "eta": eta or False,
                    "correlation_id": correlation_id
                    or (message.correlation_id if message else get_correlation_id(self.env)),
                    "model_name": model_name,
                    "method_name": method_name,
                    "record_ids": json.dumps(list(record_ids or [])),
                    "kwargs": json.dumps(kwargs or {}),
                }
            )
        if not eta:
            # every lane wakes at once; a critical one is the one that must
            self._trigger_lane(lane)
        return job

    @api.model
    def _lane_cron(self, lane):
        # the xmlid look-up is cached; env.ref would also query that the cron exists
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
            f"integration_queue.ir_cron_lane_{lane}", raise_if_not_found=False
        )
        return self.env["ir.cron"].browse(cron_id) if cron_id else self.env["ir.cron"]

    @api.model
    def _trigger_lane(self, lane, at=None):
        """Wake the lane's cron, once per transaction for an immediate wake-up:
        a transaction that enqueues thousands of jobs sends one trigger, not thousands."""
        if at is None:
            woken = self.env.cr.precommit.data.setdefault("integration_queue.woken_lanes", set())
            if lane in woken:
                return
            woken.add(lane)
        cron = self._lane_cron(lane)
        if not cron:
            return
        if at is not None:
            if cron.sudo().exists():
                cron.sudo()._trigger(at=at)
            return
        self.env["ir.cron"].flush_model(["active"])
        if lane_wakeup.insert_trigger(self.env.cr, cron.id, self.env.uid):
            # Odoo's _trigger, minus its new connection per NOTIFY (lane_wakeup)
            self.env.cr.postcommit.add(
                functools.partial(
                    lane_wakeup.notify_cron_workers, self.env.cr.dbname, cron.sudo()._notifydb
                )
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_requeue(self):
        """Run again now, from zero attempts (dead, exception or cancelled jobs).

        The job runs exactly what it was created with: nothing of its target changes.
        """
        check_group(self.env, MANAGER_GROUP, _("Requeueing a job"))
        for job in self.filtered(lambda j: j.state in ("dead", "exception", "cancelled")):
            with registry.write_guard():
                job.sudo().write(
                    {"state": "pending", "attempts": 0, "eta": False, **job._release_vals()}
                )
                job._release_session()
                if job.message_id:
                    job.message_id.sudo().write({"state": "queued"})
            self.env["integration.audit.event"].sudo()._log(
                "manual_action", _("Job requeued"), records=job, correlation_id=job.correlation_id
            )
            self._trigger_lane(job.lane)
        return True

    def action_cancel(self):
        """Cancel pending jobs."""
        check_group(self.env, MANAGER_GROUP, _("Cancelling a job"))
        for job in self.filtered(lambda j: j.state == "pending"):
            with registry.write_guard():
                job.sudo().write({"state": "cancelled"})
            self.env["integration.audit.event"].sudo()._log(
                "manual_action", _("Job cancelled"), records=job, correlation_id=job.correlation_id
            )
        return True

    # ------------------------------------------------------------------
    # Runner
    # ------------------------------------------------------------------

    @api.model
    def _cron_run_lane(self, lane, time_budget=None):
        """Work through a lane's backlog until it is empty or the budget is spent.

        Called by the lane's cron, which owns its cursor: each batch commits
        its effects together with the jobs' new states.
        """
        budget = time_budget or float(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("integration_queue.lane_time_budget", "50")
        )
        deadline = time.monotonic() + budget
        self._forget_cron_timeouts()
        total = 0
        while True:
            if time.monotonic() >= deadline:
                # backlog left: have a cron worker come back at once
                self._trigger_lane(lane)
                self.env.cr.commit()  # pylint: disable=invalid-commit
                break
            done = self._run_batch(lane, BATCH_SIZE.get(lane, 10), commit=True)
            self.env.cr.commit()  # pylint: disable=invalid-commit
            if not done:
                break
            total += done
        return total

    @api.model
    def _forget_cron_timeouts(self):
        """Keep Odoo from counting a killed lane run against the lane's cron.

        Odoo counts a cron run that never finished (its worker killed) as a
        timeout, skips the cron's next run after three of them and deactivates a
        cron that keeps failing. A job that kills its worker is counted here, on
        the job, durably: it must not stall or switch off the whole lane.
        """
        progress_id = self.env.context.get("ir_cron_progress_id")
        if progress_id:
            self.env.cr.execute(
                "UPDATE ir_cron_progress SET timed_out_counter = 0 WHERE id = %s", [progress_id]
            )
            # the lane cron owns its cursor; the reset must hold before any job runs
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _claim(self, lane, limit):
        """Lease up to ``limit`` ready jobs of the lane that no one else holds.

        A job with an ordering key is ready only when no older job of the same
        key is pending, so jobs of one key run one at a time, oldest first. Keys
        are scoped to partner and company, and a job waiting for its eta is not
        ready: one partner's retries never hold back another's messages.

        ``statement_timestamp()``, not ``now()``: ``now()`` is the start of the
        transaction, which lags behind the etas the runner writes with the clock
        of this moment (a batch loop or a long test transaction then saw due jobs
        as not yet due).

        The lease (this database session, until a deadline) outlives the claim's
        transaction: the runner commits once per job, and a job held by a live
        runner is skipped by the others. A job whose runner's session is gone (a
        killed worker) is ready again at once; ``abandoned`` in the context of the
        returned jobs lists those whose last attempt was under way when it died.
        """
        query = SQL(
            """
            WITH ready AS (
                SELECT j.id, j.running_since FROM integration_job j
                 WHERE j.state = 'pending' AND j.lane = %(lane)s
                   AND (j.eta IS NULL OR j.eta <= (statement_timestamp() at time zone 'UTC'))
                   AND (COALESCE(j.lease_pid, 0) = 0 OR j.lease_pid = pg_backend_pid()
                        OR j.lease_until < (statement_timestamp() at time zone 'UTC')
                        OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                        WHERE a.pid = j.lease_pid))
                   AND (j.ordering_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM integration_job o
                         WHERE o.ordering_key = j.ordering_key AND o.state = 'pending'
                           AND o.id < j.id))
                 ORDER BY j.priority, j.id
                 LIMIT %(limit)s
                 FOR UPDATE OF j SKIP LOCKED
            )
            UPDATE integration_job j
               SET lease_pid = pg_backend_pid(),
                   lease_until = (statement_timestamp() at time zone 'UTC')
                                 + make_interval(secs => %(lease)s)
              FROM ready
             WHERE j.id = ready.id
            RETURNING j.id, j.priority, ready.running_since IS NOT NULL
            """,
            lane=lane,
            limit=limit,
            lease=CLAIM_LEASE_SECONDS,
        )
        self.env.flush_all()
        for _attempt in range(5):
            try:
                with routine_concurrency():
                    self.env.cr.execute(query)
                rows = sorted(self.env.cr.fetchall(), key=lambda row: (row[1], row[0]))
                self.invalidate_model(["lease_pid", "lease_until"])
                abandoned = tuple(row[0] for row in rows if row[2])
                jobs = self.browse([row[0] for row in rows])
                return jobs.with_context(integration_job_abandoned=abandoned)
            except psycopg2.errors.SerializationFailure:
                # a row changed since this transaction's snapshot: start afresh
                self.env.cr.rollback()
        return self.browse()

    @api.model
    def _run_batch(self, lane, limit, commit=False):
        """Claim and run up to ``limit`` jobs of the lane; return how many were claimed.

        ``commit``: the caller owns the cursor (the lane cron), and each job is
        committed on its own: a job that kills its worker loses no other job's
        work, and its attempt is already counted.
        """
        jobs = self._claim(lane, limit)
        abandoned = set(jobs.env.context.get("integration_job_abandoned", ()))
        outcomes = []
        for job in jobs:
            # with ``commit``, each job's attempt is committed before it runs, and
            # with it the outcome of the job before: one commit per job
            outcome = job._run(abandoned=job.id in abandoned, commit=commit)
            if outcome is not None:
                outcomes.append(outcome)
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
            self._bump_counters_apart(lane, outcomes)
        elif outcomes:
            self._bump_counters(lane, outcomes)
        return len(jobs)

    @api.model
    def _bump_counters_apart(self, lane, outcomes):
        """Add the batch to the counters in a READ COMMITTED transaction of its own.

        Two runners of one lane add to the same rows: under Odoo's REPEATABLE READ
        the second fails to serialise, which aborted the rest of its batch. The
        jobs' outcomes are committed already; the counters are statistics and a
        batch that still cannot add them after a few tries is only logged.
        """
        if not outcomes:
            return
        for _attempt in range(3):
            try:
                with routine_concurrency():
                    self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    self._bump_counters(lane, outcomes)
                self.env.cr.commit()  # pylint: disable=invalid-commit
                return
            except PG_CONCURRENCY_ERRORS:
                self.env.cr.rollback()
        _logger.info("lane %s: %s outcomes not added to the counters", lane, len(outcomes))

    def _run(self, abandoned=False, commit=False):
        """Run one claimed job and record its outcome; return (state, latency, company),
        or None when the job was not this runner's to run.

        The attempt is counted before the job runs, and committed first when the
        runner owns the cursor (``commit``): a job that kills its worker still
        counts its attempts, and is dead after ``max_attempts``.
        """
        self.ensure_one()
        if abandoned and self.attempts >= self.max_attempts:
            with registry.write_guard():
                self._on_worker_lost()
            self._release_session()
            return self.state, 0.0, self.company_id.id
        limit = self._start_attempt(abandoned)
        if limit is None:
            return None
        if commit:
            # the runner owns the cursor: the attempt must be counted even if the job
            # kills this process. That takes a commit, not a flush to disk: the count
            # must outlive this process, and PostgreSQL keeps it whatever happens to us.
            # The batch's last commit is synchronous and flushes the WAL of all before
            # it; only a crash of PostgreSQL itself within the batch can undo an
            # outcome, and then with its effects: the job simply runs again.
            self.env.cr.execute("SET LOCAL synchronous_commit TO OFF")
            self.env.cr.commit()  # pylint: disable=invalid-commit
        job = self.with_context(
            **{
                # set by the server: holds even when a job runs inside an HTTP request
                CONTEXT_KEY: self.correlation_id and ServerCorrelationId(self.correlation_id),
                "integration_partner_code": self.message_id.partner_id.code or False,
                "integration_job_id": self.id,
            }
        )
        started = fields.Datetime.now()
        clock = time.perf_counter()
        try:
            # routine_concurrency outside the savepoint: its exit flushes, and the
            # flush is where a concurrent update surfaces
            with self._statement_timeout(limit), routine_concurrency(), self.env.cr.savepoint():
                # the Python watchdog covers the handler only, and fires after PostgreSQL's
                # timeout: it never interrupts the savepoint's own rollback or flush
                with watchdog.time_limit(limit + WATCHDOG_GRACE_SECONDS):
                    result = job._call_handler()
                self._check_lease()
        except LeaseLost:
            _logger.warning(
                "job %s was taken over by another runner; its effects are undone", self.id
            )
            return None
        except BusinessError as error:
            with registry.write_guard():
                job._on_business_error(error, started, clock)
        except DeferJob as defer:
            with registry.write_guard():
                job._on_defer(defer)
        except (Exception, watchdog.JobTimeout) as error:
            with registry.write_guard():
                job._on_technical_error(error, started, clock)
        else:
            with registry.write_guard():
                job._on_done(result, started, clock)
        self._release_session()
        latency = (fields.Datetime.now() - self.create_date).total_seconds()
        return self.state, latency, self.company_id.id

    def _start_attempt(self, abandoned=False):
        """Count an attempt and lease the job for its time limit; return the limit in
        seconds, or None when another runner holds the job."""
        limit = self._get_time_limit()
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE integration_job
               SET attempts = COALESCE(attempts, 0) + 1, time_limit = %(limit)s,
                   running_since = (statement_timestamp() at time zone 'UTC'),
                   lease_pid = pg_backend_pid(),
                   lease_until = (statement_timestamp() at time zone 'UTC')
                                 + make_interval(secs => %(lease)s),
                   last_error = CASE WHEN %(abandoned)s THEN %(lost)s ELSE last_error END
             WHERE id = %(id)s AND state = 'pending'
               AND (COALESCE(lease_pid, 0) = 0 OR lease_pid = pg_backend_pid())
            RETURNING id
            """,
            {
                "id": self.id,
                "limit": limit,
                "lease": limit + LEASE_GRACE_SECONDS,
                "abandoned": bool(abandoned),
                "lost": self._worker_lost_reason(),
            },
        )
        started = bool(self.env.cr.fetchone())
        self.invalidate_recordset(
            ["attempts", "time_limit", "running_since", "lease_pid", "lease_until", "last_error"]
        )
        return limit if started else None

    def _get_time_limit(self):
        code = self.message_id.message_type if self.message_id else False
        return self.env["integration.message.type"]._get_time_limit(code or "", self.lane)

    @contextmanager
    def _statement_timeout(self, seconds):
        """PostgreSQL cancels any statement of the attempt that runs longer than ``seconds``."""
        cr = self.env.cr
        cr.execute("SHOW statement_timeout")
        previous = cr.fetchone()[0]
        cr.execute(SQL("SET statement_timeout = %s", f"{int(seconds * 1000)}ms"))
        try:
            yield
        finally:
            cr.execute(SQL("SET statement_timeout = %s", previous))

    def _check_lease(self):
        """Refuse to record an attempt that another runner took over (this one ran past
        its lease): its effects roll back with the savepoint."""
        self.env.cr.execute(
            "SELECT lease_pid = pg_backend_pid() FROM integration_job WHERE id = %s FOR UPDATE",
            [self.id],
        )
        row = self.env.cr.fetchone()
        if not (row and row[0]):
            raise LeaseLost(self.id)

    def _worker_lost_reason(self):
        return _(
            "WorkerLost: the process running attempt %(n)s ended without recording an outcome"
            " (killed, out of memory or stopped).",
            n=self.attempts,
        )

    def _on_worker_lost(self):
        """The last allowed attempt died with its worker: dead, without running again."""
        reason = self._worker_lost_reason()
        self.write(dict(self._release_vals(), state="dead", last_error=reason, traceback=False))
        if self.message_id:
            self.message_id.write({"state": "dead", "error": reason})
            self.message_id._schedule_exception_activity(
                _("Gave up after %(n)s attempts: %(reason)s", n=self.attempts, reason=reason),
                "integration_queue.group_integration_manager",
            )
        _logger.warning(
            "job %s is dead: its worker died on each of %s attempts", self.id, self.attempts
        )
        self._audit(
            [("job_failed", reason[:200])],
            details={"attempt": self.attempts, "state": "dead", "reason": reason},
        )

    @api.model
    def _release_vals(self):
        return {"lease_until": False, "running_since": False}

    def _release_session(self):
        """No runner holds these jobs any more. lease_pid is emptied in SQL: the ORM
        stores an empty integer as 0, and "held by no one" reads ``IS NULL`` everywhere."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE integration_job SET lease_pid = NULL"
            " WHERE id = ANY(%s) AND lease_pid IS NOT NULL",
            [self.ids],
        )
        self.invalidate_recordset(["lease_pid"])

    def _call_handler(self):
        """Run what the registry declares for this job, never what data names."""
        routes = registry.routes(self.env.registry)
        target = (self.model_name, self.method_name)
        message = self.message_id.with_env(self.env)
        if message and message.direction == "inbound":
            handler = routes.handler(message.message_type)
            if handler is None or tuple(handler) != target:
                raise BusinessError(self._unregistered_reason(target), field="message_type")
            with registry.write_guard():
                # routine steps stay out of the chatter: a mail.message per step
                # cost more than the rest of a small job (the audit trail has them)
                message.with_context(tracking_disable=True).write({"state": "processing"})
            return getattr(self.env[handler.model], handler.method)(
                message, message._payload_json()
            )
        if message:
            if target != OUTBOUND_TARGET or json.loads(self.record_ids or "[]") != message.ids:
                raise BusinessError(self._unregistered_reason(target))
            return message._deliver_outbound()
        if target == OUTBOUND_TARGET or not routes.is_target(*target):
            raise BusinessError(self._unregistered_reason(target))
        records = self.env[self.model_name].browse(json.loads(self.record_ids or "[]"))
        return getattr(records, self.method_name)(**json.loads(self.kwargs or "{}"))

    def _unregistered_reason(self, target):
        return _(
            "%(model)s.%(method)s is not registered in code for this job; it was not run.",
            model=target[0],
            method=target[1],
        )

    def _finish_vals(self, state, started, clock):
        # the attempt was counted when it started (_start_attempt)
        return {
            **self._release_vals(),
            "state": state,
            "attempts": self.attempts,
            "date_started": started,
            "date_done": fields.Datetime.now(),
            "duration": time.perf_counter() - clock,
        }

    def _on_done(self, result, started, clock):
        # an earlier attempt's error is history (kept in the audit trail's job_failed
        # events), not the job's current state
        self.write(
            dict(
                self._finish_vals("done", started, clock),
                eta=False,
                last_error=False,
                traceback=False,
            )
        )
        message = self.message_id
        if message:
            message.with_context(tracking_disable=True).write(
                {
                    "state": "done",
                    "result": json.dumps(result, default=str) if result is not None else False,
                    "error": False,
                    "error_field": False,
                }
            )
        self._audit(
            [("job_started", _("Job started")), ("job_done", _("Job done"))],
            details={"attempt": self.attempts, "duration": round(self.duration, 4)},
        )

    def _on_business_error(self, error, started, clock):
        reason = str(error)
        self.write(
            dict(self._finish_vals("exception", started, clock), last_error=reason, traceback=False)
        )
        message = self.message_id
        if message:
            message.write({"state": "exception", "error": reason, "error_field": error.field})
            message._schedule_exception_activity(reason, error.group_xmlid)
        self._audit(
            [("business_exception", reason[:200])],
            details={"reason": reason, "field": error.field, **error.details},
        )

    def _on_defer(self, defer):
        # a deferral is not an attempt: give back the one counted at the start
        self.write(
            {
                **self._release_vals(),
                "attempts": max(self.attempts - 1, 0),
                "eta": defer.until,
                "last_error": str(defer) or False,
            }
        )
        self._trigger_lane(self.lane, at=defer.until)

    def _on_technical_error(self, error, started, clock):
        reason = f"{type(error).__name__}: {error}"
        vals = dict(
            self._finish_vals("pending", started, clock),
            last_error=reason,
            traceback=traceback.format_exc(),
        )
        partner_id = getattr(error, "circuit_partner_id", None)
        if partner_id:
            self.env["integration.partner"].sudo().browse(partner_id)._circuit_failure()
            self._audit([("outbound_failed", reason[:200])], details={"reason": reason})
        if vals["attempts"] >= self.max_attempts:
            vals["state"] = "dead"
            self.write(vals)
            if self.message_id:
                self.message_id.write({"state": "dead", "error": reason})
                self.message_id._schedule_exception_activity(
                    _(
                        "Gave up after %(n)s attempts: %(reason)s",
                        n=vals["attempts"],
                        reason=reason,
                    ),
                    "integration_queue.group_integration_manager",
                )
        else:
            # a lock conflict clears in moments; a partner outage does not
            concurrency = isinstance(error, PG_CONCURRENCY_ERRORS)
            delay = retry_delay(vals["attempts"], base=1 if concurrency else 10)
            vals["eta"] = fields.Datetime.now() + timedelta(seconds=delay)
            self.write(vals)
            if self.message_id:
                self.message_id.write({"state": "failed", "error": reason})
            self._trigger_lane(self.lane, at=vals["eta"])
        _logger.info(
            "job %s attempt %s failed: %s", self.id, vals["attempts"], type(error).__name__
        )
        self._audit(
            [("job_failed", reason[:200])],
            details={"attempt": vals["attempts"], "state": vals["state"], "reason": reason},
        )

    def _audit(self, events, details=None):
        target = self.message_id or self
        self.env["integration.audit.event"].sudo()._append(
            [
                {
                    "event_type": event_type,
                    "summary": summary,
                    "record": target,
                    "details": dict(details or {}, job_id=self.id),
                    "correlation_id": self.correlation_id,
                    "partner_code": self.message_id.partner_id.code or None,
                }
                for event_type, summary in events
            ]
        )

    @api.model
    def _bump_counters(self, lane, outcomes):
        """Add this batch to the monotonic counters behind /integration/v1/metrics."""
        increments = {}
        for state, latency, company_id in outcomes:
            key = {
                "done": "processed",
                "exception": "exception",
                "dead": "dead",
                "pending": "failed",
            }.get(state, state)
            increments[company_id, key] = increments.get((company_id, key), 0) + 1
            if state == "done":
                for name, value in (("latency_count", 1), ("latency_sum_ms", int(latency * 1000))):
                    increments[company_id, name] = increments.get((company_id, name), 0) + value
                for bound in LATENCY_BUCKETS:
                    if latency <= bound:
                        name = f"latency_le_{bound}"
                        increments[company_id, name] = increments.get((company_id, name), 0) + 1
        self.env["integration.queue.counter"]._add(lane, increments)

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _cron_purge_done(self, batch_size=1000):
        """Delete done messages and jobs past retention; dead ones and exceptions stay."""
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("integration_queue.retention_days", "30")
        )
        cutoff = fields.Datetime.now() - timedelta(days=days)
        # rejection counts (callers' addresses) are kept no longer than the messages
        self.env.cr.execute("DELETE FROM integration_gateway_rejection WHERE minute < %s", [cutoff])
        total = 0
        while True:
            messages = (
                self.env["integration.message"]
                .sudo()
                .search(
                    [("state", "in", ("done", "cancelled")), ("write_date", "<", cutoff)],
                    limit=batch_size,
                )
            )
            jobs = self.sudo().search(
                [
                    ("state", "in", ("done", "cancelled")),
                    ("message_id", "=", False),
                    ("write_date", "<", cutoff),
                ],
                limit=batch_size,
            )
            if not messages and not jobs:
                break
            total += len(messages) + len(jobs)
            with registry.write_guard():
                messages.unlink()
                jobs.unlink()
            # commit per batch: the purge cron owns its cursor
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return total
