"""Routine lock conflicts of the job runner are logged at INFO, not as errors.

The database layer logs every failed query at ERROR ("bad query", with the
query's values). A job that meets a concurrent update fails to serialise, is
rolled back to its savepoint and retried within seconds: that is routine, not
an error for an operator to chase, and the query's values may hold partner
data. Inside :func:`routine_concurrency`, such a record is rewritten to a short
INFO line naming the PostgreSQL error only. Every other record passes
unchanged, and so does a lock conflict outside the block. Plain Python.
"""

import contextlib
import logging
import re
import threading

import psycopg2
from psycopg2 import errorcodes

CONCURRENCY_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)
# the logger of odoo/sql_db.py, which logs failed queries
SQL_LOGGER = "odoo.sql_db"
ROUTINE_MESSAGE = "routine lock conflict (%s); the job is rolled back and retried"

_state = threading.local()


def is_routine(record):
    """Whether ``record`` reports a lock conflict inside a routine block of this thread."""
    if not getattr(_state, "depth", 0) or record.levelno < logging.ERROR:
        return False
    args = record.args if isinstance(record.args, tuple) else ()
    return any(isinstance(arg, CONCURRENCY_ERRORS) for arg in args)


def error_name(error):
    """The PostgreSQL name of a psycopg2 error (``serialization_failure``)."""
    code = getattr(error, "pgcode", None)
    name = errorcodes.lookup(code) if code else None
    # an error built in Python carries no pgcode: its class is named after it
    return (name or re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__)).lower()


class RoutineConcurrencyFilter(logging.Filter):
    """Demote a routine lock conflict's record to a short INFO line."""

    def filter(self, record):
        if is_routine(record):
            error = next(arg for arg in record.args if isinstance(arg, CONCURRENCY_ERRORS))
            record.levelno = logging.INFO
            record.levelname = logging.getLevelName(logging.INFO)
            record.msg = ROUTINE_MESSAGE
            record.args = (error_name(error),)
        return True


_FILTER = RoutineConcurrencyFilter()


def install(logger_name=SQL_LOGGER):
    """Put the filter on ``logger_name`` once and return it.

    A logger's filters see the records logged on it, not its children's.
    """
    logger = logging.getLogger(logger_name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return _FILTER


@contextlib.contextmanager
def routine_concurrency():
    """Within the block, this thread's lock conflicts are routine (logged at INFO)."""
    install()
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1
