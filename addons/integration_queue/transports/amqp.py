"""Publish outbound events to RabbitMQ (AMQP 0-9-1) with pika's BlockingConnection.

Each event goes to a durable topic exchange (declared on connect) as a persistent
message with routing key ``<event type>.<facility or company>``, its stable
message id and its correlation id; publisher confirms make :func:`publish` return
only once the broker has taken each message. One connection per process, thread
and configuration is kept and reused (checked before use), so the jobs of a lane
batch publish over one connection. Plain Python; pika is imported lazily.
"""

import logging
import os
import ssl
import threading
import time
from dataclasses import dataclass

from . import BrokerRefused, BrokerUnavailable, Result, load_library, token

_logger = logging.getLogger(__name__)

# a cached connection idle longer than this is replaced: the broker may have dropped
# it on missed heartbeats (a blocking connection only answers them when used)
IDLE_SECONDS = 30
HEARTBEAT_SECONDS = 60
# reply codes of a broker's refusal that a retry does not mend: access refused,
# not found (vhost, exchange), precondition failed (exchange of another type), not allowed
REFUSED_CODES = (403, 404, 406, 530)

_local = threading.local()

# pika logs each failed connection attempt at ERROR, several lines each: a broker
# outage would flood the server log, while the job already records the failure once
if logging.getLogger("pika").level == logging.NOTSET:
    logging.getLogger("pika").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class Config:
    """A partner's RabbitMQ channel."""

    endpoint: object  # transports.Endpoint
    exchange: str
    username: str = ""
    password: str = ""
    timeout: float = 10.0

    @property
    def virtual_host(self):
        vhost = (self.endpoint.path or "")[1:]
        return vhost or "/"


def routing_key(event_type, facility):
    """``<event type>.<facility>``: consumers bind with ``inventory.availability.#``."""
    return f"{event_type}.{token(facility)}"


def publish(config, messages):
    """Publish ``messages`` in order with publisher confirms; return one Result each.

    The first message that fails stops the batch (the rest are not sent), so a
    retry keeps their order.
    """
    pika = load_library("pika", "amqp")
    results = [Result() for _message in messages]
    if not messages:
        return results
    try:
        channel, fresh = _channel(pika, config)
    except (BrokerRefused, BrokerUnavailable) as error:
        results[0].error = error
        return results
    for index, message in enumerate(messages):
        try:
            _publish_one(pika, channel, config, message)
        except _stale_errors(pika) as error:
            if fresh:
                results[index].error = _classify(pika, error)
                _drop(config)
                break
            # the cached connection died since its last use: one new connection,
            # and the message again (consumers de-duplicate on its id)
            _drop(config)
            try:
                channel, fresh = _channel(pika, config)
                _publish_one(pika, channel, config, message)
            except (BrokerRefused, BrokerUnavailable) as retry_error:
                results[index].error = retry_error
                break
            except pika.exceptions.AMQPError as retry_error:
                results[index].error = _classify(pika, retry_error)
                _drop(config)
                break
        except (pika.exceptions.AMQPError, OSError) as error:
            results[index].error = _classify(pika, error)
            _drop(config)
            break
        results[index].sent = True
    return results


def close_all():
    """Close this thread's cached connections (tests, shutdown)."""
    for entry in list(_cache().values()):
        _close(entry)
    _cache().clear()


def _publish_one(pika, channel, config, message):
    headers = dict(message.headers)
    headers.update(
        {
            "X-Correlation-ID": message.correlation_id or "",
            "event-type": message.event_type,
        }
    )
    properties = pika.BasicProperties(
        content_type=message.content_type,
        delivery_mode=2,  # persistent: survives a broker restart in a durable queue
        message_id=message.message_id,
        correlation_id=message.correlation_id or None,
        type=message.event_type,
        app_id="odoo.integration_queue",
        timestamp=int(time.time()),
        headers=headers,
    )
    # not mandatory: who receives is decided by the partner's bindings; an
    # alternate exchange on the broker keeps what no queue takes (see readme)
    channel.basic_publish(
        exchange=config.exchange,
        routing_key=routing_key(message.event_type, message.facility),
        body=message.body,
        properties=properties,
    )


