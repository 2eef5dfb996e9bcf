from odoo import _, fields, models, tools
from odoo.exceptions import AccessError

from .integration_job import JOB_STATES
from .integration_message_type import LANES


class IntegrationQueueStat(models.Model):
    """Queue health per lane and partner: depth, oldest pending age, throughput, failures."""

    _name = "integration.queue.stat"
    _description = "Integration Queue Dashboard"
    _auto = False
    _order = "lane, partner_id"

    lane = fields.Selection(LANES, readonly=True)
    partner_id = fields.Many2one("integration.partner", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    state = fields.Selection(JOB_STATES, readonly=True)
    job_count = fields.Integer("Jobs", readonly=True)
    oldest_pending_minutes = fields.Float("Oldest Pending (min)", readonly=True, aggregator="max")
    done_last_hour = fields.Integer("Done, Last Hour", readonly=True)
    failed_last_hour = fields.Integer("Failed Attempts, Last Hour", readonly=True)
    failure_rate = fields.Float("Failure Rate (%)", readonly=True, aggregator="avg")

    def init(self):
        if not self.env.su:
            raise AccessError(_("Only the server sets up the queue dashboard."))
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            """
            CREATE VIEW integration_queue_stat AS
            SELECT row_number() OVER () AS id, lane, partner_id, company_id, state,
                   count(*) AS job_count,
                   COALESCE(max(CASE WHEN state = 'pending' THEN EXTRACT(EPOCH FROM
                       (now() at time zone 'UTC') - create_date) / 60 END), 0)
                       AS oldest_pending_minutes,
                   count(*) FILTER (WHERE state = 'done'
                       AND date_done > (now() at time zone 'UTC') - interval '1 hour')
                       AS done_last_hour,
                   count(*) FILTER (WHERE last_error IS NOT NULL
                       AND write_date > (now() at time zone 'UTC') - interval '1 hour')
                       AS failed_last_hour,
                   CASE WHEN count(*) FILTER (WHERE write_date >
                            (now() at time zone 'UTC') - interval '1 hour') = 0 THEN 0
                        ELSE 100.0 * count(*) FILTER (WHERE state IN ('dead', 'exception')
                            AND write_date > (now() at time zone 'UTC') - interval '1 hour')
                            / count(*) FILTER (WHERE write_date >
                            (now() at time zone 'UTC') - interval '1 hour') END AS failure_rate
              FROM integration_job
             GROUP BY lane, partner_id, company_id, state
            """
        )
