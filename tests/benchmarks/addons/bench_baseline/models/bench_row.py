from odoo import api, fields, models

from odoo.addons.integration_queue.registry import job_target


class BenchRow(models.Model):
    _name = "bench.row"
    _description = "Benchmark row"

    body = fields.Text()

    @api.model
    @job_target
    def bench_noop(self):
        """The no-op job body, the same for both queues."""
        return True
