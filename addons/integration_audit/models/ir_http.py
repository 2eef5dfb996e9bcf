from werkzeug.exceptions import HTTPException

from odoo import models
from odoo.http import request

from ..correlation import CONTEXT_KEY, HEADER, correlation_id_from_headers, new_correlation_id


class IrHttp(models.AbstractModel):
    """Give every HTTP request a correlation ID and echo it in the response."""

    _inherit = "ir.http"

    @classmethod
    def _request_correlation_id(cls):
        """The request's correlation ID, taken from its headers or made once."""
        cid = getattr(request, "correlation_id", None)
        if not cid:
            cid = correlation_id_from_headers(request.httprequest.headers) or new_correlation_id()
            request.correlation_id = cid
        return cid

    @classmethod
    def _pre_dispatch(cls, rule, args):
        cid = cls._request_correlation_id()
        if rule.endpoint.routing.get("auth") != "none" and not cls._may_join_trace(cid):
            # a signed-in client names another's trace in X-Correlation-ID: not his to join
            # (auth="none" routes, the partner gateway, check their callers themselves)
            cid = request.correlation_id = new_correlation_id()
        request.update_context(**{CONTEXT_KEY: cid})
        request.future_response.headers.set(HEADER, cid)
        return super()._pre_dispatch(rule, args)

    @classmethod
    def _may_join_trace(cls, cid):
        """True unless the client chose ``cid`` and events of someone else carry it.

        Only a request that names a trace pays for the look-up.
        """
        if cid != correlation_id_from_headers(request.httprequest.headers):
            return True
        request.env.cr.execute(
            "SELECT 1 FROM integration_audit_event"
            " WHERE correlation_id = %s AND user_id IS DISTINCT FROM %s LIMIT 1",
            [cid, request.env.uid],
        )
        return not request.env.cr.fetchone()

    @classmethod
    def _handle_error(cls, exception):
        response = super()._handle_error(exception)
        if isinstance(response, HTTPException):
            # what werkzeug would render anyway, so that the header can be added
            response = response.get_response(request.httprequest.environ)
        if hasattr(response, "headers") and HEADER not in response.headers:
            response.headers[HEADER] = cls._request_correlation_id()
        return response
