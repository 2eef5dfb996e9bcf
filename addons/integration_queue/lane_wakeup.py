"""Wake a lane's cron workers after commit, cheaply.

Odoo's ``ir.cron._trigger`` creates the trigger row through the ORM and, after
the commit, opens a new connection to the ``postgres`` database for every
NOTIFY: Odoo never keeps connections to that database in its pool. At intake
rates that connection set-up (a new PostgreSQL backend per request) was the
largest single cost of accepting a message. Here the trigger row is one
INSERT in the caller's transaction, exactly as Odoo would write it, and the
NOTIFY that wakes the cron workers goes through one connection kept per
process. Should that connection fail, Odoo's own ``_notifydb`` sends it.
"""

import logging
import os
import threading

import psycopg2
from psycopg2 import sql

from odoo import fields, sql_db

from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION

_logger = logging.getLogger(__name__)

_lock = threading.Lock()
_connection = {"pid": None, "cnx": None}


def insert_trigger(cr, cron_id, uid):
    """Add an immediate trigger for an active cron; True when one was added.

    An inactive cron gets none, as in ``ir.cron._trigger_list``.
    """
    now = fields.Datetime.now()
    cr.execute(
        """
        INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date,
                                     write_uid, write_date)
        SELECT id, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
          FROM ir_cron WHERE id = %(cron)s AND active
        RETURNING id
        """,
        {"cron": cron_id, "now": now, "uid": uid},
    )
    return bool(cr.fetchone())


def _kept_connection():
    """This process's connection to the ``postgres`` database (made after a fork)."""
    cnx = _connection["cnx"]
    if _connection["pid"] != os.getpid() or cnx is None or cnx.closed:
        _name, info = sql_db.connection_info_for("postgres")
        cnx = psycopg2.connect(**info)
        cnx.autocommit = True
        _connection.update(pid=os.getpid(), cnx=cnx)
    return _connection["cnx"]


def _drop_connection():
    cnx = _connection["cnx"]
    _connection.update(pid=None, cnx=None)
    if cnx is not None:
        try:
            cnx.close()
        except psycopg2.Error:
            pass


def notify_cron_workers(dbname, fallback):
    """Send the ``cron_trigger`` notification Odoo's cron workers listen to.

    Runs after the commit: it must not raise, or a committed request would
    answer 500. ``fallback`` is Odoo's own ``ir.cron._notifydb``.
    """
    try:
        with _lock:
            try:
                with _kept_connection().cursor() as cr:
                    cr.execute(
                        sql.SQL("SELECT {}('cron_trigger', %s)").format(
                            sql.Identifier(ODOO_NOTIFY_FUNCTION)
                        ),
                        [dbname],
                    )
                return
            except psycopg2.Error:
                # a restarted server or a killed session: the next call reconnects
                _drop_connection()
        fallback()
    except Exception:
        # the trigger row is committed: the cron workers' next poll finds it
        _logger.warning("could not wake the cron workers of %s", dbname, exc_info=True)
