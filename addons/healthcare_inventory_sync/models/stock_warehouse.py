from markupsafe import Markup

from odoo import api, fields, models, tools

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

    sync_state_ids = fields.One2many("healthcare.facility.sync.state", "warehouse_id")
    sync_last_message_at = fields.Datetime(
        "Last Message",
        compute="_compute_sync_health",
        help="When a partner last sent a message for this facility (empty: never).",
    )
    sync_status = fields.Selection(
        [
            ("never", "Never Reported"),
            ("ok", "Reporting"),
            ("silent", "Silent"),
            ("unwatched", "Not Watched"),
        ],
        compute="_compute_sync_health",
        search="_search_sync_status",
        help="Never Reported: no message ever; Silent: none for longer than the expected "
        "interval; Not Watched: no interval set.",
    )

    _sql_constraints = [
        (
            "facility_code_company_unique",
            "UNIQUE(facility_code, company_id)",
            "A facility code is unique per company.",
        ),
    ]

    @api.depends("sync_state_ids.last_message_at", "sync_interval_minutes")
    def _compute_sync_health(self):
        now = fields.Datetime.now()
        for warehouse in self:
            # sync states are read as superuser: Sync Health shows every facility the user
            # sees, with the last message of any partner
            last = max(warehouse.sudo().sync_state_ids.mapped("last_message_at") or [False])
            warehouse.sync_last_message_at = last or False
            warehouse.sync_status = warehouse._sync_status(last, now)

    def _sync_status(self, last, now):
        self.ensure_one()
        if not last:
            return "never"
        if not self.sync_interval_minutes:
            return "unwatched"
        silent = (now - last).total_seconds() > self.sync_interval_minutes * 60
        return "silent" if silent else "ok"

    def _search_sync_status(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise NotImplementedError(operator)
        facilities = self.search([("facility_code", "!=", False)])
        wanted = {value} if isinstance(value, str) else set(value)
        ids = facilities.filtered(lambda w: w.sync_status in wanted).ids
        return [("id", "in" if operator in ("=", "in") else "not in", ids)]

    @api.model_create_multi
    def create(self, vals_list):
        warehouses = super().create(vals_list)
        warehouses.filtered("facility_code")._set_fefo_removal()
        if warehouses.filtered("facility_code"):
            # the gateway caches the facility codes of each company and partner
            self.env.registry.clear_cache()
        return warehouses

    def write(self, vals):
        res = super().write(vals)
        if vals.get("facility_code"):
            self._set_fefo_removal()
        if {"facility_code", "company_id", "active"} & set(vals):
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
    def _facility_by_code(self, code, company):
        """The facility of ``company`` (a record or an id) with this code; empty if none.

        Facility codes are unique per company only: the look-up is always inside one
        company, never across companies.
        """
        company_id = company.id if isinstance(company, models.BaseModel) else company
        if not code or not company_id:
            return self.browse()
        return self.sudo().search(
            [("facility_code", "=", code), ("company_id", "=", company_id)], limit=1
        )

    @api.model
    @tools.ormcache("company_id")
    def _company_facility_codes(self, company_id):
        """Facility codes of one company (cached for the gateway)."""
        return frozenset(
            self.sudo()
            .search([("company_id", "=", company_id), ("facility_code", "!=", False)])
            .mapped("facility_code")
        )

    def _notify_manager(self, summary, note, record):
        """An activity for the facility manager (or the stock managers) on ``record``."""
        self.ensure_one()
        users = (
            self.facility_manager_id
            or self.env.ref("stock.group_stock_manager").users.filtered(
                lambda u: self.company_id in u.company_ids
            )[:3]
        )
        # the note may carry partner text: escaped, never live markup
        body = Markup("<p>%s</p>") % note
        for user in users:
            record.sudo().activity_schedule(
                "mail.mail_activity_data_todo", user_id=user.id, summary=summary, note=body
            )
        record.sudo().message_post(body=Markup("<p>%s: %s</p>") % (summary, note))
