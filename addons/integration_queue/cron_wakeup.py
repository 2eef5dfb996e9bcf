"""A cron worker that Odoo's prefork server starts polls for due crons at once.

Odoo's cron worker sleeps first (up to a minute) and polls afterwards. When the
server restarts after a crash, or replaces a cron worker that was killed, the
lanes' backlog, and the jobs the dead worker held, then wait for that minute
(76 s measured). Here the first sleep of each new cron worker is skipped: it
polls as soon as it runs, and every later sleep is Odoo's own.

The patch applies in the processes forked after this module is imported: with
``db_name`` set (``-d``), the prefork server loads the database before it forks
its workers, so every cron worker has it. Odoo's threaded server (no
``--workers``) is not changed: its cron threads poll once a minute.

The same cron workers run at a lower CPU priority (``nice``), by
``integration_queue_cron_nice`` in the configuration file (default 5, 0 keeps
Odoo's): when the machine is saturated, partners' requests are answered first
and the lanes work through what was accepted with the CPU left, which is what
a queue is for. HTTP workers and the database are not changed.
"""

import logging
import os

from odoo.service import server
from odoo.tools import config

_logger = logging.getLogger(__name__)


def _sleep_after_first_poll(sleep):
    def sleep_unless_new(self):
        if not getattr(self, "_integration_queue_polled", False):
            self._integration_queue_polled = True
            return None
        return sleep(self)

    sleep_unless_new.integration_queue_wakeup = True
    return sleep_unless_new


def cron_niceness():
    """How much lower the cron workers' CPU priority is (0 to 19)."""
    try:
        value = int(config.get("integration_queue_cron_nice", 5))
    except (TypeError, ValueError):
        _logger.warning("integration_queue_cron_nice must be a number from 0 to 19")
        return 0
    return min(max(value, 0), 19)


def _nice_after_start(start):
    def start_at_lower_priority(self):
        start(self)
        niceness = cron_niceness()
        if niceness:
            os.nice(niceness)

    start_at_lower_priority.integration_queue_wakeup = True
    return start_at_lower_priority


def install():
    """Make new prefork cron workers poll at once, at a lower priority (idempotent)."""
    worker = getattr(server, "WorkerCron", None)
    if worker is None or getattr(worker.sleep, "integration_queue_wakeup", False):
        return
    worker.sleep = _sleep_after_first_poll(worker.sleep)
    worker.start = _nice_after_start(worker.start)
    _logger.debug("cron workers poll at once when they start")


install()
