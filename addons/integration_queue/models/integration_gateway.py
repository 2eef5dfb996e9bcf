import hashlib
import ipaddress
import json
import logging
from collections import namedtuple

from odoo import api, fields, models

from odoo.addons.integration_audit.correlation import (
    CONTEXT_KEY,
    HEADER,
    get_correlation_id,
    new_correlation_id,
    with_correlation_id,
)

from .. import payload_schema, secret_box, signing
from .integration_message import scoped_ordering_key
from .integration_message_type import MEDIA_TYPES

_logger = logging.getLogger(__name__)

Answer = namedtuple("Answer", "status body headers")
REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature", "x-partner-code")
DEFAULT_MAX_BODY = 1024 * 1024
MAX_WEBHOOK_ID = 200
MAX_PARTNER_CODE = 64
MAX_TYPE_CODE = 128
# unauthenticated rejections that may leave an audit event per minute, all sources together
DEFAULT_ANONYMOUS_EVENTS_PER_MINUTE = 100
ANONYMOUS = "anonymous"


def is_clean_text(value, limit):
    """Printable text of at most ``limit`` characters: safe to look up in PostgreSQL
    (a NUL character made the look-up itself fail with a 500)."""
    return isinstance(value, str) and 0 < len(value) <= limit and value.isprintable()


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
        gateway = self
        try:
            self._check_size(content_length, body)
            self._check_content_type(content_type)
            partner = self._authenticate(headers, body)
            gateway = self._own_trace(partner, headers)
            answer = gateway._receive_authenticated(partner, message_type, headers, body)
        except GatewayRejection as rejection:
            answer = gateway._reject(rejection, message_type, headers, body, partner, source=source)
        return self._trace_answer(gateway, answer)

    def _receive_authenticated(self, partner, message_type, headers, body):
        """Validate, store and queue the message of an authenticated partner."""
        # first: refused requests count against the rate limit too
        self._check_rate_limit(partner)
        self._check_webhook_id(headers["webhook-id"])
        type_info = self._check_message_type(partner, message_type)
        self._check_payload_format(type_info, headers.get("content-type"))
        data = self._parse(body, type_info.payload_format)
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

    def _own_trace(self, partner, headers):
        """The gateway, with a fresh correlation ID if the partner's is another's.

        A partner may name a new trace (``X-Correlation-ID``, ``traceparent``) or
        one of its own: one of its messages (inbound, or outbound to it) carries
        it, or only events of this partner do. Another partner's trace (possibly
        of another company), or a trace of users' events, gets a fresh ID. Only a
        request that names a trace pays for the look-up.
        """
        if not (headers.get(HEADER.lower()) or headers.get("traceparent")):
            return self
        self.env.cr.execute(
            """
            SELECT EXISTS(SELECT 1 FROM integration_message
                           WHERE correlation_id = %(cid)s AND partner_id != %(partner)s),
                   EXISTS(SELECT 1 FROM integration_message
                           WHERE correlation_id = %(cid)s AND partner_id = %(partner)s),
                   EXISTS(SELECT 1 FROM integration_audit_event
                           WHERE correlation_id = %(cid)s
                             AND partner_code IS DISTINCT FROM %(code)s)
            """,
            {
                "cid": get_correlation_id(self.env),
                "partner": partner["id"],
                "code": partner["code"],
            },
        )
        others_message, own_message, others_event = self.env.cr.fetchone()
        if not others_message and (own_message or not others_event):
            return self
        return with_correlation_id(self, new_correlation_id())

    def _trace_answer(self, gateway, answer):
        """``answer``, telling the caller the correlation ID that replaced its own."""
        if gateway is self or HEADER in answer.headers:
            return answer
        return answer._replace(
            headers=dict(answer.headers, **{HEADER: gateway.env.context[CONTEXT_KEY]})
        )

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
        if not self._payload_format_of(content_type):
            raise GatewayRejection(
                415,
                "unsupported_media_type",
                "Content-Type must be application/json (application/edi-x12 for X12 types)",
                field="Content-Type",
            )

    @api.model
    def _payload_format_of(self, content_type):
        """The payload format a Content-Type announces (json, x12), or None."""
        mimetype = (content_type or "").split(";")[0].strip().lower()
        if mimetype == "application/json" or mimetype.endswith("+json"):
            return "json"
        return {media: code for code, media in MEDIA_TYPES.items()}.get(mimetype)

    def _check_payload_format(self, type_info, content_type):
        """415 when the body is not in the message type's format (known once authenticated)."""
        expected = type_info.payload_format or "json"
        if self._payload_format_of(content_type) != expected:
            raise GatewayRejection(
                415,
                "unsupported_media_type",
                f"Content-Type must be {MEDIA_TYPES[expected]} for this message type",
                field="Content-Type",
            )

    def _authenticate(self, headers, body):
        """Return the partner's gateway info, or refuse with one undistinguished 401."""
        refused = GatewayRejection(401, "unauthorized", "authentication failed")
        if any(not headers.get(name) for name in REQUIRED_HEADERS):
            raise refused
        if not is_clean_text(headers["x-partner-code"], MAX_PARTNER_CODE):
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
        if not is_clean_text(external_id, MAX_WEBHOOK_ID):
            raise GatewayRejection(
                400,
                "invalid_webhook_id",
                f"webhook-id must be at most {MAX_WEBHOOK_ID} printable characters",
                field="webhook-id",
            )

    def _check_message_type(self, partner, message_type):
        type_info = is_clean_text(message_type, MAX_TYPE_CODE) and self.env[
            "integration.message.type"
        ]._get_by_code(message_type)
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
        """429 once the partner's stored messages of the last 60 seconds plus its
        refused requests of this minute reach its limit: bad requests cost too."""
        limit = partner["rate_limit"]
        if not limit:
            return
        self.env.cr.execute(
            """
            SELECT count(*), min(received_at),
                   (SELECT COALESCE(sum(count), 0) FROM integration_gateway_rejection
                     WHERE partner_id = %s
                       AND minute = date_trunc('minute', now() at time zone 'UTC'))
              FROM (
                SELECT received_at FROM integration_message
                 WHERE partner_id = %s AND direction = 'inbound'
                   AND received_at > (now() at time zone 'UTC') - interval '60 seconds'
                 LIMIT %s) recent
            """,
            [partner["id"], partner["id"], limit],
        )
        count, oldest, refused = self.env.cr.fetchone()
        if count + refused >= limit:
            now = fields.Datetime.now()
            if refused or not oldest:
                # refused requests are counted per minute: they end with it
                wait = 60 - now.second
            else:
                wait = 60 - (now - oldest).total_seconds()
            retry_after = str(max(int(wait) + 1, 1))
            raise GatewayRejection(
                429,
                "rate_limited",
                f"over {limit} messages per minute; retry later",
                headers={"Retry-After": retry_after},
            )

    def _parse(self, body, payload_format="json"):
        if payload_format != "json":
            # the type's handler reads and validates the text (X12 answers with a 997)
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = "\x00"
            if "\x00" in text:  # PostgreSQL text cannot hold a NUL
                raise GatewayRejection(
                    400, "malformed_payload", "the body is not UTF-8 text", field="body"
                )
            return text
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
        if ordering_field and isinstance(data, dict) and data.get(ordering_field) not in (None, ""):
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
            # one event per partner, minute and code; the others are counted
            log = self._count_rejection(partner["code"], rejection.code, partner["id"])
        else:
            # an unauthenticated caller never joins a trace: its X-Correlation-ID
            # could be a partner's; and its rejections are counted, not each logged
            cid = new_correlation_id()
            answer_headers[HEADER] = cid
            log = self._count_anonymous_rejection(source)
        if not is_clean_text(message_type, MAX_TYPE_CODE):
            # as the caller sent it, escaped: a NUL would not even reach the database
            message_type = ascii(str(message_type)[:MAX_TYPE_CODE])
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
                    "note": "further rejections of this %s and minute are counted"
                    % ("partner, code" if partner else "source"),
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
        """Count an unauthenticated rejection; True if it may leave an audit event.

        A flood of bad signatures costs one audit event per source and minute (an
        IPv6 source counts per /64, which one host can fill with addresses), and
        at most ``integration_queue.anonymous_rejection_events_per_minute`` events
        per minute for all sources together (forged X-Forwarded-For addresses);
        beyond, only the counts in ``integration.gateway.rejection`` grow.
        """
        if not self._count_rejection(self._rejection_source(source), ANONYMOUS):
            return False
        cap = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(
                "integration_queue.anonymous_rejection_events_per_minute",
                DEFAULT_ANONYMOUS_EVENTS_PER_MINUTE,
            )
        )
        self.env.cr.execute(
            """
            SELECT count(*) FROM integration_gateway_rejection
             WHERE minute = date_trunc('minute', now() at time zone 'UTC')
               AND partner_id IS NULL
            """
        )
        return self.env.cr.fetchone()[0] <= cap

    @api.model
    def _rejection_source(self, source):
        """The key an unauthenticated caller is counted under: its IPv4 address, the
        /64 network of its IPv6 address, or the text it came with (at most 64)."""
        try:
            address = ipaddress.ip_address((source or "").strip())
        except ValueError:
            return (source or "unknown")[:64]
        if address.version == 6 and address.ipv4_mapped:
            return str(address.ipv4_mapped)
        if address.version == 6:
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
        return str(address)

    def _count_rejection(self, source, code, partner_id=None):
        """Add one to the rejections of ``source`` with ``code`` in this minute;
        True for the first one (the one that leaves an audit event)."""
        self.env.cr.execute(
            """
            INSERT INTO integration_gateway_rejection (source, code, partner_id, minute, count)
            VALUES (%s, %s, %s, date_trunc('minute', now() at time zone 'UTC'), 1)
            ON CONFLICT (source, code, minute)
            DO UPDATE SET count = integration_gateway_rejection.count + 1
            RETURNING count
            """,
            [source[:64], code[:64], partner_id],
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
        gateway = self._own_trace(partner, headers)
        return self._trace_answer(gateway, gateway._answer_status(partner, external_id, headers))

    def _answer_status(self, partner, external_id, headers):
        try:
            self._check_webhook_id(external_id)
        except GatewayRejection as rejection:
            return self._reject(rejection, "status", headers, b"", partner)
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
        out += self.env["integration.queue.health"]._metrics_lines()
        return "\n".join(out) + "\n"
