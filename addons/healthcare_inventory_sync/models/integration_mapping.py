from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class IntegrationItemMapping(models.Model):
    """A partner's own code for a product, with the unit that code counts in."""

    _name = "integration.item.mapping"
    _description = "Partner Item Mapping"
    _order = "partner_id, external_code"
    _rec_name = "external_code"

    partner_id = fields.Many2one(
        "integration.partner", required=True, ondelete="cascade", index=True
    )
    external_code = fields.Char(required=True, index=True)
    product_id = fields.Many2one("product.product", required=True, ondelete="cascade")
    uom_id = fields.Many2one(
        "uom.uom",
        "Unit",
        help="Unit the partner's quantities are in; empty: the line's unit code decides.",
    )
    company_id = fields.Many2one(related="partner_id.company_id", store=True)

    _sql_constraints = [
        (
            "partner_code_unique",
            "UNIQUE(partner_id, external_code)",
            "A partner's item code maps to one product.",
        ),
    ]

    @api.constrains("product_id", "partner_id")
    def _check_product_company(self):
        for mapping in self:
            company = mapping.product_id.company_id
            if company and company != mapping.partner_id.company_id:
                raise ValidationError(
                    _(
                        "Product: %(product)s belongs to another company than partner %(partner)s.",
                        product=mapping.product_id.display_name,
                        partner=mapping.partner_id.name,
                    )
                )


class IntegrationUomMapping(models.Model):
    """A unit code (EA, BX, UN/ECE Rec 20 ...) and the Odoo unit it means."""

    _name = "integration.uom.mapping"
    _description = "Unit Code Mapping"
    _order = "code"
    _rec_name = "code"

    code = fields.Char(required=True, index=True)
    uom_id = fields.Many2one("uom.uom", "Unit", required=True, ondelete="cascade")

    _sql_constraints = [("code_unique", "UNIQUE(code)", "A unit code maps to one unit.")]
