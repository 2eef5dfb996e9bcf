from odoo import api, fields, models


class BenchRow(models.Model):
    _name = "bench.row"
    _description = "Benchmark row"

    body = fields.Text()

    @api.model
    def bench_noop(self):
        """The no-op job body, the same for both queues."""
        return True
