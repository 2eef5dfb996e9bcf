"""The partner API's OpenAPI 3.1 document, built from message-type descriptions.

Plain Python, no ORM: :func:`build_document` takes a list of
:class:`MessageTypeDoc` (what ``integration.message.type`` records say) and
returns the document as a dict; :func:`render_html` turns that document into a
self-contained HTML reference (inline CSS, no script, no external asset), every
text escaped. Inbound types become one ``POST`` operation each under
``/integration/v1/inbound/<code>``; outbound types become OpenAPI ``webhooks``.
The output is deterministic (sorted by code) so that a static copy can be
compared with what a server serves.
"""

import json
from collections import namedtuple

from markupsafe import Markup

OPENAPI_VERSION = "3.1.0"
JSON_SCHEMA_DIALECT = "https://spec.openapis.org/oas/3.1/dialect/base"

MessageTypeDoc = namedtuple(
    "MessageTypeDoc",
    "code name description schema direction media_type",
    defaults=("application/json",),
)
MessageTypeDoc.__doc__ = """What the document says of one message type.

``schema`` is the JSON Schema text (or dict, or empty); ``direction`` is
``inbound`` or ``outbound``; ``media_type`` is the body's Content-Type: a type
whose body is not JSON (e.g. ``application/edi-x12``) is documented as text.
"""

# every status the gateway answers with an error object, and why
ERROR_STATUSES = {
    "400": "Malformed JSON, a payload that breaks the schema, or an invalid webhook-id;"
    " `field` names the culprit.",
    "401": "Missing or invalid signature, unknown partner, or timestamp outside five minutes:"
    " one undistinguished answer.",
    "403": "The partner may not send this message type, or not for this facility or supplier;"
    " `field` names the field.",
    "404": "Unknown message type (no such type or no handler registered).",
    "413": "The body exceeds the configured limit (1 MiB by default).",
    "415": "Content-Type is not the message type's (application/json unless it says otherwise).",
    "422": "This webhook-id was already used with a different body.",
    "429": "Over the partner's rate limit; retry after `Retry-After` seconds.",
    "503": "The message type's schema cannot be enforced now; retry later.",
}


def _header(name, description, required=True, schema=None):
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _signed_headers():
    return [
        {"$ref": "#/components/parameters/WebhookId"},
        {"$ref": "#/components/parameters/WebhookTimestamp"},
        {"$ref": "#/components/parameters/WebhookSignature"},
        {"$ref": "#/components/parameters/PartnerCode"},
        {"$ref": "#/components/parameters/CorrelationId"},
    ]


