"""What the job queue may run: an allow-list declared in code, never in data.

Two decorators mark model methods:

- ``@message_handler("inventory.snapshot")``: THE handler of that inbound message
  type, called as ``handler(message, payload)`` on the model;
- ``@job_target``: a method a job may run outside message handling, called as
  ``records.method(**kwargs)``.

:func:`routes` scans the registry's model classes once per registry (after it is
loaded) and returns a :class:`Routes`: the handler of each message type code and
the set of ``(model, method)`` job targets. Nothing a user writes in the
database can add to it. Two methods declaring the same message type code stop
the registry from loading. Plain Python; ``write_guard`` opens the runner's
private path to the routing fields of jobs and messages.
"""

import contextlib
import contextvars
from collections import namedtuple

HANDLER_ATTR = "_integration_message_handler"
TARGET_ATTR = "_integration_job_target"
POOL_ATTR = "_integration_queue_routes"

Handler = namedtuple("Handler", "model method")

# classes (by module and qualified name) that declare at least one decorated method
_DECLARING_CLASSES = set()
_GUARD = contextvars.ContextVar("integration_queue_write_guard", default=False)


class RegistryError(Exception):
    """A message type declared twice, or another declaration that cannot stand."""


def _remember_class(func):
    owner = func.__qualname__.rpartition(".")[0]
    if owner:
        _DECLARING_CLASSES.add((func.__module__, owner))


def message_handler(code):
    """Declare the decorated model method as the handler of inbound ``code``."""
    if not code or not isinstance(code, str):
        raise RegistryError("message_handler needs a message type code")

    def decorate(func):
        setattr(func, HANDLER_ATTR, code)
        _remember_class(func)
        return func

    return decorate


def job_target(func):
    """Declare the decorated model method as one a job may run."""
    setattr(func, TARGET_ATTR, True)
    _remember_class(func)
    return func


class Routes:
    """The handler of each message type code and the allowed job targets."""

    def __init__(self, handlers, targets):
        self.handlers = dict(handlers)
        self.targets = frozenset(targets)

    def handler(self, code):
        """The :class:`Handler` of message type ``code``, or None."""
        return self.handlers.get(code)

    def is_target(self, model, method):
        """Whether ``model.method`` may be run by a job."""
        return (model, method) in self.targets


def scan(pool):
    """Build the :class:`Routes` of a registry from its model classes.

    Raise :class:`RegistryError` when two methods claim one message type code.
    """
    handlers = {}
    targets = set()
    for model_name in list(pool):
        model_class = pool[model_name]
        seen = set()
        for klass in model_class.__mro__:
            if (klass.__module__, klass.__qualname__) not in _DECLARING_CLASSES:
                continue
            for attr, value in vars(klass).items():
                if attr in seen:
                    continue
                code = getattr(value, HANDLER_ATTR, None)
                if code:
                    seen.add(attr)
                    declared = Handler(model_name, attr)
                    if handlers.setdefault(code, declared) != declared:
                        raise RegistryError(
                            f"message type {code!r} has two handlers: "
                            f"{handlers[code].model}.{handlers[code].method} and "
                            f"{model_name}.{attr}"
                        )
                if getattr(value, TARGET_ATTR, False):
                    seen.add(attr)
                    targets.add((model_name, attr))
    return Routes(handlers, targets)


def routes(pool):
    """The :class:`Routes` of a registry: cached once it is loaded, rebuilt before."""
    cached = getattr(pool, POOL_ATTR, None)
    if cached is not None:
        return cached
    built = scan(pool)
    if pool.ready:
        setattr(pool, POOL_ATTR, built)
    return built


def reset(pool):
    """Rebuild the routes of a registry (after it loaded or changed)."""
    setattr(pool, POOL_ATTR, scan(pool))


@contextlib.contextmanager
def write_guard():
    """Open the routing fields of jobs and messages to the queue's own code.

    A context variable set by Python code: no RPC parameter, context key or
    header can set it.
    """
    token = _GUARD.set(True)
    try:
        yield
    finally:
        _GUARD.reset(token)


def guarded():
    """Whether the caller runs inside :func:`write_guard`."""
    return _GUARD.get()
