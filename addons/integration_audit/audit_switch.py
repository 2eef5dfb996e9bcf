"""Suspend record auditing for a block of server code, never from a client.

Clients choose the environment context of their calls (JSON-RPC sends any
``context`` it likes), so no context key may switch auditing off. Server code
that truly must not log record changes wraps itself in :func:`audit_suspended`;
the flag lives in a context variable of the running thread, out of any client's
reach, and is reset when the block ends, even on error::

    from odoo.addons.integration_audit.audit_switch import audit_suspended

    with audit_suspended():
        records.write(vals)  # no record_changed event

The audit configuration itself (audit rules, legal holds) is audited even then.
"""

import contextlib
import contextvars

_SUSPENDED = contextvars.ContextVar("integration_audit_suspended", default=False)


@contextlib.contextmanager
def audit_suspended():
    """Within the block, audit rules log no record events in this thread."""
    token = _SUSPENDED.set(True)
    try:
        yield
    finally:
        _SUSPENDED.reset(token)


def is_audit_suspended():
    """True inside an :func:`audit_suspended` block of the current thread."""
    return _SUSPENDED.get()