def _error_response(description, extra_headers=None):
    headers = {"X-Correlation-ID": {"$ref": "#/components/headers/CorrelationId"}}
    headers.update(extra_headers or {})
    return {
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json_response(description, schema_ref):
    return {
        "description": description,
        "headers": {"X-Correlation-ID": {"$ref": "#/components/headers/CorrelationId"}},
        "content": {"application/json": {"schema": {"$ref": schema_ref}}},
    }


def _payload_schema(schema):
    """The message type's JSON Schema as an OpenAPI 3.1 schema object."""
    if isinstance(schema, str):
        schema = json.loads(schema) if schema.strip() else {}
    schema = dict(schema or {})
    # the document's dialect applies; a local "$schema"/"$id" would re-root "$ref"s
    schema.pop("$schema", None)
    schema.pop("$id", None)
    return schema or {"type": "object"}


def _body(message_type):
    if message_type.media_type == "application/json":
        return {message_type.media_type: {"schema": _payload_schema(message_type.schema)}}
    return {message_type.media_type: {"schema": {"type": "string", "minLength": 1}}}


def _operation_id(prefix, code):
    return prefix + "".join(char if char.isalnum() else "_" for char in code)


def _inbound_operation(message_type):
    errors = {
        status: _error_response(
            description,
            {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
            if status == "429"
            else None,
        )
        for status, description in ERROR_STATUSES.items()
    }
    return {
        "post": {
            "operationId": _operation_id("send_", message_type.code),
            "summary": message_type.name or message_type.code,
            "description": message_type.description or "",
            "tags": ["inbound"],
            "parameters": _signed_headers(),
            "requestBody": {"required": True, "content": _body(message_type)},
            "responses": {
                "200": _json_response(
                    "Duplicate delivery of a known webhook-id with the same body: what became"
                    " of the message.",
                    "#/components/schemas/MessageStatus",
                ),
                "202": _json_response("Accepted and queued.", "#/components/schemas/Queued"),
                **errors,
            },
        }
    }


def _outbound_webhook(message_type):
    return {
        "post": {
            "operationId": _operation_id("receive_", message_type.code),
            "summary": message_type.name or message_type.code,
            "description": (message_type.description or "")
            + "\n\nDelivered by POST to the partner's outbound endpoint, signed with the"
            " partner's secret as Standard Webhooks; the webhook-id stays the same across"
            " retries. Any 2xx acknowledges; 408, 425, 429 and 5xx are retried with backoff.",
            "tags": ["outbound"],
            "parameters": [
                {"$ref": "#/components/parameters/WebhookId"},
                {"$ref": "#/components/parameters/WebhookTimestamp"},
                {"$ref": "#/components/parameters/WebhookSignature"},
                {"$ref": "#/components/parameters/CorrelationId"},
            ],
            "requestBody": {"required": True, "content": _body(message_type)},
            "responses": {"2XX": {"description": "Received; the delivery is done."}},
        }
    }


def _components():
    return {
        "parameters": {
            "WebhookId": _header(
                "webhook-id",
                "Unique id of the message, at most 200 printable characters; resend with the"
                " same id (and body) to retry safely.",
                schema={"type": "string", "minLength": 1, "maxLength": 200},
            ),
            "WebhookTimestamp": _header(
                "webhook-timestamp",
                "Unix seconds; within five minutes of the server's clock.",
                schema={"type": "string", "pattern": "^[0-9]+$"},
            ),
            "WebhookSignature": _header(
                "webhook-signature",
                'Space-separated `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`'
                " under the base64 key after `whsec_`.",
            ),
            "PartnerCode": _header("X-Partner-Code", "The partner's code, as registered."),
            "CorrelationId": _header(
                "X-Correlation-ID",
                "Optional: joins this request to an existing trace (authenticated callers"
                " only); echoed in every answer.",
                required=False,
            ),
            "MessageId": {
                "name": "id",
                "in": "path",
                "required": True,
                "description": "The message's webhook-id; the status query is signed over an"
                " empty body with this id as webhook-id.",
                # a "/" (even encoded) would not reach this route
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "pattern": "^[^/]+$",
                },
            },
        },
        "headers": {
            "CorrelationId": {
                "description": "The request's correlation ID.",
                "schema": {"type": "string"},
            },
            "RetryAfter": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "string", "pattern": "^[0-9]+$"},
            },
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message", "field", "correlation_id"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "field": {"type": ["string", "null"]},
                            "correlation_id": {"type": ["string", "null"]},
                        },
                    }
                },
            },
            "Queued": {
                "type": "object",
                "required": ["message_id", "correlation_id", "status"],
                "properties": {
                    "message_id": {"type": "string"},
                    "correlation_id": {"type": "string"},
                    "status": {"const": "queued"},
                },
            },
            "MessageStatus": {
                "type": "object",
                "required": [
                    "message_id",
                    "correlation_id",
                    "type",
                    "status",
                    "received_at",
                    "result",
                    "error",
                    "error_field",
                    "attempts",
                ],
                "properties": {
                    "message_id": {"type": "string"},
                    "correlation_id": {"type": ["string", "null"]},
                    "type": {"type": "string"},
                    "status": {"type": "string"},
                    "received_at": {"type": ["string", "null"]},
                    "result": {},
                    "error": {"type": ["string", "null"]},
                    "error_field": {"type": ["string", "null"]},
                    "attempts": {"type": "integer", "minimum": 0},
                },
            },
            "Health": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"const": "ok"}},
            },
            "Readiness": {
                "type": "object",
                "required": ["status"],
                "properties": {
                    "status": {"enum": ["ready", "not_ready"]},
                    "database": {"enum": ["ok", "unavailable"]},
                    "lanes": {
                        "type": "object",
                        "description": "Per lane: whether its cron heartbeats, when it last"
                        " started and last finished a run (UTC).",
                        "additionalProperties": {
                            "type": "object",
                            "properties": {
                                "ok": {"type": "boolean"},
                                "last_run": {"type": ["string", "null"], "format": "date-time"},
                                "last_success": {
                                    "type": ["string", "null"],
                                    "format": "date-time",
                                },
                            },
                        },
                    },
                    "reasons": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "securitySchemes": {
            "MetricsToken": {"type": "http", "scheme": "bearer"},
        },
    }


def _fixed_paths():
    status_errors = {
        "400": _error_response("The id is not a valid webhook-id; `field` is webhook-id."),
        "401": _error_response(ERROR_STATUSES["401"]),
        "404": _error_response("No message with this webhook-id from this partner."),
    }
    return {
        "/integration/v1/messages/{id}": {
            "get": {
                "operationId": "message_status",
                "summary": "What became of a message",
                "description": "Signed like a message, over an empty body, with the message's"
                " id as webhook-id: a signed query for one message cannot be replayed for"
                " another.",
                "tags": ["status"],
                "parameters": [
                    {"$ref": "#/components/parameters/MessageId"},
                    {"$ref": "#/components/parameters/WebhookTimestamp"},
                    {"$ref": "#/components/parameters/WebhookSignature"},
                    {"$ref": "#/components/parameters/PartnerCode"},
                    {"$ref": "#/components/parameters/CorrelationId"},
                ],
                "responses": {
                    "200": _json_response(
                        "The message's state.", "#/components/schemas/MessageStatus"
                    ),
                    **status_errors,
                },
            }
        },
        "/integration/v1/health": {
            "get": {
                "operationId": "health",
                "summary": "Liveness: the process answers (readiness: /health/ready)",
                "tags": ["operations"],
                "responses": {"200": _json_response("Up.", "#/components/schemas/Health")},
            }
        },
        "/integration/v1/health/ready": {
            "get": {
                "operationId": "healthReady",
                "summary": "Readiness: the database answers and every lane's cron heartbeats",
                "description": "For load balancers: 503 when this node's queue cannot process"
                " (database unreachable, a lane's cron inactive or not run within three of its"
                " intervals plus one run's time budget). `/integration/v1/health` answers"
                " whether the process is up.",
                "tags": ["operations"],
                "responses": {
                    "200": _json_response("Ready.", "#/components/schemas/Readiness"),
                    "503": {
                        "description": "Not ready; the reasons are listed.",
                        "headers": {
                            "X-Correlation-ID": {"$ref": "#/components/headers/CorrelationId"},
                            "Retry-After": {
                                "description": "Seconds before asking again.",
                                "schema": {"type": "integer"},
                            },
                        },
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Readiness"}
                            }
                        },
                    },
                },
            }
        },
        "/integration/v1/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics of the queue",
                "tags": ["operations"],
                "security": [{"MetricsToken": []}],
                "responses": {
                    "200": {
                        "description": "Prometheus text format 0.0.4.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "401": _error_response("Missing or wrong bearer token."),
                },
            }
        },
    }


