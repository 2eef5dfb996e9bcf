from odoo import api, models

from ..exceptions import BusinessError
from ..registry import job_target, message_handler


class IntegrationPing(models.AbstractModel):
    """Handler of ``integration.ping``: lets a partner test its connection end to end.

    ``{"note": "..."}`` is echoed back as the message result. ``{"lookup":
    "<ref>"}`` resolves a contact by its reference and fails with a business
    exception when there is none (fixable, then replayable); ``{"fail":
    "business"}`` always fails that way and ``{"fail": "technical"}`` fails as a
    technical error (retried, then dead). Partners test their exception handling
    with these.
    """

    _name = "integration.ping"
    _description = "Integration Ping Handler"

    @message_handler("integration.ping")
    @api.model
    def _handle(self, message, payload):
        self._fail_as_asked(payload.get("fail"))
        result = {"pong": payload.get("note", ""), "message": message.external_id}
        if payload.get("lookup"):
            contact = (
                self.env["res.partner"]
                .sudo()
                .search(
                    [
                        ("ref", "=", payload["lookup"]),
                        ("company_id", "in", [message.company_id.id, False]),
                    ],
                    limit=1,
                )
            )
            if not contact:
                raise BusinessError(
                    f"no contact with reference {payload['lookup']!r}", field="lookup"
                )
            message._link_records(contact)
            result["contact"] = contact.display_name
        return result

    @job_target
    @api.model
    def _job_ping(self, note="", fail=None):
        """A job that tests the queue itself: echoes ``note`` or fails as asked."""
        self._fail_as_asked(fail)
        return {"pong": note}

    @api.model
    def _fail_as_asked(self, fail):
        if fail == "business":
            raise BusinessError("ping asked for a business exception", field="fail")
        if fail == "technical":
            raise RuntimeError("ping asked for a technical failure")
