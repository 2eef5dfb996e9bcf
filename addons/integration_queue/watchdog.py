"""A Python watchdog for one job attempt: ``JobTimeout`` is raised in the thread
that runs the job once its time limit has passed. Plain Python.

Odoo runs a prefork cron worker's jobs in a thread of their own (the process's
main thread waits for signals), and a threaded server's crons in threads too,
so a signal (SIGALRM) cannot reach the job. A timer thread instead asks the
interpreter to raise ``JobTimeout`` in the job's thread
(``PyThreadState_SetAsyncExc``): the exception is raised at the job's next
Python instruction. Code blocked inside one C call (a socket without timeout)
is not interrupted: PostgreSQL's ``statement_timeout`` stops SQL, and Odoo's
``limit_time_real_cron`` ends the worker as the last resort (the attempt is
counted, see ``integration.job._start_attempt``).
"""

import ctypes
import threading
from contextlib import contextmanager


class JobTimeout(BaseException):
    """The attempt ran longer than its time limit.

    A ``BaseException``, like ``KeyboardInterrupt``: a handler's broad
    ``except Exception`` must not swallow the watchdog.
    """

    def __str__(self):
        return super().__str__() or "the attempt ran longer than its time limit"


def _set_async_exc(ident, exc):
    return ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(ident), ctypes.py_object(exc) if exc is not None else None
    )


@contextmanager
def time_limit(seconds):
    """Raise ``JobTimeout`` in the body if it runs longer than ``seconds``."""
    if not seconds or seconds <= 0:
        yield False
        return
    ident = threading.get_ident()
    lock = threading.Lock()
    state = {"active": True, "fired": False}

    def expire():
        with lock:
            if state["active"]:
                state["fired"] = True
                _set_async_exc(ident, JobTimeout)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield True
    finally:
        with lock:
            state["active"] = False
            timer.cancel()
            if state["fired"]:
                # fired as the body ended: never let it surface after the block
                _set_async_exc(ident, None)