def build_document(message_types, version="1.0.0"):
    """The OpenAPI 3.1 document (a dict) for ``message_types``.

    ``message_types`` is an iterable of :class:`MessageTypeDoc`; inactive types
    are the caller's business. ``version`` is the API document's version.
    """
    paths = {}
    webhooks = {}
    for message_type in sorted(message_types, key=lambda item: item.code):
        if message_type.direction == "outbound":
            webhooks[message_type.code] = _outbound_webhook(message_type)
        else:
            paths[f"/integration/v1/inbound/{message_type.code}"] = _inbound_operation(message_type)
    paths.update(_fixed_paths())
    return {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "Healthcare supply chain partner API",
            "version": version,
            "description": "Signed, idempotent JSON messages between partners and Odoo."
            " Every answer carries `X-Correlation-ID`; every rejection is"
            ' `{"error": {"code", "message", "field", "correlation_id"}}`.',
            "license": {"name": "LGPL-3.0-only", "identifier": "LGPL-3.0-only"},
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "inbound", "description": "Messages partners send."},
            {"name": "status", "description": "What became of a message."},
            {"name": "operations", "description": "Health and metrics."},
            {"name": "outbound", "description": "Messages we send (webhooks)."},
        ],
        "paths": paths,
        "webhooks": webhooks,
        "components": _components(),
    }


