import os
import signal
import time

from odoo import api, models

from odoo.addons.integration_queue.registry import message_handler


class ResilienceFault(models.AbstractModel):
    """Handlers that misbehave on purpose, for the resilience scenarios."""

    _name = "resilience.fault"
    _description = "Resilience Fault Handlers"

    @message_handler("resilience.work")
    @api.model
    def _handle_work(self, message, payload):
        """A good job: takes ``sleep`` seconds, then echoes ``n``."""
        time.sleep(float(payload.get("sleep", 0)))
        return {"n": payload.get("n"), "pid": os.getpid()}

    @message_handler("resilience.crash")
    @api.model
    def _handle_crash(self, message, payload):
        """Kills the process that runs it, on every attempt."""
        os.kill(os.getpid(), signal.SIGKILL)

    @message_handler("resilience.forever")
    @api.model
    def _handle_forever(self, message, payload):
        """Never ends, in Python, swallowing every Exception."""
        while True:
            try:
                time.sleep(0.1)
            except Exception:
                continue

    @message_handler("resilience.forever_sql")
    @api.model
    def _handle_forever_sql(self, message, payload):
        """Never ends, in PostgreSQL."""
        self.env.cr.execute("SELECT pg_sleep(3600)")
