"""The private write path of guarded fields (states, approvals, overrides).

Guarded methods write those fields inside ``with guarded_write():``; the models' ``create``
and ``write`` refuse them otherwise, for every user and the superuser alike. A context key
would not do: JSON-RPC clients choose the context they send. A context variable lives in
the server's own call stack, where no client reaches. Plain Python, no ORM.
"""

import contextlib
import contextvars

_PRIVATE_PATH = contextvars.ContextVar("contract_procurement_guarded_write", default=False)


@contextlib.contextmanager
def guarded_write():
    """Open the private path for the duration of the block (this thread/task only)."""
    token = _PRIVATE_PATH.set(True)
    try:
        yield
    finally:
        _PRIVATE_PATH.reset(token)


def on_private_path():
    """Whether the caller runs inside a guarded method's ``guarded_write`` block."""
    return _PRIVATE_PATH.get()


_CLEARED = contextvars.ContextVar("contract_procurement_cleared", default=frozenset())


@contextlib.contextmanager
def cleared(records):
    """Let ``records`` (only these) make the transition their checks just cleared.

    A guarded method runs its checks, then calls Odoo's own flow (e.g. purchase's
    ``button_approve``) inside this block: the flow's plain ``write`` of the state is
    accepted for these records and refused for any other.
    """
    token = _CLEARED.set(_CLEARED.get() | {(records._name, rid) for rid in records.ids})
    try:
        yield
    finally:
        _CLEARED.reset(token)


def is_cleared(record):
    """Whether ``record`` runs inside a :func:`cleared` block of its checks."""
    return (record._name, record.id) in _CLEARED.get()


def refused_fields(guarded, vals, defaults=None):
    """The guarded fields among ``vals`` that must be refused here (sorted names).

    ``defaults`` maps a field to the value a plain create may carry (the field's own
    default, as the web client sends it): anything else is refused.
    """
    if _PRIVATE_PATH.get():
        return []
    defaults = defaults or {}
    return sorted(
        name
        for name in guarded
        if name in vals and (name not in defaults or vals[name] != defaults[name])
    )
