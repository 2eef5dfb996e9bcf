from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

CONTRACT_STATES = [
    ("draft", "Draft"),
    ("review", "In Review"),
    ("approved", "Approved"),
    ("active", "Active"),
    ("suspended", "Suspended"),
    ("expired", "Expired"),
    ("terminated", "Terminated"),
]
PRICED_STATES = ("active",)


class PurchaseContract(models.Model):
    """A negotiated supplier contract: prices that purchase orders must honour."""

    _name = "purchase.contract"
    _description = "Supplier Contract"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_start desc, id desc"

    name = fields.Char(
        "Number",
        required=True,
        copy=False,
        readonly=True,
        default=lambda self: _("New"),
        tracking=True,
    )
    external_ref = fields.Char(
        "Platform Reference",
        index=True,
        copy=False,
        help="The contract's ID on the contract platform.",
    )
    partner_id = fields.Many2one(
        "res.partner", "Supplier", required=True, tracking=True, index=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id
    )
    date_start = fields.Date("Start Date", required=True, tracking=True)
    date_end = fields.Date("End Date", tracking=True)
    warehouse_ids = fields.Many2many(
        "stock.warehouse", string="Facilities", help="Leave empty: the contract covers all."
    )
    state = fields.Selection(
        CONTRACT_STATES, default="draft", required=True, tracking=True, index=True, copy=False
    )
    line_ids = fields.One2many("purchase.contract.line", "contract_id", "Lines", copy=True)
    submitted_by_id = fields.Many2one("res.users", readonly=True, copy=False, tracking=True)
    approved_by_id = fields.Many2one("res.users", readonly=True, copy=False, tracking=True)
    renewal_notified = fields.Boolean(readonly=True, copy=False)
    document_ids = fields.Many2many("ir.attachment", string="Documents")

    _sql_constraints = [
        (
            "dates_check",
            "CHECK(date_end IS NULL OR date_end >= date_start)",
            "A contract cannot end before it starts.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("purchase.contract") or _("New")
        return super().create(vals_list)

    # ------------------------------------------------------------------
    # Lifecycle: draft -> review -> approved -> active -> suspended/expired/terminated
    # ------------------------------------------------------------------

    def _transition(self, allowed_from, new_state, vals=None):
        for contract in self:
            if contract.state not in allowed_from:
                raise UserError(
                    _(
                        "Contract %(name)s is %(state)s; it cannot become %(new)s.",
                        name=contract.name,
                        state=contract.state,
                        new=new_state,
                    )
                )
            previous = contract.state
            contract.write(dict(vals or {}, state=new_state))
            contract._sync_supplier_prices()
            self.env["integration.audit.event"].sudo()._log(
                "manual_action",
                _(
                    "Contract %(name)s: %(old)s -> %(new)s",
                    name=contract.name,
                    old=previous,
                    new=new_state,
                ),
                records=contract,
                details={"from": previous, "to": new_state},
            )

    def action_submit(self):
        if any(not contract.line_ids for contract in self):
            raise UserError(_("A contract needs at least one line before review."))
        self._transition(("draft",), "review", {"submitted_by_id": self.env.uid})

    def action_approve(self):
        """Approve a contract in review: a Procurement Manager other than the submitter."""
        if not self.env.user.has_group("contract_procurement.group_procurement_manager"):
            raise AccessError(_("Only a Procurement Manager approves contracts."))
        for contract in self:
            if contract.submitted_by_id == self.env.user:
                raise UserError(
                    _("You submitted %s for review; another person must approve it.", contract.name)
                )
        self._transition(("review",), "approved", {"approved_by_id": self.env.uid})
        self.filtered(lambda c: c.date_start <= fields.Date.context_today(c)).action_activate()

    def action_reject(self):
        self._transition(("review",), "draft", {"submitted_by_id": False})

    def action_activate(self):
        self._transition(("approved", "suspended"), "active")

    def action_suspend(self):
        self._transition(("active",), "suspended")

    def action_terminate(self):
        self._transition(("draft", "review", "approved", "active", "suspended"), "terminated")

    def action_expire(self):
        self._transition(("active", "suspended", "approved"), "expired")

    @api.model
    def _cron_lifecycle(self):
        """Activate on the start date, expire after the end date, remind before it."""
        today = fields.Date.context_today(self)
        self.search([("state", "=", "approved"), ("date_start", "<=", today)]).action_activate()
        self.search(
            [("state", "in", ("active", "suspended", "approved")), ("date_end", "<", today)]
        ).action_expire()
        notice = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("contract_procurement.renewal_notice_days", "60")
        )
        for contract in self.search(
            [
                ("state", "=", "active"),
                ("renewal_notified", "=", False),
                ("date_end", "!=", False),
                ("date_end", "<=", today + timedelta(days=notice)),
            ]
        ):
            user = contract.partner_id.user_id or contract.create_uid
            contract.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=user.id,
                date_deadline=contract.date_end,
                summary=_("Renew or replace contract %s", contract.name),
                note=_(
                    "Contract %(name)s with %(supplier)s ends on %(end)s.",
                    name=contract.name,
                    supplier=contract.partner_id.name,
                    end=contract.date_end,
                ),
            )
            contract.renewal_notified = True

    # ------------------------------------------------------------------
    # Pricing
    # ------------------------------------------------------------------

    def _sync_supplier_prices(self):
        """Active contracts are Odoo vendor prices (effective-dated); others are not."""
        Supplierinfo = self.env["product.supplierinfo"].sudo()
        for contract in self:
            existing = Supplierinfo.search([("contract_line_id", "in", contract.line_ids.ids)])
            if contract.state not in PRICED_STATES:
                existing.unlink()
                continue
            existing.unlink()
            Supplierinfo.create(
                [vals for line in contract.line_ids for vals in line._prepare_supplierinfo_vals()]
            )

    @api.model
    def _find_line(self, product, partner=None, warehouse=None, on_date=None):
        """The contract line that prices ``product``.

        Rule: active contracts covering the date (and the facility, when the
        contract names facilities); a facility-specific contract wins over a
        group-wide one; then the newest (latest start, then highest id).
        """
        on_date = on_date or fields.Date.context_today(self)
        domain = [
            ("product_id", "=", product.id),
            ("contract_id.state", "=", "active"),
            ("contract_id.date_start", "<=", on_date),
            "|",
            ("contract_id.date_end", "=", False),
            ("contract_id.date_end", ">=", on_date),
        ]
        if partner:
            domain.append(("contract_id.partner_id", "=", partner.commercial_partner_id.id))
        lines = self.env["purchase.contract.line"].sudo().search(domain)
        if warehouse:
            lines = lines.filtered(
                lambda line: (
                    not line.contract_id.warehouse_ids
                    or warehouse in line.contract_id.warehouse_ids
                )
            )
        else:
            lines = lines.filtered(lambda line: not line.contract_id.warehouse_ids)
        if not lines:
            return lines
        return lines.sorted(
            lambda line: (
                bool(line.contract_id.warehouse_ids),
                line.contract_id.date_start,
                line.contract_id.id,
            ),
            reverse=True,
        )[0]

    @api.constrains("state", "line_ids")
    def _check_lines_unique(self):
        for contract in self:
            products = contract.line_ids.product_id
            if len(products) != len(contract.line_ids):
                raise ValidationError(_("A product appears once per contract (use price breaks)."))
