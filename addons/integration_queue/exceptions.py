"""Exceptions a message handler or job raises to steer the queue. Plain Python."""


class BusinessError(Exception):
    """A business rule failed (unknown item, inactive contract, ...): no retry.

    The message goes to *exception* and an activity is scheduled for the group
    that owns this kind of exception (``group_xmlid``, else the message type's).
    ``field`` names the payload field at fault, where there is one.
    """

    def __init__(self, message, field=None, group_xmlid=None, details=None):
        super().__init__(message)
        self.field = field
        self.group_xmlid = group_xmlid
        self.details = details or {}


class RetryableError(Exception):
    """A technical failure worth retrying (timeout, partner unreachable, lock)."""


class DeferJob(Exception):
    """Not now: run again at ``until`` without counting an attempt."""

    def __init__(self, until, reason=""):
        super().__init__(reason)
        self.until = until
