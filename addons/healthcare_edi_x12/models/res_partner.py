from odoo import api, fields, models

from .stock_warehouse import check_gln_field


class ResPartner(models.Model):
    _inherit = "res.partner"

    gln = fields.Char("GLN", size=13, index=True, help="GS1 Global Location Number.")
    x12_account_ids = fields.One2many(
        "x12.supplier.account", "partner_id", "Account Numbers by Facility"
    )

    @api.constrains("gln")
    def _check_gln(self):
        check_gln_field(
            self.filtered(lambda p: p.is_company or not p.parent_id), self.env._("partner")
        )
