import json
import logging
import time
import traceback
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

from .. import registry
from ..backoff import retry_delay
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
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
OUTBOUND_TARGET = ("integration.message", "_deliver_outbound")
MANAGER_GROUP = "integration_queue.group_integration_manager"
USER_GROUP = "integration_queue.group_integration_user"


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
        return super()._register_hook()

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
        return self.env.ref(f"integration_queue.ir_cron_lane_{lane}", raise_if_not_found=False)

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
        if cron:
            cron.sudo()._trigger(at=at)

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
                job.sudo().write({"state": "pending", "attempts": 0, "eta": False})
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
        total = 0
        while True:
            if time.monotonic() >= deadline:
                # backlog left: have a cron worker come back at once
                self._trigger_lane(lane)
                self.env.cr.commit()  # pylint: disable=invalid-commit
                break
            done = self._run_batch(lane, BATCH_SIZE.get(lane, 10))
            self.env.cr.commit()  # pylint: disable=invalid-commit
            if not done:
                break
            total += done
        return total

    @api.model
    def _claim(self, lane, limit):
        """Lock up to ``limit`` ready jobs of the lane that no one else holds.

        A job with an ordering key is ready only when no older job of the same
        key is pending, so jobs of one key run one at a time, oldest first. Keys
        are scoped to partner and company, and a job waiting for its eta is not
        ready: one partner's retries never hold back another's messages.

        ``statement_timestamp()``, not ``now()``: ``now()`` is the start of the
        transaction, which lags behind the etas the runner writes with the clock
        of this moment (a batch loop or a long test transaction then saw due jobs
        as not yet due).
        """
        query = SQL(
            """
            SELECT j.id FROM integration_job j
             WHERE j.state = 'pending' AND j.lane = %(lane)s
               AND (j.eta IS NULL OR j.eta <= (statement_timestamp() at time zone 'UTC'))
               AND (j.ordering_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM integration_job o
                     WHERE o.ordering_key = j.ordering_key AND o.state = 'pending'
                       AND o.id < j.id))
             ORDER BY j.priority, j.id
             LIMIT %(limit)s
             FOR UPDATE OF j SKIP LOCKED
            """,
            lane=lane,
            limit=limit,
        )
        self.env.flush_all()
        for _attempt in range(5):
            try:
                self.env.cr.execute(query)
                return self.browse([row[0] for row in self.env.cr.fetchall()])
            except psycopg2.errors.SerializationFailure:
                # a row changed since this transaction's snapshot: start afresh
                self.env.cr.rollback()
        return self.browse()

    @api.model
    def _run_batch(self, lane, limit):
        jobs = self._claim(lane, limit)
        outcomes = []
        for job in jobs:
            outcomes.append(job._run())
        if jobs:
            self._bump_counters(lane, outcomes)
        return len(jobs)

    def _run(self):
        """Run one claimed job and record its outcome; return (state, latency)."""
        self.ensure_one()
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
            with self.env.cr.savepoint():
                result = job._call_handler()
        except BusinessError as error:
            with registry.write_guard():
                job._on_business_error(error, started, clock)
        except DeferJob as defer:
            with registry.write_guard():
                job._on_defer(defer)
        except Exception as error:
            with registry.write_guard():
                job._on_technical_error(error, started, clock)
        else:
            with registry.write_guard():
                job._on_done(result, started, clock)
        latency = (fields.Datetime.now() - self.create_date).total_seconds()
        return self.state, latency, self.company_id.id

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
                message.write({"state": "processing"})
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
        return {
            "state": state,
            "attempts": self.attempts + 1,
            "date_started": started,
            "date_done": fields.Datetime.now(),
            "duration": time.perf_counter() - clock,
        }

    def _on_done(self, result, started, clock):
        self.write(dict(self._finish_vals("done", started, clock), eta=False))
        message = self.message_id
        if message:
            message.write(
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
        self.write({"eta": defer.until, "last_error": str(defer) or False})
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
