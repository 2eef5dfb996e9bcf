from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL


class IntegrationQueueCounter(models.Model):
    """Monotonic counters per lane and company (processed, failed, dead, latency buckets).

    Purging old jobs does not lower them, as Prometheus counters require. Each
    lane's runner adds to its own rows once per batch, so lanes never contend.
    """

    _name = "integration.queue.counter"
    _description = "Integration Queue Counter"
    _log_access = False

    lane = fields.Char(required=True, readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    name = fields.Char(required=True, readonly=True)
    value = fields.Float(readonly=True)

    def init(self):
        if not self.env.su:
            raise AccessError(_("Only the server sets up the queue counters."))
        # one row per lane, company and name (no company: jobs outside any company)
        self.env.cr.execute(
            """
            ALTER TABLE integration_queue_counter
                DROP CONSTRAINT IF EXISTS integration_queue_counter_lane_name_unique;
            CREATE UNIQUE INDEX IF NOT EXISTS integration_queue_counter_key
                ON integration_queue_counter (lane, (COALESCE(company_id, 0)), name);
            """
        )

    @api.model
    def _add(self, lane, increments):
        """Add ``{(company_id, name): value}`` to the lane's counters."""
        if not increments:
            return
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO integration_queue_counter (lane, company_id, name, value) VALUES %s
                ON CONFLICT (lane, (COALESCE(company_id, 0)), name) DO UPDATE
                   SET value = integration_queue_counter.value + EXCLUDED.value
                """,
                SQL(", ").join(
                    SQL("(%s, %s, %s, %s)", lane, company_id or None, name, value)
                    for (company_id, name), value in sorted(
                        increments.items(), key=lambda item: (item[0][0] or 0, item[0][1])
                    )
                ),
            )
        )

    @api.model
    def _snapshot(self):
        # all companies together: the metrics endpoint serves operations, not a company
        self.env.cr.execute(
            "SELECT lane, name, sum(value) FROM integration_queue_counter GROUP BY lane, name"
        )
        return self.env.cr.fetchall()
