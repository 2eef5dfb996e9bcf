from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    is_critical_supply = fields.Boolean(
        "Critical Supply",
        help="Shortages are evaluated at once when a message lowers its stock, and partners "
        "subscribed to availability events are told.",
    )


class ProductPackaging(models.Model):
    _inherit = "product.packaging"

    unit_code = fields.Char(
        help="Unit code partners use for this packaging (BX, CS, ...); quantities convert.",
    )
