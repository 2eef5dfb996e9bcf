from odoo import fields, models

FACILITY_TYPES = [
    ("central_store", "Central Store"),
    ("hospital", "Hospital"),
    ("clinic", "Clinic"),
    ("pharmacy", "Pharmacy"),
    ("laboratory", "Laboratory"),
    ("satellite", "Satellite"),
]


class StockWarehouse(models.Model):
    """A warehouse is a facility of the healthcare group."""

    _inherit = "stock.warehouse"

    facility_code = fields.Char(
        index=True, copy=False, help="The code partner systems use for this facility."
    )
    facility_type = fields.Selection(FACILITY_TYPES)

    _sql_constraints = [
        (
            "facility_code_company_unique",
            "UNIQUE(facility_code, company_id)",
            "A facility code is unique per company.",
        ),
    ]
