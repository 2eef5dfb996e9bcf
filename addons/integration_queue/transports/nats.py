"""Publish outbound events to NATS JetStream with nats-py.

Each event goes to subject ``<prefix>.<event type>`` with header ``Nats-Msg-Id`` set
to its stable message id, so JetStream drops a re-sent copy within the stream's
duplicate window; :func:`publish` waits for each publish acknowledgement. nats-py
is asyncio: one event loop runs in a daemon thread per process, and its
connections (one per configuration) are reused by the jobs that follow. Plain
Python; nats-py is imported lazily.
"""

import asyncio
import logging
import os
import ssl
import threading
from dataclasses import dataclass

from . import BrokerRefused, BrokerUnavailable, Result, load_library, token

_logger = logging.getLogger(__name__)

_lock = threading.Lock()
_state = {"pid": None, "loop": None, "connections": {}}


@dataclass(frozen=True)
class Config:
    """A partner's NATS JetStream channel."""

    endpoint: object  # transports.Endpoint
    subject_prefix: str
    stream: str = ""  # when set, JetStream refuses a subject captured by another stream
    username: str = ""
    password: str = ""  # with no user name: a token
    timeout: float = 10.0


def subject(prefix, event_type):
    """``<prefix>.<event type>``, each word of the event type made subject-safe."""
    words = [token(word) for word in (event_type or "").split(".")]
    return ".".join([prefix, *words])


def publish(config, messages):
    """Publish ``messages`` in order, each acknowledged by JetStream; one Result each.

    The first message that fails stops the batch (the rest are not sent).
    """
    load_library("nats", "nats")
    results = [Result() for _message in messages]
    if not messages:
        return results
    loop = _loop()
    future = asyncio.run_coroutine_threadsafe(_publish(config, messages, results), loop)
    try:
        # the coroutine bounds each step by config.timeout; this bounds the whole batch
        future.result(timeout=config.timeout * (len(messages) + 2))
    except TimeoutError:
        future.cancel()
        for result in results:
            if not result.sent and result.error is None:
                result.error = BrokerUnavailable("no acknowledgement from JetStream in time")
                break
    return results


def close_all():
    """Close this process's connections (tests, shutdown)."""
    with _lock:
        loop = _state["loop"]
        connections = list(_state["connections"].values())
        _state["connections"] = {}
    if loop is None or _state["pid"] != os.getpid():
        return
    for connection in connections:
        future = asyncio.run_coroutine_threadsafe(_close(connection), loop)
        try:
            future.result(timeout=5)
        except Exception:
            _logger.debug("closing a NATS connection failed", exc_info=True)


async def _close(connection):
    if not connection.is_closed:
        await connection.close()


async def _publish(config, messages, results):
    nats = load_library("nats", "nats")
    errors = nats.errors
    js_errors = nats.js.errors
    try:
        connection = await _connection(nats, config)
    except (BrokerRefused, BrokerUnavailable) as error:
        results[0].error = error
        return
    jetstream = connection.jetstream(timeout=config.timeout)
    for index, message in enumerate(messages):
        headers = dict(message.headers)
        headers.update(
            {
                "Nats-Msg-Id": message.message_id,
                "X-Correlation-ID": message.correlation_id or "",
                "Event-Type": message.event_type,
                "Content-Type": message.content_type,
            }
        )
        try:
            ack = await jetstream.publish(
                subject(config.subject_prefix, message.event_type),
                message.body,
                timeout=config.timeout,
                stream=config.stream or None,
                headers=headers,
            )
        except js_errors.APIError as error:
            # e.g. 10060 "expected stream does not match": the subject is another's
            results[index].error = BrokerRefused(f"JetStream refused the message: {error}")
            return
        except js_errors.NoStreamResponseError:
            results[index].error = BrokerUnavailable(
                "no JetStream stream answered for this subject (none captures it, or"
                " JetStream is unavailable)"
            )
            return
        except (errors.Error, OSError, TimeoutError, asyncio.TimeoutError) as error:
            results[index].error = BrokerUnavailable(f"{type(error).__name__}: {error}")
            await _forget(config)
            return
        results[index].sent = True
        results[index].duplicate = bool(ack.duplicate)


async def _forget(config):
    connection = _state["connections"].pop(_key(config), None)
    if connection is not None:
        try:
            await connection.close()
        except Exception:
            _logger.debug("closing a NATS connection failed", exc_info=True)


def _key(config):
    return (config.endpoint, config.username, config.password)


async def _connection(nats, config):
    connection = _state["connections"].get(_key(config))
    if connection is not None and connection.is_connected:
        return connection
    if connection is not None:
        await _forget(config)
    endpoint = config.endpoint
    options = {
        "servers": [f"{endpoint.scheme}://{_host(endpoint.address)}:{endpoint.port}"],
        "connect_timeout": max(1, int(config.timeout)),
        # a broken connection fails the job, which is retried with backoff: no
        # reconnect loop of the client's own holding the job meanwhile (0 attempts
        # would mean "retry the first connect forever" to nats-py: 1 is the least)
        "allow_reconnect": False,
        "max_reconnect_attempts": 1,
        "reconnect_time_wait": 0.2,
        "name": "odoo integration_queue",
        "error_cb": _log_error,
    }
    if endpoint.tls:
        options.update(tls=ssl.create_default_context(), tls_hostname=endpoint.host)
    if config.username:
        options.update(user=config.username, password=config.password)
    elif config.password:
        options["token"] = config.password
    try:
        connection = await asyncio.wait_for(nats.connect(**options), config.timeout)
    except (nats.errors.Error, OSError, TimeoutError, asyncio.TimeoutError) as error:
        reason = f"cannot connect to {endpoint.host}:{endpoint.port}: {type(error).__name__}"
        text = str(error)
        if "authorization" in text.lower() or "permissions" in text.lower():
            raise BrokerRefused(f"{reason}: {text}") from None
        raise BrokerUnavailable(f"{reason}: {text}".rstrip(": ")) from None
    _state["connections"][_key(config)] = connection
    return connection


async def _log_error(error):
    _logger.info("NATS client error: %s", type(error).__name__)


def _host(address):
    return f"[{address}]" if ":" in address else address


def _loop():
    """This process's event loop, running in a daemon thread (started on first use)."""
    with _lock:
        if _state["pid"] != os.getpid() or _state["loop"] is None:
            # a forked worker inherits the dict, not the thread: start its own loop
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="integration_queue.nats", daemon=True
            )
            thread.start()
            _state.update(pid=os.getpid(), loop=loop, connections={})
        return _state["loop"]
