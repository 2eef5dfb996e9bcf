from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..gln import gln_error


def check_gln_field(records, label):
    """Refuse a malformed GLN, and a GLN another record of the model already holds."""
    for record in records.filtered("gln"):
        error = gln_error(record.gln)
        if error:
            raise ValidationError(
                records.env._(
                    "%(record)s: GLN: %(reason)s", record=record.display_name, reason=error
                )
            )
        twin = records.sudo().search([("gln", "=", record.gln), ("id", "!=", record.id)], limit=1)
        if twin:
            raise ValidationError(
                records.env._(
                    "GLN %(gln)s already names %(label)s %(other)s",
                    gln=record.gln,
                    label=label,
                    other=twin.display_name,
                )
            )


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    gln = fields.Char(
        "GLN", size=13, index=True, help="GS1 Global Location Number: the ship-to of X12 orders."
    )

    @api.constrains("gln")
    def _check_gln(self):
        check_gln_field(self, self.env._("facility"))
