"""A partner's side of the gateway, for end-to-end tests and benchmarks."""

import base64
import hashlib
import hmac
import json
import time
import uuid
import xmlrpc.client

import requests


def sign(secret, msg_id, body, timestamp=None):
    timestamp = int(timestamp or time.time())
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


class Partner:
    """A registered partner with a live secret, talking to one or more servers."""

    def __init__(self, urls, code, secret):
        self.urls = list(urls)
        self.code = code
        self.secret = secret
        self.session = requests.Session()

    @classmethod
    def register(cls, server, code, message_types=("integration.ping",), rate_limit=0):
        """Create the partner over XML-RPC as admin and rotate in a secret."""
        common = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/common")
        uid = common.authenticate(server.dbname, "admin", "admin", {})
        rpc = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/object", allow_none=True)
        db = server.dbname
        type_ids = rpc.execute_kw(
            db,
            uid,
            "admin",
            "integration.message.type",
            "search",
            [[("code", "in", list(message_types))]],
        )
        partner_id = rpc.execute_kw(
            db,
            uid,
            "admin",
            "integration.partner",
            "create",
            [
                {
                    "code": code,
                    "name": code,
                    "rate_limit": rate_limit,
                    "message_type_ids": [(6, 0, type_ids)],
                }
            ],
        )
        action = rpc.execute_kw(
            db, uid, "admin", "integration.partner", "action_rotate_secret", [[partner_id]]
        )
        return cls([server.url], code, action["context"]["default_secret"])

    def post(self, message_type, payload, msg_id=None, url_index=0, timeout=30):
        body = json.dumps(payload).encode()
        msg_id = msg_id or "msg_" + uuid.uuid4().hex
        headers = sign(self.secret, msg_id, body)
        headers.update({"X-Partner-Code": self.code, "Content-Type": "application/json"})
        url = self.urls[url_index % len(self.urls)]
        return self.session.post(
            f"{url}/integration/v1/inbound/{message_type}",
            data=body,
            headers=headers,
            timeout=timeout,
        )

    def post_until_accepted(self, message_type, payload, msg_id, deadline, url_index=0):
        """Send like a real partner: retry the same id and body until 2xx (or deadline)."""
        while time.monotonic() < deadline:
            try:
                response = self.post(message_type, payload, msg_id=msg_id, url_index=url_index)
            except requests.RequestException:
                time.sleep(0.2)
                url_index += 1
                continue
            if response.status_code in (200, 202):
                return response.status_code
            if response.status_code >= 500 or response.status_code == 429:
                time.sleep(0.2)
                continue
            raise AssertionError(f"{msg_id}: {response.status_code} {response.text}")
        raise AssertionError(f"{msg_id} not accepted before the deadline")
