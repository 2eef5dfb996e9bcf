from odoo import fields, models


class X12SupplierAccount(models.Model):
    """The account number a supplier knows one of our facilities by (REF*11 of an 850)."""

    _name = "x12.supplier.account"
    _description = "Supplier Account Number per Facility"
    _order = "partner_id, warehouse_id"
    _rec_name = "account_number"

    partner_id = fields.Many2one(
        "res.partner", "Supplier", required=True, ondelete="cascade", index=True
    )
    warehouse_id = fields.Many2one("stock.warehouse", "Facility", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="warehouse_id.company_id", store=True)
    account_number = fields.Char(required=True)

    _sql_constraints = [
        (
            "partner_warehouse_unique",
            "UNIQUE(partner_id, warehouse_id)",
            "A supplier has one account number per facility.",
        )
    ]
