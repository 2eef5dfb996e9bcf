from odoo import models

from ..correlation import CONTEXT_KEY, new_correlation_id


class IrCron(models.Model):
    """Each cron run is one unit of work with its own correlation ID."""

    _inherit = "ir.cron"

    def _callback(self, cron_name, server_action_id):
        cron = self
        if not self.env.context.get(CONTEXT_KEY):
            cron = self.with_context(**{CONTEXT_KEY: new_correlation_id()})
        return super(IrCron, cron)._callback(cron_name, server_action_id)
