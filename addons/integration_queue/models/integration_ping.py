from odoo import api, models

from ..exceptions import BusinessError


class IntegrationPing(models.AbstractModel):
    """Handler of ``integration.ping``: lets a partner test its connection end to end.

    ``{"note": "..."}`` is echoed back as the message result. ``{"lookup":
    "<ref>"}`` resolves a contact by its reference and fails with a business
    exception when there is none (fixable, then replayable); ``{"fail":
    "business"}`` always fails that way. Partners test their exception handling
    with these.
    """

    _name = "integration.ping"
    _description = "Integration Ping Handler"

    @api.model
    def _handle(self, message, payload):
        if payload.get("fail") == "business":
            raise BusinessError("ping asked for a business exception", field="fail")
        result = {"pong": payload.get("note", ""), "message": message.external_id}
        if payload.get("lookup"):
            contact = (
                self.env["res.partner"].sudo().search([("ref", "=", payload["lookup"])], limit=1)
            )
            if not contact:
                raise BusinessError(
                    f"no contact with reference {payload['lookup']!r}", field="lookup"
                )
            message._link_records(contact)
            result["contact"] = contact.display_name
        return result