def _stale_errors(pika):
    """Errors of a reused connection that a new connection may mend: it died meanwhile,
    or the broker closed its channel (e.g. the exchange was deleted: a new connection
    declares it again)."""
    exc = pika.exceptions
    return (
        exc.StreamLostError,
        exc.ConnectionWrongStateError,
        exc.ChannelWrongStateError,
        exc.AMQPHeartbeatTimeout,
        exc.ConnectionClosed,
        exc.ChannelClosed,
    )


def _classify(pika, error):
    """A pika or socket error as BrokerRefused (no retry helps) or BrokerUnavailable."""
    exc = pika.exceptions
    if isinstance(error, (BrokerRefused, BrokerUnavailable)):
        return error
    reason = f"{type(error).__name__}: {error}".rstrip(": ")
    if isinstance(
        error,
        (exc.ProbableAuthenticationError, exc.ProbableAccessDeniedError, exc.AuthenticationError),
    ):
        return BrokerRefused(reason)
    code = getattr(error, "reply_code", None)
    if isinstance(error, (exc.ChannelClosedByBroker, exc.ConnectionClosedByBroker)) and (
        code in REFUSED_CODES
    ):
        return BrokerRefused(reason)
    if isinstance(error, exc.NackError):
        return BrokerUnavailable(f"the broker did not take the message (nack): {error}")
    return BrokerUnavailable(reason)


def _cache():
    # per process (a forked worker must not share its parent's socket) and per thread
    # (a blocking connection is not thread-safe)
    if getattr(_local, "pid", None) != os.getpid():
        _local.pid = os.getpid()
        _local.entries = {}
    return _local.entries


def _key(config):
    return (config.endpoint, config.virtual_host, config.username, config.password,
            config.exchange)  # fmt: skip


def _drop(config):
    entry = _cache().pop(_key(config), None)
    if entry:
        _close(entry)


def _close(entry):
    try:
        if entry["connection"].is_open:
            entry["connection"].close()
    except Exception:
        _logger.debug("closing a broker connection failed", exc_info=True)


def _channel(pika, config):
    """A confirming channel with the exchange declared; (channel, newly opened)."""
    entry = _cache().get(_key(config))
    if entry and _healthy(entry):
        entry["used"] = time.monotonic()
        return entry["channel"], False
    if entry:
        _drop(config)
    try:
        connection = pika.BlockingConnection(_parameters(pika, config))
    except (pika.exceptions.AMQPError, OSError) as error:
        error = _classify(pika, error)
        raise type(error)(
            f"cannot connect to {config.endpoint.host}:{config.endpoint.port}: {error}"
        ) from None
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.exchange_declare(exchange=config.exchange, exchange_type="topic", durable=True)
    except (pika.exceptions.AMQPError, OSError) as error:
        _close({"connection": connection})
        raise _classify(pika, error) from None
    _cache()[_key(config)] = {
        "connection": connection,
        "channel": channel,
        "used": time.monotonic(),
    }
    return channel, True


def _healthy(entry):
    if time.monotonic() - entry["used"] > IDLE_SECONDS:
        return False
    connection, channel = entry["connection"], entry["channel"]
    if not (connection.is_open and channel.is_open):
        return False
    try:
        # reads what the broker sent meanwhile (a close, heartbeats) without waiting
        connection.process_data_events(time_limit=0)
    except Exception:
        return False
    return connection.is_open and channel.is_open


def _parameters(pika, config):
    endpoint = config.endpoint
    ssl_options = None
    if endpoint.tls:
        ssl_options = pika.SSLOptions(ssl.create_default_context(), server_hostname=endpoint.host)
    credentials = (
        pika.PlainCredentials(config.username, config.password)
        if config.username
        else pika.ConnectionParameters.DEFAULT_CREDENTIALS
    )
    return pika.ConnectionParameters(
        host=endpoint.address,
        port=endpoint.port,
        virtual_host=config.virtual_host,
        credentials=credentials,
        ssl_options=ssl_options,
        connection_attempts=1,
        socket_timeout=config.timeout,
        stack_timeout=config.timeout,
        blocked_connection_timeout=config.timeout,
        heartbeat=HEARTBEAT_SECONDS,
        client_properties={"connection_name": "odoo integration_queue"},
    )
