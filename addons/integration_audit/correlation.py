"""Correlation IDs: parse them from HTTP headers, make new ones, carry them.

A correlation ID ties together everything one unit of work causes: the inbound
request, the jobs it queues, the records they change and the outbound calls
they make. It travels in the environment context under ``correlation_id``.

The public API other addons use::

    from odoo.addons.integration_audit.correlation import (
        get_correlation_id, with_correlation_id, outbound_headers,
    )

    cid = get_correlation_id(env)             # current ID (never empty)
    records = with_correlation_id(records, cid)
    requests.post(url, headers=outbound_headers(env), timeout=10)
"""

import re
import uuid

CONTEXT_KEY = "correlation_id"
HEADER = "X-Correlation-ID"
MAX_LENGTH = 128

_VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,%d}$" % (MAX_LENGTH - 1))
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


class ServerCorrelationId(str):
    """A correlation ID put in the context by server code (:func:`with_correlation_id`).

    JSON-RPC can only send plain strings: inside an HTTP request a context value
    of any other type was set by the server, a plain one possibly by the client.
    """

    __slots__ = ()


def new_correlation_id():
    """Return a fresh correlation ID: 32 lowercase hex digits, W3C trace-id shaped."""
    return uuid.uuid4().hex


def clean_correlation_id(value):
    """Return ``value`` stripped if it is an acceptable correlation ID, else None.

    Only a conservative character set is accepted so that an ID can be echoed in
    headers, logged and searched without escaping.
    """
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    return value if _VALID_ID.match(value) else None


def trace_id_from_traceparent(value):
    """Return the trace-id of a W3C ``traceparent`` header, or None if invalid."""
    if not value or not isinstance(value, str):
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if not match:
        return None
    version, trace_id, parent_id, _flags = match.groups()
    if version == "ff" or set(trace_id) == {"0"} or set(parent_id) == {"0"}:
        return None
    return trace_id


def correlation_id_from_headers(headers):
    """Pick the correlation ID of an inbound request.

    ``X-Correlation-ID`` wins, then the trace-id of ``traceparent``; None when
    neither carries a valid value (the caller then makes a new one).
    """
    return clean_correlation_id(headers.get(HEADER)) or trace_id_from_traceparent(
        headers.get("traceparent")
    )


def get_correlation_id(env):
    """Return the correlation ID of the current unit of work.

    Looked up in the context, then on the current HTTP request; failing both, one
    ID is made for the transaction and kept on the cursor so that every event of
    that transaction shares it. Inside an HTTP request the request's own ID wins
    over a context value unless server code set that value (:func:`with_correlation_id`):
    over JSON-RPC the client chooses the context, and could file its events under
    another's trace.
    """
    value = env.context.get(CONTEXT_KEY)
    request = _current_request()
    request_cid = getattr(request, "correlation_id", None) if request is not None else None
    if request_cid and not isinstance(value, ServerCorrelationId):
        return request_cid
    # only a well-formed ID (no newlines, at most MAX_LENGTH characters) may reach
    # logs, events and headers
    cid = clean_correlation_id(value)
    if cid:
        return cid
    if request_cid:
        return request_cid
    cache = getattr(env.cr, "cache", None)
    if cache is None:
        return new_correlation_id()
    return cache.setdefault(CONTEXT_KEY, new_correlation_id())


def with_correlation_id(records, correlation_id=None):
    """Return ``records`` with ``correlation_id`` (or the current one) in context.

    The one way for server code to set the correlation ID inside an HTTP request.
    """
    cid = correlation_id or get_correlation_id(records.env)
    return records.with_context(**{CONTEXT_KEY: ServerCorrelationId(cid)})


def outbound_headers(env, correlation_id=None):
    """Headers that carry the correlation ID on an outbound HTTP call."""
    cid = correlation_id or get_correlation_id(env)
    headers = {HEADER: cid}
    if re.fullmatch(r"[0-9a-f]{32}", cid) and set(cid) != {"0"}:
        headers["traceparent"] = f"00-{cid}-{uuid.uuid4().hex[:16]}-01"
    return headers


def in_http_request():
    """True while this thread serves an HTTP request (whose context a client chose)."""
    return _current_request() is not None


def _current_request():
    from odoo.http import request  # noqa: PLC0415 - odoo.http is heavy, import lazily

    try:
        return request._get_current_object() if request else None
    except RuntimeError:
        return None
