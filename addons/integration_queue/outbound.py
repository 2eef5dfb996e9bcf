"""Outbound HTTP that cannot be pointed inside the network.

A partner's endpoint is data a manager types in: it could name the metadata
service, the database host or Odoo itself. :func:`post` therefore

- accepts ``https`` only (``http`` only when the caller allows it, for tests),
- never follows a redirect and never uses an environment proxy,
- verifies TLS certificates,
- checks the address of the socket it actually connected to (after DNS, so
  a name that resolves differently at connect time gains nothing) against
  loopback, private, link-local, CGNAT, multicast, reserved and metadata
  ranges, unless an allow-list names the host or a network holding it.

Plain Python on top of ``requests``/``urllib3``.
"""

import ipaddress
from urllib.parse import urlsplit

import requests
from markupsafe import escape
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# ranges not covered by ``not ip.is_global`` on every Python version we support
BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "100.64.0.0/10",  # CGNAT
        "169.254.169.254/32",  # cloud metadata
        "fd00:ec2::254/128",  # cloud metadata (IPv6)
        "224.0.0.0/4",
        "ff00::/8",
    )
)


# how much of a partner's answer is read at most (its status and an excerpt are kept)
MAX_ANSWER_BYTES = 64 * 1024


class BlockedDestination(ValueError):
    """The endpoint is not an address outbound delivery may reach.

    Not an ``OSError``: urllib3 and requests let it through unwrapped (and
    unretried), so the caller tells it from a network failure.
    """


class Policy:
    """Where outbound requests may go: the allow-list of hosts and networks."""

    def __init__(self, allowed=(), allow_http=False):
        self.allow_http = allow_http
        self.hosts = set()
        self.networks = []
        for entry in allowed:
            entry = entry.strip()
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry.lower().rstrip("."))

    @classmethod
    def from_text(cls, text, allow_http=False):
        """A policy from a comma- or space-separated list of CIDRs and host names."""
        return cls((text or "").replace(",", " ").split(), allow_http=allow_http)

    def check_url(self, url):
        """Refuse a URL whose scheme or shape outbound delivery does not use."""
        parts = urlsplit(url or "")
        allowed_schemes = ("https", "http") if self.allow_http else ("https",)
        if parts.scheme.lower() not in allowed_schemes:
            raise BlockedDestination(f"scheme {parts.scheme or '(none)'!r} is not allowed")
        if not parts.hostname or parts.username or parts.password:
            raise BlockedDestination("the endpoint must name a host and carry no credentials")
        return parts

    def check_address(self, host, address):
        """Refuse a connected peer ``address`` unless it is public or allowed."""
        if (host or "").lower().rstrip(".") in self.hosts:
            return
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if getattr(ip, "ipv4_mapped", None):
            ip = ip.ipv4_mapped
        if any(ip in network for network in self.networks):
            return
        if not ip.is_global or any(ip in network for network in BLOCKED_NETWORKS):
            raise BlockedDestination(f"{host} resolves to {ip}, which is not a public address")


def _checked(connection_class, policy):
    class CheckedConnection(connection_class):
        def _new_conn(self):
            sock = super()._new_conn()
            try:
                peer = sock.getpeername()[0]
                policy.check_address(self.host, peer)
            except BlockedDestination:
                sock.close()
                raise
            except (OSError, ValueError):
                sock.close()
                raise BlockedDestination(f"cannot check the address of {self.host}") from None
            return sock

    return CheckedConnection


class CheckedAdapter(HTTPAdapter):
    """A requests adapter whose connections refuse peers outside the policy."""

    def __init__(self, policy, **kwargs):
        self.policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):  # pylint: disable=missing-return
        super().init_poolmanager(*args, **kwargs)
        policy = self.policy

        class CheckedHTTPPool(HTTPConnectionPool):
            ConnectionCls = _checked(HTTPConnection, policy)

        class CheckedHTTPSPool(HTTPSConnectionPool):
            ConnectionCls = _checked(HTTPSConnection, policy)

        self.poolmanager.pool_classes_by_scheme = {
            "http": CheckedHTTPPool,
            "https": CheckedHTTPSPool,
        }


def post(url, body, headers, timeout, policy):
    """POST ``body`` to ``url`` within ``policy``; return the response (never redirected)."""
    policy.check_url(url)
    with requests.Session() as session:
        session.trust_env = False  # no proxy: the peer checked must be the partner
        adapter = CheckedAdapter(policy, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        response = session.post(
            url,
            data=body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            verify=True,
            stream=True,
        )
        # only an excerpt of the answer is kept: a partner answering with gigabytes
        # must not fill the worker's memory (without stream=True requests reads it all)
        content = b""
        for chunk in response.iter_content(chunk_size=16 * 1024):
            content += chunk
            if len(content) >= MAX_ANSWER_BYTES:
                break
        response._content = content[:MAX_ANSWER_BYTES]
        response.close()
        return response


def excerpt(text, length=200):
    """A short, escaped excerpt of a partner's answer, safe to store and show."""
    cleaned = "".join(char if char.isprintable() else " " for char in (text or "")[: length * 2])
    return str(escape(" ".join(cleaned.split())[:length]))
