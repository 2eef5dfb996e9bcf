from odoo import api, fields, models, tools


class IntegrationPartner(models.Model):
    _inherit = "integration.partner"

    facility_ids = fields.Many2many(
        "stock.warehouse",
        string="Facilities",
        help="Facilities this partner may post inventory messages for.",
    )

    @api.model
    @tools.ormcache("partner_id")
    def _facility_codes(self, partner_id):
        partner = self.sudo().browse(partner_id)
        return frozenset(partner.facility_ids.mapped("facility_code")) - {False}


class IntegrationGateway(models.AbstractModel):
    _inherit = "integration.gateway"

    # a transfer request is posted by the requesting facility: "to_facility" is checked
    FACILITY_FIELDS = ("facility", "to_facility")

    def _check_scope(self, partner, message_type, data):
        """A partner posts inventory messages only for its own facilities (else 403)."""
        res = super()._check_scope(partner, message_type, data)
        if not message_type.startswith("inventory."):
            return res
        from odoo.addons.integration_queue.models.integration_gateway import (  # noqa: PLC0415
            GatewayRejection,
        )

        allowed = self.env["integration.partner"]._facility_codes(partner["id"])
        for field in self.FACILITY_FIELDS:
            code = data.get(field)
            if code is not None and code not in allowed:
                raise GatewayRejection(
                    403, "forbidden", f"partner may not post for facility {code!r}", field=field
                )
        return res
