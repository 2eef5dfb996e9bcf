"""Send signed messages to the gateway, poll them, verify our outbound webhooks.

Signing and verifying are done by the ``standardwebhooks`` library. Every
request is signed afresh (a new timestamp) on each attempt; the webhook-id stays
the same, so a retry or a resend is deduplicated by the gateway.
"""

import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

DEFAULT_TIMEOUT = 30
DEFAULT_RETRIES = 5
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
MAX_RETRY_AFTER = 300
# "failed" is retried by the queue; "exception" waits for a person (then replay)
FINAL_STATES = ("done", "exception", "dead", "cancelled")


class PartnerError(Exception):
    """A request that could not be made or answered (after its retries)."""


@dataclass
class Result:
    """One answer of the gateway: HTTP status, JSON body and how many attempts it took."""

    message_id: str
    status_code: int
    body: dict = field(default_factory=dict)
    attempts: int = 1
    headers: dict = field(default_factory=dict)

    @property
    def accepted(self):
        """Queued (202) or already there with the same body (200)."""
        return self.status_code in (200, 202)

    @property
    def duplicate(self):
        return self.status_code == 200

    @property
    def error(self):
        """The gateway's error object (code, message, field, correlation_id), if any."""
        return (self.body or {}).get("error") if isinstance(self.body, dict) else None


def encode_payload(payload):
    """The body bytes of ``payload``: a JSON-able object, JSON text or bytes as they are."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def message_id_for(message_type, body):
    """A webhook-id derived from the type and body: the same message always gets the same id."""
    digest = hashlib.sha256(message_type.encode("utf-8") + b"\n" + encode_payload(body))
    return "msg_" + digest.hexdigest()[:40]


def verify_webhook(secret, body, headers):
    """Check an outbound delivery's Standard Webhooks signature; return its JSON payload.

    Raise :class:`PartnerError` when the signature, timestamp or headers are wrong.
    """
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise PartnerError("the body is not UTF-8") from None
    try:
        return Webhook(secret).verify(body, dict(headers))
    except (WebhookVerificationError, ValueError) as error:
        raise PartnerError(f"invalid webhook: {error}") from None


def backoff_delay(attempt, base=BACKOFF_BASE, cap=BACKOFF_CAP, rng=random):
    """Full-jitter exponential backoff for retry ``attempt`` (1, 2, ...).

    A uniform draw in 0 .. min(cap, base * 2**(attempt - 1)) seconds.
    """
    return rng.uniform(0, min(cap, base * 2 ** max(attempt - 1, 0)))


def retry_after_seconds(value, default, cap=MAX_RETRY_AFTER):
    """Seconds of a ``Retry-After`` header (delta-seconds form), bounded by ``cap``."""
    try:
        return min(max(float(value), 0.0), cap)
    except (TypeError, ValueError):
        return default


class PartnerClient:
    """One partner talking to one gateway (``base_url`` without the /integration path)."""

    def __init__(
        self,
        base_url,
        partner_code,
        secret,
        timeout=DEFAULT_TIMEOUT,
        retries=DEFAULT_RETRIES,
        backoff_base=BACKOFF_BASE,
        backoff_cap=BACKOFF_CAP,
        session=None,
        sleep=time.sleep,
    ):
        if not (base_url and partner_code and secret):
            raise PartnerError("base URL, partner code and secret are all required")
        self.base_url = base_url.rstrip("/")
        self.partner_code = partner_code
        self.webhook = Webhook(secret)
        self.timeout = timeout
        self.retries = max(int(retries), 0)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.session = session or requests.Session()
        self.sleep = sleep

    # -- signing ---------------------------------------------------------

    def signed_headers(self, message_id, body):
        """Standard Webhooks headers for ``body`` (bytes; b"" for a status query)."""
        now = datetime.now(tz=timezone.utc)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise PartnerError("the body is not UTF-8 JSON") from None
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self.webhook.sign(message_id, now, text),
            "X-Partner-Code": self.partner_code,
        }

    # -- transport -------------------------------------------------------

    def _request(self, method, path, message_id, body):
        """Send with retries: 429 after Retry-After, 5xx/timeouts with bounded backoff."""
        url = self.base_url + path
        attempt = 0
        while True:
            attempt += 1
            headers = self.signed_headers(message_id, body)
            if method == "POST":
                headers["Content-Type"] = "application/json"
            try:
                response = self.session.request(
                    method, url, data=body or None, headers=headers, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                if attempt > self.retries:
                    raise PartnerError(
                        f"{method} {path}: {type(error).__name__} after {attempt} attempts"
                    ) from None
                self.sleep(backoff_delay(attempt, self.backoff_base, self.backoff_cap))
                continue
            status = response.status_code
            retryable = status == 429 or status >= 500
            if not retryable or attempt > self.retries:
                return self._result(message_id, response, attempt)
            if status == 429:
                delay = retry_after_seconds(
                    response.headers.get("Retry-After"),
                    backoff_delay(attempt, self.backoff_base, self.backoff_cap),
                )
            else:
                delay = backoff_delay(attempt, self.backoff_base, self.backoff_cap)
            self.sleep(delay)

    @staticmethod
    def _result(message_id, response, attempts):
        try:
            body = response.json()
        except ValueError:
            body = {"raw": response.text[:2000]}
        return Result(message_id, response.status_code, body, attempts, dict(response.headers))

    # -- the API ---------------------------------------------------------

    def send(self, message_type, payload, message_id=None):
        """POST one message; the webhook-id is derived from type and body unless given.

        Sending the same message again is safe: the gateway answers 200 (duplicate).
        """
        body = encode_payload(payload)
        message_id = message_id or message_id_for(message_type, body)
        return self._request("POST", f"/integration/v1/inbound/{message_type}", message_id, body)

    def status(self, message_id):
        """What became of a message: GET signed over an empty body, the id as webhook-id."""
        return self._request("GET", f"/integration/v1/messages/{message_id}", message_id, b"")

    def wait(self, message_id, timeout=60.0, interval=0.5):
        """Poll the status until the message is done, exception, dead or cancelled (or timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.status(message_id)
            final = result.status_code == 200 and result.body.get("status") in FINAL_STATES
            if final or result.status_code not in (200, 404) or time.monotonic() > deadline:
                return result
            self.sleep(interval)

    def ping(self, note="ping", timeout=60.0):
        """Send ``integration.ping`` with a fresh id and wait for its result."""
        message_id = f"ping_{int(time.time() * 1000)}_{random.getrandbits(32):08x}"
        sent = self.send("integration.ping", {"note": note}, message_id=message_id)
        if not sent.accepted:
            return sent
        return self.wait(message_id, timeout=timeout)

    def verify_webhook(self, body, headers):
        """Check one of our outbound deliveries to you; return its JSON payload."""
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
            return self.webhook.verify(text, dict(headers))
        except (WebhookVerificationError, ValueError) as error:
            raise PartnerError(f"invalid webhook: {error}") from None
