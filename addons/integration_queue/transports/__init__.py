"""Outbound channels besides the HTTP webhook: RabbitMQ (AMQP 0-9-1) and NATS JetStream.

Each transport is a plain module with one entry point,
``publish(config, messages) -> [Result, ...]`` (one result per message, in
order; the first failure stops the batch so that order per ordering key holds).
The client libraries are optional: they are imported when a partner's channel
first needs them, and a missing one is a :class:`MissingLibrary` naming the pin
to install. No ORM here.
"""

import importlib
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from ..outbound import BlockedDestination

# the channel code of a partner, its label and the pinned client library
CHANNELS = {
    "amqp": ("RabbitMQ", "pika", "pika==1.4.4"),
    "nats": ("NATS JetStream", "nats", "nats-py==2.16.0"),
}
# URL schemes of a channel; the first of each pair encrypts the connection
SCHEMES = {"amqp": ("amqps", "amqp"), "nats": ("tls", "nats")}
DEFAULT_PORTS = {"amqps": 5671, "amqp": 5672, "tls": 4222, "nats": 4222}
# the words of an AMQP routing key or a NATS subject: no separators, wildcards or spaces
_TOKEN_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]+")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_\-.:]{1,200}$")
STREAM_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")
SUBJECT_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")


class MissingLibrary(RuntimeError):
    """The channel's client library is not installed."""


class BrokerUnavailable(Exception):
    """The broker could not be reached or did not confirm in time: retry later."""


class BrokerRefused(Exception):
    """The broker refused the connection or the message for a reason a retry does not mend
    (credentials, permissions, an exchange declared with another type...)."""


@dataclass(frozen=True)
class Endpoint:
    """Where a broker is, once its URL is parsed and its address checked."""

    scheme: str
    host: str  # the name in the URL (TLS verifies it)
    address: str  # the checked IP address connected to
    port: int
    path: str = ""

    @property
    def tls(self):
        return self.scheme in ("amqps", "tls")


@dataclass(frozen=True)
class Message:
    """One outbound event as a transport sends it."""

    message_id: str  # stable across retries: consumers de-duplicate on it
    event_type: str
    body: bytes
    correlation_id: str = ""
    content_type: str = "application/json"
    facility: str = ""  # the facility the event is about, or the company's name
    headers: dict = field(default_factory=dict)


@dataclass
class Result:
    """What became of one message: ``sent``, or the error that stopped it."""

    sent: bool = False
    duplicate: bool = False
    error: Exception = None


def load_library(module_name, channel):
    """Import the client library of ``channel``, or raise :class:`MissingLibrary`."""
    label, _module, pin = CHANNELS[channel]
    try:
        return importlib.import_module(module_name)
    except ImportError:
        raise MissingLibrary(f"install {pin} to deliver to {label} (pip install {pin})") from None


def library_missing(channel):
    """The message of :class:`MissingLibrary` if ``channel``'s library is absent, else ''."""
    if channel not in CHANNELS:
        return ""
    try:
        load_library(CHANNELS[channel][1], channel)
    except MissingLibrary as error:
        return str(error)
    return ""


def get_transport(channel):
    """The transport module of ``channel`` (``amqp``, ``nats``); None for the HTTP webhook."""
    if channel not in CHANNELS:
        return None
    return importlib.import_module(f"{__name__}.{channel}")


def token(text):
    """``text`` as one word of a routing key or subject (dots and wildcards replaced)."""
    return _TOKEN_UNSAFE.sub("_", (text or "").strip()).strip("_") or "_"


def parse_url(channel, url, allow_insecure=False):
    """Check the shape of a broker URL; return its parts (scheme, host, port, path).

    The URL carries no credentials: they are stored encrypted apart, and the URL is
    shown and audited. Plain ``amqp://``/``nats://`` only where insecure transport is
    allowed (as plain ``http`` is).
    """
    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    secure, plain = SCHEMES[channel]
    allowed = (secure, plain) if allow_insecure else (secure,)
    if scheme not in allowed:
        raise BlockedDestination(
            f"scheme {scheme or '(none)'!r} is not allowed for this channel"
            f" (use {' or '.join(s + '://' for s in allowed)})"
        )
    if not parts.hostname:
        raise BlockedDestination("the broker URL must name a host")
    if parts.username or parts.password:
        raise BlockedDestination(
            "the broker URL must carry no credentials: enter them in the partner's"
            " broker user and password"
        )
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise BlockedDestination("the broker URL's port is not a number") from None
    return scheme, parts.hostname, port, unquote(parts.path or "")


def resolve(channel, url, policy):
    """Parse ``url`` and resolve its host to an address ``policy`` allows.

    The transport connects to the checked address (the name is kept for TLS), so a
    name that resolves elsewhere at connect time gains nothing.
    """
    scheme, host, port, path = parse_url(channel, url, allow_insecure=policy.allow_http)
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise BrokerUnavailable(f"cannot resolve {host}: {error}") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        policy.check_address(host, address)
    return Endpoint(scheme=scheme, host=host, address=addresses[0], port=port, path=path)
