from odoo import api, fields, models
from odoo.tools import SQL


class IntegrationQueueCounter(models.Model):
    """Monotonic counters per lane (processed, failed, dead, latency buckets).

    Purging old jobs does not lower them, as Prometheus counters require. Each
    lane's runner adds to its own rows once per batch, so lanes never contend.
    """

    _name = "integration.queue.counter"
    _description = "Integration Queue Counter"
    _log_access = False

    lane = fields.Char(required=True, readonly=True)
    name = fields.Char(required=True, readonly=True)
    value = fields.Float(readonly=True)

    _sql_constraints = [
        ("lane_name_unique", "UNIQUE(lane, name)", "One counter per lane and name.")
    ]

    @api.model
    def _add(self, lane, increments):
        if not increments:
            return
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO integration_queue_counter (lane, name, value) VALUES %s
                ON CONFLICT (lane, name) DO UPDATE
                   SET value = integration_queue_counter.value + EXCLUDED.value
                """,
                SQL(", ").join(
                    SQL("(%s, %s, %s)", lane, name, value)
                    for name, value in sorted(increments.items())
                ),
            )
        )

    @api.model
    def _snapshot(self):
        self.env.cr.execute("SELECT lane, name, value FROM integration_queue_counter")
        return self.env.cr.fetchall()
