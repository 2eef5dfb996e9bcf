from odoo import api, fields, models

from .stock_warehouse import check_gln_field


class ResCompany(models.Model):
    _inherit = "res.company"

    gln = fields.Char("GLN", size=13, help="GS1 Global Location Number: the bill-to of X12 orders.")

    @api.constrains("gln")
    def _check_gln(self):
        check_gln_field(self, self.env._("company"))
