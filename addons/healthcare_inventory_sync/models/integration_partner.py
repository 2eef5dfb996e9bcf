from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError

# Facility fields of each inventory message type that the partner must hold (its
# facilities, inside its company). A transfer request is posted by the requesting
# facility: "to_facility" is the partner's; "from_facility" is the source it asks
# from, any facility of the partner's company (see COMPANY_FACILITY_FIELDS).
PARTNER_FACILITY_FIELDS = {
    "inventory.snapshot": ("facility",),
    "inventory.consumption": ("facility",),
    "inventory.receipt": ("facility",),
    "inventory.transfer_request": ("to_facility",),
}
# Facility fields that must name a facility of the partner's company (not its own).
COMPANY_FACILITY_FIELDS = {
    "inventory.transfer_request": ("from_facility",),
}
# An inventory type not listed above fails closed: every one of these it carries
# must be a facility of the partner.
DEFAULT_FACILITY_FIELDS = ("facility", "to_facility", "from_facility")


class IntegrationPartner(models.Model):
    _inherit = "integration.partner"

    # contract_procurement declares the same field on the same table and columns
    facility_ids = fields.Many2many(
        "stock.warehouse",
        "integration_partner_stock_warehouse_rel",
        "integration_partner_id",
        "stock_warehouse_id",
        string="Facilities",
        always_audited=True,  # the partner's scope: every change is an audit event
        domain="[('company_id', '=', company_id), ('facility_code', '!=', False)]",
        help="Facilities of the partner's company it may post inventory messages for.",
    )
    snapshot_mode = fields.Selection(
        [
            ("all_or_nothing", "All or Nothing"),
            ("apply_valid", "Apply Valid Lines"),
        ],
        default="all_or_nothing",
        required=True,
        help="All or Nothing: a stock snapshot with a wrong line is refused whole, every "
        "wrong line named in the exception. Apply Valid Lines: the good lines are applied, the "
        "wrong ones reported in the message's result and an alert (the snapshot then counts as "
        "partial, never zeroing what it does not list).",
    )

    @api.constrains("facility_ids", "company_id")
    def _check_facility_company(self):
        for partner in self:
            foreign = partner.facility_ids.filtered(
                lambda w, p=partner: w.company_id != p.company_id
            )
            if foreign:
                raise ValidationError(
                    _(
                        "Facilities: %(facilities)s belong to another company than partner "
                        "%(partner)s.",
                        facilities=", ".join(foreign.mapped("name")),
                        partner=partner.name,
                    )
                )

    @api.model
    @tools.ormcache("partner_id")
    def _facility_codes(self, partner_id):
        """Codes of the partner's facilities that belong to the partner's company."""
        partner = self.sudo().browse(partner_id)
        facilities = partner.facility_ids.filtered(
            lambda w: w.company_id == partner.company_id and w.active
        )
        return frozenset(facilities.mapped("facility_code")) - {False}


class IntegrationGateway(models.AbstractModel):
    _inherit = "integration.gateway"

    def _check_scope(self, partner, message_type, data):
        """A partner posts inventory messages only for its own facilities, inside its
        company (else 403 naming the field)."""
        res = super()._check_scope(partner, message_type, data)
        if not message_type.startswith("inventory."):
            return res
        own = PARTNER_FACILITY_FIELDS.get(message_type, DEFAULT_FACILITY_FIELDS)
        allowed = self.env["integration.partner"]._facility_codes(partner["id"])
        for field in own:
            self._check_facility_field(data, field, allowed)
        company_fields = COMPANY_FACILITY_FIELDS.get(message_type, ())
        if company_fields:
            in_company = self.env["stock.warehouse"]._company_facility_codes(partner["company_id"])
            for field in company_fields:
                self._check_facility_field(data, field, in_company)
        return res

    def _check_facility_field(self, data, field, allowed):
        from odoo.addons.integration_queue.models.integration_gateway import (  # noqa: PLC0415
            GatewayRejection,
        )

        code = data.get(field) if isinstance(data, dict) else None
        if code is not None and code not in allowed:
            raise GatewayRejection(
                403, "forbidden", f"partner may not post for facility {code!r}", field=field
            )
