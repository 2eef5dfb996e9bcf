import hmac
import json

import psycopg2
from werkzeug.exceptions import RequestEntityTooLarge

from odoo import SUPERUSER_ID, http
from odoo.http import request
from odoo.tools import config

from odoo.addons.integration_audit.correlation import CONTEXT_KEY, HEADER

from ..models.integration_gateway import Answer

METRICS_TOKEN_OPTION = "integration_queue_metrics_token"


class IntegrationGatewayController(http.Controller):
    """HTTP face of the gateway: parse, hand over, answer. No logic here."""

    def _env(self):
        # the correlation ID integration_audit gave this request, from its first byte
        cid = request.env["ir.http"]._request_correlation_id()
        return request.env(
            user=SUPERUSER_ID, context=dict(request.env.context, **{CONTEXT_KEY: cid})
        )

    def _json(self, answer):
        # X-Correlation-ID itself is added by integration_audit's ir.http to every answer;
        # the gateway replaces it when the caller's own ID must not be echoed (unauthenticated)
        answer_headers = dict(answer.headers)
        if HEADER in answer_headers:
            request.correlation_id = answer_headers[HEADER]
            request.future_response.headers.set(HEADER, answer_headers.pop(HEADER))
        headers = [("Content-Type", "application/json"), *answer_headers.items()]
        return request.make_response(json.dumps(answer.body), headers=headers, status=answer.status)

    @http.route(
        "/integration/v1/inbound/<string:message_type>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
        max_content_length=lambda controller: controller._inbound_max_content_length(),
    )
    def inbound(self, message_type, **_kwargs):
        env = self._env()
        httprequest = request.httprequest
        gateway = env["integration.gateway"]
        limit = gateway._max_body_bytes()
        if (httprequest.content_length or 0) > limit:
            body = b""  # do not read what we refuse anyway
        else:
            body = self._read_body(httprequest, limit)
        answer = gateway._receive(
            message_type,
            dict(httprequest.headers),
            body,
            httprequest.headers.get("Content-Type"),
            httprequest.content_length,
            source=httprequest.remote_addr,
        )
        return self._json(answer)

    def _inbound_max_content_length(self):
        """Werkzeug's cap on the inbound body, set before anything reads it.

        A chunked body has no Content-Length: read whole, up to Odoo's 128 MiB
        went into memory for a request refused at the gateway's limit. A
        declared length keeps Odoo's cap: the gateway refuses it unread, with
        its own JSON 413 and audit event.
        """
        httprequest = request.httprequest
        if httprequest.content_length is not None:
            return httprequest.max_content_length
        return request.env["integration.gateway"].sudo()._max_body_bytes() + 1

    def _read_body(self, httprequest, limit):
        """The body, or ``limit`` + 1 bytes when it is longer (refused as such).

        Cached by werkzeug: a replay after a serialization failure reads it again.
        """
        try:
            return httprequest.get_data(cache=True)[: limit + 1]
        except RequestEntityTooLarge:
            return b"\0" * (limit + 1)

    @http.route(
        "/integration/v1/messages/<string:external_id>",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def message_status(self, external_id, **_kwargs):
        env = self._env()
        answer = env["integration.gateway"]._message_status(
            external_id, dict(request.httprequest.headers), source=request.httprequest.remote_addr
        )
        return self._json(answer)

    @http.route(
        "/integration/v1/health",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def health(self, **_kwargs):
        env = self._env()
        env.cr.execute("SELECT 1")
        return request.make_response(
            json.dumps({"status": "ok"}),
            headers=[("Content-Type", "application/json"), ("Cache-Control", "no-store")],
        )

    @http.route(
        "/integration/v1/health/ready",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def health_ready(self, **_kwargs):
        """Ready: the database answers and every lane heartbeats (503 otherwise), so a
        load balancer stops routing to a node whose queue cannot process."""
        env = self._env()
        try:
            ready, body = env["integration.queue.health"]._readiness()
        except psycopg2.Error as error:
            env.cr.rollback()
            ready, body = (
                False,
                {
                    "status": "not_ready",
                    "database": "unavailable",
                    "reasons": [f"database: {type(error).__name__}"],
                },
            )
        headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
        if not ready:
            headers.append(("Retry-After", "10"))
        return request.make_response(
            json.dumps(body), headers=headers, status=200 if ready else 503
        )

    @http.route(
        "/integration/v1/metrics",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def metrics(self, **_kwargs):
        env = self._env()
        token = config.get(METRICS_TOKEN_OPTION)
        offered = request.httprequest.headers.get("Authorization", "")
        offered = offered[7:] if offered.lower().startswith("bearer ") else ""
        if not token or not hmac.compare_digest(offered.encode(), str(token).encode()):
            error = {
                "code": "unauthorized",
                "message": "metrics token required",
                "field": "Authorization",
                "correlation_id": env.context[CONTEXT_KEY],
            }
            return self._json(Answer(401, {"error": error}, {"WWW-Authenticate": "Bearer"}))
        return request.make_response(
            env["integration.gateway"]._metrics_text(),
            headers=[("Content-Type", "text/plain; version=0.0.4")],
        )