def dumps(document):
    """The document as stable JSON text (sorted keys, two-space indent, final newline)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ccc;margin-top:2rem}h3{margin-bottom:.2rem}
code,pre{font-family:ui-monospace,monospace;font-size:.85rem}
pre{background:#f5f5f5;padding:.6rem;overflow:auto;border-radius:4px}
.op{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}
.method{font-weight:bold;color:#fff;background:#2a7;padding:.1rem .4rem;border-radius:3px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
"""


def _resolve(document, item):
    while isinstance(item, dict) and "$ref" in item:
        target = document
        for part in item["$ref"].lstrip("#/").split("/"):
            target = target[part]
        item = target
    return item


def _render_operation(document, method, path, operation):
    parameters = "".join(
        Markup("<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td></tr>")
        % (
            param["name"],
            param["in"],
            "required" if param.get("required") else "optional",
            param.get("description", ""),
        )
        for param in (_resolve(document, item) for item in operation.get("parameters", []))
    )
    responses = "".join(
        Markup("<tr><td>%s</td><td>%s</td></tr>")
        % (status, _resolve(document, answer).get("description", ""))
        for status, answer in sorted(operation.get("responses", {}).items())
    )
    body = ""
    contents = operation.get("requestBody", {}).get("content", {})
    content = contents.get("application/json")
    if content:
        body = Markup("<p>Body (JSON Schema):</p><pre>%s</pre>") % json.dumps(
            content["schema"], indent=2, sort_keys=True
        )
    elif contents:
        body = Markup("<p>Body: <code>%s</code> text.</p>") % ", ".join(contents)
    return Markup(
        '<div class="op" id="%s"><h3><span class="method">%s</span> <code>%s</code></h3>'
        "<p><strong>%s</strong></p><p>%s</p>"
        "<table><tr><th>parameter</th><th>in</th><th></th><th>meaning</th></tr>%s</table>"
        "%s<table><tr><th>answer</th><th>meaning</th></tr>%s</table></div>"
    ) % (
        operation.get("operationId", ""),
        method.upper(),
        path,
        operation.get("summary", ""),
        operation.get("description", ""),
        Markup(parameters),
        body,
        Markup(responses),
    )


def render_html(document):
    """A self-contained HTML reference of ``document``: inline CSS, no script, no link out."""
    sections = []
    for title, items in (
        ("Endpoints", document.get("paths", {})),
        ("Webhooks (outbound)", document.get("webhooks", {})),
    ):
        operations = "".join(
            _render_operation(document, method, path, operation)
            for path, path_item in items.items()
            for method, operation in path_item.items()
        )
        sections.append(Markup("<h2>%s</h2>%s") % (title, Markup(operations)))
    error = json.dumps(document["components"]["schemas"]["Error"], indent=2, sort_keys=True)
    return Markup(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>%s</title><style>%s</style></head><body><h1>%s <small>%s</small></h1>"
        '<p>%s</p><p>Machine-readable: <a href="openapi.json">openapi.json</a>'
        " (OpenAPI %s).</p><h2>Error object</h2><pre>%s</pre>%s</body></html>\n"
    ) % (
        document["info"]["title"],
        Markup(_CSS),
        document["info"]["title"],
        document["info"]["version"],
        document["info"].get("description", ""),
        document["openapi"],
        error,
        Markup("".join(sections)),
    )
