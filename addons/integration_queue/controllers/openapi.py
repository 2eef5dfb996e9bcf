from odoo import SUPERUSER_ID, http
from odoo.http import request
from odoo.modules.module import get_manifest

from .. import openapi
from ..models.integration_message_type import MEDIA_TYPES


def build_openapi_document(env):
    """The OpenAPI document of the active message types of ``env``'s database.

    Read as superuser: the contract is public, like the routes it describes.
    A type added by another addon appears here without code changes.
    """
    message_types = env["integration.message.type"].sudo().with_context(active_test=True).search([])
    return openapi.build_document(
        [
            openapi.MessageTypeDoc(
                record.code,
                record.name,
                record.description or "",
                record.schema or "",
                record.direction,
                MEDIA_TYPES.get(record.payload_format, "application/json"),
            )
            for record in message_types
        ],
        version=get_manifest("integration_queue")["version"],
    )


class IntegrationOpenApiController(http.Controller):
    """The partner API's contract: OpenAPI 3.1 and its HTML rendering, public."""

    def _document(self):
        # the contract is public (like /health): the types' codes, names and schemas
        return build_openapi_document(request.env(user=SUPERUSER_ID))

    @http.route(
        "/integration/v1/openapi.json",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def openapi_json(self, **_kwargs):
        """The OpenAPI 3.1 document built from the message types."""
        return request.make_response(
            openapi.dumps(self._document()),
            headers=[("Content-Type", "application/json"), ("Cache-Control", "no-cache")],
        )

    @http.route(
        "/integration/v1/docs",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def openapi_docs(self, **_kwargs):
        """The same contract as a self-contained HTML page (no external assets)."""
        return request.make_response(
            openapi.render_html(self._document()),
            headers=[
                ("Content-Type", "text/html; charset=utf-8"),
                ("Cache-Control", "no-cache"),
                # nothing loads from elsewhere: the page works on a closed network
                (
                    "Content-Security-Policy",
                    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'",
                ),
            ],
        )
