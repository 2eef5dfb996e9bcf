from datetime import UTC

from odoo import api, fields, models

from .integration_message_type import LANES

# a lane's cron polls once per interval; a lane whose last run is older than this
# many intervals (plus one run's time budget) has stopped heartbeating
HEARTBEAT_INTERVALS = 3
# an attempt past this share of its time limit is "near its limit"
NEAR_LIMIT_SHARE = 0.8
INTERVAL_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800, "months": 2592000}


class IntegrationQueueHealth(models.AbstractModel):
    """What the readiness probe, /metrics and the dashboard know of the runners:
    each lane's heartbeat, and jobs under way, near their time limit or stuck."""

    _name = "integration.queue.health"
    _description = "Integration Queue Health"

    @api.model
    def _lane_heartbeats(self):
        """{lane: {"last_run", "last_success", "age", "stale_after", "active", "ok"}}.

        ``last_run`` is when the lane's cron last started a run (Odoo records a
        progress line at each start), ``last_success`` when it last finished one.
        """
        now = fields.Datetime.now()
        budget = float(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("integration_queue.lane_time_budget", "50")
        )
        lanes = {}
        for lane, _label in LANES:
            cron = self.env["integration.job"]._lane_cron(lane)
            if not cron:
                continue
            cron = cron.sudo()
            self.env.cr.execute(
                "SELECT max(create_date) FROM ir_cron_progress WHERE cron_id = %s", [cron.id]
            )
            last_run = self.env.cr.fetchone()[0]
            interval = cron.interval_number * INTERVAL_SECONDS.get(cron.interval_type, 60)
            stale_after = HEARTBEAT_INTERVALS * interval + budget
            age = (now - last_run).total_seconds() if last_run else None
            lanes[lane] = {
                "last_run": last_run,
                "last_success": cron.lastcall or None,
                "age": age,
                "stale_after": stale_after,
                "active": cron.active,
                "ok": bool(cron.active and age is not None and age <= stale_after),
            }
        return lanes

    @api.model
    def _readiness(self):
        """(ready, body) of /integration/v1/health/ready: the database answers and
        every lane's cron has run within its heartbeat window."""
        lanes = self._lane_heartbeats()
        reasons = [
            (
                f"lane {lane}: cron inactive"
                if not beat["active"]
                else f"lane {lane}: no run within {beat['stale_after']:.0f} s"
            )
            for lane, beat in sorted(lanes.items())
            if not beat["ok"]
        ]
        body = {
            "status": "not_ready" if reasons else "ready",
            "database": "ok",
            "lanes": {
                lane: {
                    "ok": beat["ok"],
                    "last_run": beat["last_run"] and beat["last_run"].isoformat() + "Z",
                    "last_success": beat["last_success"] and beat["last_success"].isoformat() + "Z",
                }
                for lane, beat in sorted(lanes.items())
            },
        }
        if reasons:
            body["reasons"] = reasons
        return not reasons, body

    @api.model
    def _runner_gauges(self):
        """Per lane: jobs under way, near their time limit, and stuck.

        Stuck: an attempt running past its time limit, or a job leased by a
        runner whose database session is gone or whose lease has run out (it
        is taken over at the lane's next run).
        """
        self.env.cr.execute(
            """
            WITH leased AS (
                SELECT j.lane, j.running_since, j.time_limit,
                       EXTRACT(EPOCH FROM (now() at time zone 'UTC') - j.running_since) AS age,
                       j.lease_until < (now() at time zone 'UTC')
                       OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                       WHERE a.pid = j.lease_pid) AS lost
                  FROM integration_job j
                 WHERE j.state = 'pending' AND COALESCE(j.lease_pid, 0) != 0
            )
            SELECT lane,
                   count(*) FILTER (WHERE running_since IS NOT NULL AND NOT lost),
                   count(*) FILTER (WHERE NOT lost AND running_since IS NOT NULL
                                      AND age >= %(near)s * time_limit AND age < time_limit),
                   count(*) FILTER (WHERE lost OR (running_since IS NOT NULL
                                                   AND age >= time_limit))
              FROM leased GROUP BY lane
            """,
            {"near": NEAR_LIMIT_SHARE},
        )
        gauges = {lane: {"running": 0, "near_limit": 0, "stuck": 0} for lane, _label in LANES}
        for lane, running, near, stuck in self.env.cr.fetchall():
            gauges[lane] = {"running": running, "near_limit": near, "stuck": stuck}
        return gauges

    @api.model
    def _dead_by_type(self):
        """[(message type or job name, dead jobs)]: the dead letters to look at."""
        self.env.cr.execute(
            """
            SELECT COALESCE(m.message_type, j.model_name || '.' || j.method_name), count(*)
              FROM integration_job j LEFT JOIN integration_message m ON m.id = j.message_id
             WHERE j.state = 'dead'
             GROUP BY 1 ORDER BY 1
            """
        )
        return self.env.cr.fetchall()

    @api.model
    def _metrics_lines(self):
        """The runners' gauges in Prometheus text format (names in readme/USAGE.md)."""
        out = []
        beats = self._lane_heartbeats()
        for name, help_text, key in (
            ("lane_last_run_timestamp_seconds", "When the lane's cron last started.", "last_run"),
            (
                "lane_last_success_timestamp_seconds",
                "When the lane's cron last finished a run.",
                "last_success",
            ),
        ):
            out += [
                f"# HELP integration_queue_{name} {help_text}",
                f"# TYPE integration_queue_{name} gauge",
            ]
            for lane, beat in sorted(beats.items()):
                if beat[key]:
                    stamp = beat[key].replace(tzinfo=UTC).timestamp()
                    out.append(f'integration_queue_{name}{{lane="{lane}"}} {stamp:.3f}')
        out += [
            "# HELP integration_queue_lane_up 1 when the lane's cron is active and ran within"
            " its heartbeat window.",
            "# TYPE integration_queue_lane_up gauge",
        ]
        for lane, beat in sorted(beats.items()):
            out.append(f'integration_queue_lane_up{{lane="{lane}"}} {int(beat["ok"])}')
        gauges = self._runner_gauges()
        for key, name, help_text in (
            ("running", "jobs_running", "Attempts under way."),
            (
                "near_limit",
                "jobs_near_time_limit",
                f"Attempts past {NEAR_LIMIT_SHARE:.0%} of their time limit.",
            ),
            (
                "stuck",
                "jobs_stuck",
                "Attempts past their time limit, or jobs held by a runner that is gone.",
            ),
        ):
            out += [
                f"# HELP integration_queue_{name} {help_text}",
                f"# TYPE integration_queue_{name} gauge",
            ]
            for lane in sorted(gauges):
                out.append(f'integration_queue_{name}{{lane="{lane}"}} {gauges[lane][key]}')
        out += [
            "# HELP integration_queue_dead_jobs Dead jobs (dead letters) by message type.",
            "# TYPE integration_queue_dead_jobs gauge",
        ]
        for message_type, count in self._dead_by_type():
            label = message_type.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'integration_queue_dead_jobs{{message_type="{label}"}} {count}')
        return out
