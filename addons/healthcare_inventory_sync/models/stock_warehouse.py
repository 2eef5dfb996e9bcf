from odoo import _, api, fields, models

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
    facility_manager_id = fields.Many2one(
        "res.users", "Facility Manager", help="Told at once of emergency transfer requests."
    )
    sync_interval_minutes = fields.Integer(
        "Expected Sync Interval (min)",
        help="Raise an alert when no message arrived for this long. 0: not watched.",
    )
    expiry_horizon_days = fields.Integer("Expiry Horizon (days)", default=90)
    min_shelf_life_days = fields.Integer(
        "Minimum Shelf Life at Receipt (days)",
        default=30,
        help="Lots received with less remaining shelf life are refused.",
    )

    _sql_constraints = [
        (
            "facility_code_company_unique",
            "UNIQUE(facility_code, company_id)",
            "A facility code is unique per company.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        warehouses = super().create(vals_list)
        warehouses.filtered("facility_code")._set_fefo_removal()
        return warehouses

    def write(self, vals):
        res = super().write(vals)
        if vals.get("facility_code"):
            self._set_fefo_removal()
        if "facility_code" in vals:
            self.env.registry.clear_cache()
        return res

    def _set_fefo_removal(self):
        """Healthcare stock leaves first-expiry-first-out."""
        fefo = self.env.ref("product_expiry.removal_fefo", raise_if_not_found=False)
        if fefo:
            self.lot_stock_id.filtered(lambda loc: not loc.removal_strategy_id).write(
                {"removal_strategy_id": fefo.id}
            )

    @api.model
    def _facility_by_code(self, code, company_id=None):
        domain = [("facility_code", "=", code)]
        if company_id:
            domain.append(("company_id", "=", company_id))
        return self.sudo().search(domain, limit=1)

    def _notify_manager(self, summary, note, record):
        """An activity for the facility manager (or the stock managers) on ``record``."""
        self.ensure_one()
        users = self.facility_manager_id or self.env.ref("stock.group_stock_manager").users[:3]
        for user in users:
            record.sudo().activity_schedule(
                "mail.mail_activity_data_todo", user_id=user.id, summary=summary, note=note
            )
        record.sudo().message_post(body=_("%(summary)s: %(note)s", summary=summary, note=note))
