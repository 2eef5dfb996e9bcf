import hashlib
import json
import logging
from collections import namedtuple

from odoo import api, fields, models

from odoo.addons.integration_audit.correlation import (
    CONTEXT_KEY,
    HEADER,
    get_correlation_id,
    new_correlation_id,
)

from .. import payload_schema, secret_box, signing
from .integration_message import scoped_ordering_key

_logger = logging.getLogger(__name__)

Answer = namedtuple("Answer", "status body headers")
REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature", "x-partner-code")
DEFAULT_MAX_BODY = 1024 * 1024
MAX_WEBHOOK_ID = 200


class GatewayRejection(Exception):
    """A request refused with an HTTP status, a code, a reason and maybe a field."""

    def __init__(self, status, code, message, field=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field
        self.headers = headers or {}


class IntegrationGateway(models.AbstractModel):
    """The inbound gateway's logic, apart from HTTP so that it is testable alone.

    Every answer is an :class:`Answer`; every request leaves an audit event.
    """

    _name = "integration.gateway"
    _description = "Integration Inbound Gateway"

    # ------------------------------------------------------------------
    # Inbound messages
    # ------------------------------------------------------------------

    @api.model
    def _receive(self, message_type, headers, body, content_type, content_length=None, source=None):
        """Authenticate, validate, store and queue one inbound message.

        ``source`` is the caller's address: unauthenticated rejections are
        counted per source and minute instead of each leaving an audit event.
        """
        headers = {key.lower(): value for key, value in headers.items()}
        partner = None
        try:
            self._check_size(content_length, body)
            self._check_content_type(content_type)
            partner = self._authenticate(headers, body)
            self._check_webhook_id(headers["webhook-id"])
            type_info = self._check_message_type(partner, message_type)
            self._check_rate_limit(partner)
            data = self._parse(body)
            try:
                self._validate(type_info.schema, data)
                self._check_scope(partner, message_type, data)
            except GatewayRejection:
                # a known webhook-id answers as a duplicate (200 or 422) whatever its body
                existing = self._find_existing(partner, headers["webhook-id"])
                if existing:
                    return self._answer_duplicate(existing, body, partner)
                raise
            # the unique index finds duplicates: no look-up on the happy path
            message, created = self._store(partner, message_type, type_info, headers, body, data)
            if not created:
                return self._answer_duplicate(message, body, partner)
            return self._answer_queued(message, body, partner, message_type, headers["webhook-id"])
        except GatewayRejection as rejection:
            return self._reject(rejection, message_type, headers, body, partner, source=source)

    def _check_size(self, content_length, body):
        limit = self._max_body_bytes()
        if (content_length and int(content_length) > limit) or len(body) > limit:
            raise GatewayRejection(
                413, "payload_too_large", f"body exceeds the limit of {limit} bytes"
            )

    @api.model
    def _max_body_bytes(self):
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("integration_queue.max_body_bytes", DEFAULT_MAX_BODY)
        )

    def _check_content_type(self, content_type):
        mimetype = (content_type or "").split(";")[0].strip().lower()
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            raise GatewayRejection(
                415,
                "unsupported_media_type",
                "Content-Type must be application/json",
                field="Content-Type",
            )

    def _authenticate(self, headers, body):
        """Return the partner's gateway info, or refuse with one undistinguished 401."""
        refused = GatewayRejection(401, "unauthorized", "authentication failed")
        if any(not headers.get(name) for name in REQUIRED_HEADERS):
            raise refused
        try:
            info = self.env["integration.partner"]._get_gateway_info(headers["x-partner-code"])
        except secret_box.MissingKeyError:
            _logger.error(
                "gateway cannot decrypt partner secrets: check %s", secret_box.CONFIG_OPTION
            )
            raise refused from None
        now = fields.Datetime.now()
        secrets = [
            plain
            for plain, expires in (info or {}).get("secrets", ())
            if not expires or expires > now
        ]
        try:
            # verify even for an unknown partner, against a dummy, to keep timing flat
            signing.verify(
                secrets or [signing.PREFIX + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
                headers["webhook-id"],
                headers["webhook-timestamp"],
                body,
                headers["webhook-signature"],
            )
        except signing.SignatureError:
            raise refused from None
        if not info or not secrets:
            raise refused
        return info

    def _check_webhook_id(self, external_id):
        if len(external_id) > MAX_WEBHOOK_ID or not external_id.isprintable():
            raise GatewayRejection(
                400,
                "invalid_webhook_id",
                f"webhook-id must be at most {MAX_WEBHOOK_ID} printable characters",
                field="webhook-id",
            )

    def _check_message_type(self, partner, message_type):
        type_info = self.env["integration.message.type"]._get_by_code(message_type)
        if not type_info:
            raise GatewayRejection(
                404, "unknown_message_type", f"unknown message type {message_type!r}"
            )
        if type_info.id not in partner["type_ids"]:
            raise GatewayRejection(403, "forbidden", f"partner may not send {message_type!r}")
        if not type_info.handler_model:
            raise GatewayRejection(
                404, "unknown_message_type", f"no handler is registered for {message_type!r}"
            )
        return type_info

    def _check_rate_limit(self, partner):
        limit = partner["rate_limit"]
        if not limit:
            return
        self.env.cr.execute(
            """
            SELECT count(*), min(received_at) FROM (
                SELECT received_at FROM integration_message
                 WHERE partner_id = %s AND direction = 'inbound'
                   AND received_at > (now() at time zone 'UTC') - interval '60 seconds'
                 LIMIT %s) recent
            """,
            [partner["id"], limit],
        )
        count, oldest = self.env.cr.fetchone()
        if count >= limit:
            wait = 60 - (fields.Datetime.now() - oldest).total_seconds() if oldest else 60
            retry_after = str(max(int(wait) + 1, 1))
            raise GatewayRejection(
                429,
                "rate_limited",
                f"over {limit} messages per minute; retry later",
                headers={"Retry-After": retry_after},
            )

    def _parse(self, body):
        try:
            return payload_schema.parse_json(body)
        except payload_schema.PayloadError as error:
            raise GatewayRejection(400, "malformed_json", str(error), field=error.field) from None

    def _validate(self, schema_text, data):
        try:
            payload_schema.validate(schema_text, data)
        except payload_schema.SchemaUnavailable as error:
            # fail closed: a message whose schema cannot be enforced is not taken
            _logger.error("message schema cannot be enforced: %s", error)
            raise GatewayRejection(
                503, "schema_unavailable", "this message type cannot be validated now"
            ) from None
        except payload_schema.PayloadError as error:
            raise GatewayRejection(400, "invalid_payload", str(error), field=error.field) from None

    def _check_scope(self, partner, message_type, data):
        """Hook: refuse (403) a message the partner may not send for its content.

        Business addons extend this, e.g. to limit a partner to its facilities.
        """
        return None

    def _find_existing(self, partner, external_id):
        self.env.cr.execute(
            "SELECT id FROM integration_message WHERE partner_id = %s AND external_id = %s"
            " AND direction = 'inbound'",
            [partner["id"], external_id],
        )
        row = self.env.cr.fetchone()
        return self.env["integration.message"].sudo().browse(row[0]) if row else None

    def _store(self, partner, message_type, type_info, headers, body, data):
        """Insert the message and its job in one statement, exactly once.

        Concurrent duplicates meet the unique index: the loser waits for the
        winner's commit, then (REPEATABLE READ) fails to serialise and Odoo
        replays the request, which then finds the stored message.
        """
        ordering_field = type_info.ordering_key_field
        ordering_key = None
        if ordering_field and data.get(ordering_field) not in (None, ""):
            # one partner's stream in one company: never another partner's
            ordering_key = scoped_ordering_key(
                partner["id"], partner["company_id"], f"{ordering_field}={data[ordering_field]}"
            )
        cid = get_correlation_id(self.env)
        uid = self.env.uid
        external_id = headers["webhook-id"]
        self.env.cr.execute(
            """
            WITH message AS (
                INSERT INTO integration_message
                    (partner_id, company_id, direction, message_type_id, message_type,
                     external_id, correlation_id, received_at, payload, payload_sha256,
                     ordering_key, state, create_uid, create_date, write_uid, write_date)
                VALUES (%(partner)s, %(company)s, 'inbound', %(type_id)s, %(type)s, %(ext)s,
                        %(cid)s, %(now)s, %(payload)s, %(sha)s, %(okey)s, 'queued',
                        %(uid)s, %(now)s, %(uid)s, %(now)s)
                ON CONFLICT (partner_id, external_id) WHERE direction = 'inbound' DO NOTHING
                RETURNING id
            ), job AS (
                INSERT INTO integration_job
                    (name, message_id, partner_id, company_id, lane, priority, state, attempts,
                     max_attempts, correlation_id, ordering_key, model_name, method_name,
                     record_ids, kwargs, create_uid, create_date, write_uid, write_date)
                SELECT %(job_name)s, message.id, %(partner)s, %(company)s, %(lane)s,
                       %(priority)s, 'pending', 0, %(max_attempts)s, %(cid)s, %(okey)s,
                       %(model)s, %(method)s, '[]', '{}', %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM message
                RETURNING id
            )
            SELECT message.id FROM message, job
            """,
            {
                "partner": partner["id"],
                "company": partner["company_id"],
                "type_id": type_info.id,
                "type": message_type,
                "ext": external_id,
                "cid": cid,
                "now": fields.Datetime.now(),
                "payload": body.decode("utf-8"),
                "sha": hashlib.sha256(body).hexdigest(),
                "okey": ordering_key,
                "uid": uid,
                "job_name": f"{message_type} {external_id}",
                "lane": type_info.lane,
                "priority": type_info.priority,
                "max_attempts": type_info.max_attempts or 5,
                "model": type_info.handler_model,
                "method": type_info.handler_method,
            },
        )
        row = self.env.cr.fetchone()
        if not row:
            return self._find_existing(partner, external_id), False
        self.env["integration.job"]._trigger_lane(type_info.lane)
        message = self.env["integration.message"].sudo().browse(row[0])
        return message, True

    # ------------------------------------------------------------------
    # Answers
    # ------------------------------------------------------------------

    def _answer_queued(self, message, body, partner, message_type, external_id):
        cid = get_correlation_id(self.env)
        self.env["integration.audit.event"].sudo()._append(
            [
                {
                    "event_type": "inbound_received",
                    "summary": f"Inbound {message_type} accepted",
                    "res_model": message._name,
                    "res_id": message.id,
                    "res_name": external_id,
                    "company_id": partner["company_id"],
                    "partner_code": partner["code"],
                    "payload_sha256": hashlib.sha256(body).hexdigest(),
                    "details": {"webhook_id": external_id},
                    "correlation_id": cid,
                }
            ]
        )
        body = {"message_id": external_id, "correlation_id": cid, "status": "queued"}
        return Answer(202, body, {})

    def _answer_duplicate(self, message, body, partner):
        if message.payload_sha256 != hashlib.sha256(body).hexdigest():
            raise GatewayRejection(
                422,
                "idempotency_conflict",
                "this webhook-id was already used with a different body",
                field="webhook-id",
            )
        self._audit(
            "inbound_received",
            "Duplicate delivery of %s" % message.external_id,
            message,
            body,
            partner,
            details={"duplicate": True},
        )
        return Answer(200, self._status_body(message), {})

    def _reject(self, rejection, message_type, headers, body, partner, source=None):
        answer_headers = dict(rejection.headers)
        if partner:
            cid = self.env.context.get(CONTEXT_KEY)
            log = True
        else:
            # an unauthenticated caller never joins a trace: its X-Correlation-ID
            # could be a partner's; and its rejections are counted, not each logged
            cid = new_correlation_id()
            answer_headers[HEADER] = cid
            log = self._count_anonymous_rejection(source)
        if log:
            events = self.env["integration.audit.event"].sudo()
            if partner:
                # the partner's company owns the event: other companies' viewers do not see it
                events = events.with_company(partner["company_id"])
            events._log(
                "inbound_rejected",
                f"Inbound {message_type} rejected: {rejection.status} {rejection.code}",
                details={
                    "status": rejection.status,
                    "code": rejection.code,
                    "reason": str(rejection),
                    "field": rejection.field,
                    "message_type": str(message_type)[:200],
                    "webhook_id": (headers.get("webhook-id") or "")[:200],
                    "claimed_partner": (headers.get("x-partner-code") or "")[:64],
                    "source": source,
                    "authenticated": bool(partner),
                    **(
                        {}
                        if partner
                        else {"note": "further rejections of this source and minute are counted"}
                    ),
                },
                payload=body,
                partner_code=partner["code"] if partner else None,
                correlation_id=cid,
            )
        error = {
            "code": rejection.code,
            "message": str(rejection),
            "field": rejection.field,
            "correlation_id": cid,
        }
        return Answer(rejection.status, {"error": error}, answer_headers)

    def _count_anonymous_rejection(self, source):
        """Count an unauthenticated rejection; True for the first of its source and minute.

        A flood of bad signatures then costs one audit event per source and minute,
        with the count kept in ``integration.gateway.rejection``.
        """
        self.env.cr.execute(
            """
            INSERT INTO integration_gateway_rejection (source, minute, count)
            VALUES (%s, date_trunc('minute', now() at time zone 'UTC'), 1)
            ON CONFLICT (source, minute)
            DO UPDATE SET count = integration_gateway_rejection.count + 1
            RETURNING count
            """,
            [(source or "unknown")[:64]],
        )
        return self.env.cr.fetchone()[0] == 1

    def _audit(self, event_type, summary, message, body, partner, details=None):
        self.env["integration.audit.event"].sudo()._log(
            event_type,
            summary,
            records=message,
            payload=body,
            partner_code=partner["code"],
            details=dict(details or {}, webhook_id=message.external_id),
        )

    @api.model
    def _status_body(self, message):
        return {
            "message_id": message.external_id,
            "correlation_id": message.correlation_id,
            "type": message.message_type,
            "status": message.state,
            "received_at": fields.Datetime.to_string(message.received_at),
            "result": json.loads(message.result) if message.result else None,
            "error": message.error or None,
            "error_field": message.error_field or None,
            "attempts": sum(message.job_ids.mapped("attempts")),
        }

    # ------------------------------------------------------------------
    # Status query
    # ------------------------------------------------------------------

    @api.model
    def _message_status(self, external_id, headers, source=None):
        """What became of a partner's message (signature over an empty body).

        The signature covers the webhook-id of the path: a signed query for one
        message cannot be replayed against another.
        """
        headers = {key.lower(): value for key, value in headers.items()}
        headers["webhook-id"] = external_id
        try:
            partner = self._authenticate(headers, b"")
        except GatewayRejection as rejection:
            return self._reject(rejection, "status", headers, b"", None, source=source)
        message = self._find_existing(partner, external_id)
        if not message:
            return Answer(
                404,
                {
                    "error": {
                        "code": "not_found",
                        "message": "no such message",
                        "field": "webhook-id",
                        "correlation_id": self.env.context.get(CONTEXT_KEY),
                    }
                },
                {},
            )
        self.env["integration.audit.event"].sudo()._log(
            "inbound_query",
            f"Status query for {external_id}",
            records=message,
            partner_code=partner["code"],
        )
        return Answer(200, self._status_body(message), {})

    # ------------------------------------------------------------------
    # Metrics (Prometheus text format)
    # ------------------------------------------------------------------

    @api.model
    def _metrics_text(self):
        from .integration_job import LATENCY_BUCKETS  # noqa: PLC0415

        cr = self.env.cr
        out = [
            "# HELP integration_queue_jobs Jobs by lane and state.",
            "# TYPE integration_queue_jobs gauge",
        ]
        cr.execute(
            "SELECT lane, state, count(*) FROM integration_job GROUP BY lane, state"
            " ORDER BY lane, state"
        )
        for lane, state, count in cr.fetchall():
            out.append(f'integration_queue_jobs{{lane="{lane}",state="{state}"}} {count}')
        out += [
            "# HELP integration_queue_oldest_pending_seconds Age of the oldest ready job.",
            "# TYPE integration_queue_oldest_pending_seconds gauge",
        ]
        cr.execute(
            "SELECT lane, EXTRACT(EPOCH FROM (now() at time zone 'UTC') - min(create_date))"
            " FROM integration_job WHERE state = 'pending' GROUP BY lane ORDER BY lane"
        )
        for lane, age in cr.fetchall():
            out.append(
                f'integration_queue_oldest_pending_seconds{{lane="{lane}"}} {float(age):.3f}'
            )
        counters = {}
        for lane, name, value in self.env["integration.queue.counter"]._snapshot():
            counters.setdefault(lane, {})[name] = value
        for metric, key in (
            ("processed", "processed"),
            ("failed", "failed"),
            ("dead", "dead"),
            ("exception", "exception"),
        ):
            out += [
                f"# HELP integration_queue_{metric}_total Jobs {metric} since install.",
                f"# TYPE integration_queue_{metric}_total counter",
            ]
            for lane in sorted(counters):
                out.append(
                    f'integration_queue_{metric}_total{{lane="{lane}"}} '
                    f"{int(counters[lane].get(key, 0))}"
                )
        out += [
            "# HELP integration_queue_latency_seconds From enqueue to done.",
            "# TYPE integration_queue_latency_seconds histogram",
        ]
        for lane in sorted(counters):
            values = counters[lane]
            for bound in LATENCY_BUCKETS:
                out.append(
                    f'integration_queue_latency_seconds_bucket{{lane="{lane}",le="{bound}"}}'
                    f" {int(values.get(f'latency_le_{bound}', 0))}"
                )
            count = int(values.get("latency_count", 0))
            out.append(
                f'integration_queue_latency_seconds_bucket{{lane="{lane}",le="+Inf"}} {count}'
            )
            out.append(
                f'integration_queue_latency_seconds_sum{{lane="{lane}"}}'
                f" {values.get('latency_sum_ms', 0) / 1000:.3f}"
            )
            out.append(f'integration_queue_latency_seconds_count{{lane="{lane}"}} {count}')
        return "\n".join(out) + "\n"
