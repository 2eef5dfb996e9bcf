"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

A secret is ``whsec_`` followed by base64 key bytes. The signed content is
``"<webhook-id>.<webhook-timestamp>.<raw body>"``; the ``webhook-signature``
header holds one or more space-separated ``v1,<base64 HMAC-SHA256>`` values.
Plain Python, no ORM.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import time

PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


class SignatureError(ValueError):
    """The request is not authentic. The text is for logs, never for the caller."""


def generate_secret(num_bytes=32):
    """A new random secret in ``whsec_<base64>`` form."""
    return PREFIX + base64.b64encode(secrets.token_bytes(num_bytes)).decode("ascii")


def secret_key(secret):
    """The raw key bytes of a ``whsec_`` secret."""
    if not secret or not secret.startswith(PREFIX):
        raise ValueError("a signing secret starts with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("the signing secret is not valid base64") from error
    if len(key) < 16:
        raise ValueError("the signing secret is shorter than 16 bytes")
    return key


def signature(secret, msg_id, timestamp, body):
    """The ``v1,<base64>`` signature of ``body`` (bytes) for id and timestamp."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_headers(secret, msg_id, body, timestamp=None):
    """The three Standard Webhooks headers for an outbound request."""
    timestamp = int(timestamp if timestamp is not None else time.time())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
    }


def verify(
    secrets_, msg_id, timestamp, body, signature_header, now=None, tolerance=TOLERANCE_SECONDS
):
    """Raise :class:`SignatureError` unless one signature matches one secret.

    Every candidate is compared in constant time and all are compared, so the
    time taken does not tell which secret or signature came close.
    """
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        raise SignatureError("timestamp is not an integer") from None
    now = int(now if now is not None else time.time())
    if abs(now - stamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    offered = [
        part.split(",", 1)[1].encode("ascii", "replace")
        for part in (signature_header or "").split()
        if part.startswith("v1,")
    ]
    if not offered:
        raise SignatureError("no v1 signature")
    matched = False
    for secret in secrets_:
        try:
            expected = signature(secret, msg_id, stamp, body).split(",", 1)[1].encode()
        except ValueError:
            continue
        for candidate in offered:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("no signature matches")
