from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .. import contract_consumption, guard

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
# once submitted, a change of these (what was approved: supplier, company, currency,
# facilities, validity, lines and prices) sends the contract back to review
REVIEWED_FIELDS = {
    "partner_id",
    "company_id",
    "currency_id",
    "warehouse_ids",
    "date_start",
    "date_end",
    "line_ids",
    "ceiling_amount",
}
CLOSED_STATES = ("expired", "terminated")
# order and bill states that consume a contract's ceiling
COMMITTED_ORDER_STATES = ("purchase", "done")
# who sees what a contract is worth: buyers, and the AP side that pays against it
CONSUMPTION_READERS = "purchase.group_purchase_user,account.group_account_invoice"
PURCHASE_USER = "purchase.group_purchase_user"
PROCUREMENT_MANAGER = "contract_procurement.group_procurement_manager"


class PurchaseContract(models.Model):
    """A negotiated supplier contract: prices that purchase orders must honour."""

    _name = "purchase.contract"
    _description = "Supplier Contract"
    _inherit = ["mail.thread", "mail.activity.mixin", "contract.procurement.guarded"]
    _order = "date_start desc, id desc"

    _guarded_fields = (
        "state",
        "submitted_by_id",
        "approved_by_id",
        "platform_approved",
        "renewal_notified",
    )
    _guarded_create_defaults = {
        "state": "draft",
        "submitted_by_id": False,
        "approved_by_id": False,
        "platform_approved": False,
        "renewal_notified": False,
    }

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
        CONTRACT_STATES,
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
        copy=False,
    )
    line_ids = fields.One2many("purchase.contract.line", "contract_id", "Lines", copy=True)
    submitted_by_id = fields.Many2one("res.users", readonly=True, copy=False, tracking=True)
    approved_by_id = fields.Many2one("res.users", readonly=True, copy=False, tracking=True)
    platform_approved = fields.Boolean(
        readonly=True,
        copy=False,
        tracking=True,
        help="Reviewed and approved on the contract platform (contract.upsert message).",
    )
    renewal_notified = fields.Boolean(readonly=True, copy=False)
    document_ids = fields.Many2many("ir.attachment", string="Documents")
    ceiling_amount = fields.Monetary(
        "Ceiling",
        currency_field="currency_id",
        tracking=True,
        help="The most the contract may be worth over its term, in its currency (0: no "
        "ceiling). Part of the approved terms: changing it sends the contract to review.",
    )
    committed_amount = fields.Monetary(
        "Committed",
        currency_field="currency_id",
        compute="_compute_consumption",
        groups=CONSUMPTION_READERS,
        help="Untaxed value of the confirmed order lines priced by this contract, in the "
        "contract's currency at each order's date.",
    )
    invoiced_amount = fields.Monetary(
        "Invoiced",
        currency_field="currency_id",
        compute="_compute_consumption",
        groups=CONSUMPTION_READERS,
        help="Untaxed value of the posted vendor bill lines on those order lines, net of "
        "refunds, in the contract's currency at each bill's date.",
    )
    remaining_amount = fields.Monetary(
        "Remaining",
        currency_field="currency_id",
        compute="_compute_consumption",
        groups=CONSUMPTION_READERS,
        help="Ceiling minus the larger of committed and invoiced; negative when overrun.",
    )
    consumption_pct = fields.Float(
        "Consumed (%)",
        compute="_compute_consumption",
        groups=CONSUMPTION_READERS,
        digits=(16, 1),
    )
    over_ceiling = fields.Boolean(compute="_compute_consumption", groups=CONSUMPTION_READERS)

    _sql_constraints = [
        (
            "dates_check",
            "CHECK(date_end IS NULL OR date_end >= date_start)",
            "A contract cannot end before it starts.",
        ),
    ]

    def _compute_consumption(self):
        committed = self._committed_amounts()
        invoiced = self._invoiced_amounts()
        for contract in self:
            figures = contract_consumption.consumption(
                contract.ceiling_amount,
                committed.get(contract.id, 0.0),
                invoiced.get(contract.id, 0.0),
            )
            contract.committed_amount = committed.get(contract.id, 0.0)
            contract.invoiced_amount = invoiced.get(contract.id, 0.0)
            contract.remaining_amount = figures.remaining
            contract.consumption_pct = figures.percent
            contract.over_ceiling = figures.over_ceiling

    def _consumption_order_lines(self):
        """The confirmed order lines priced by these contracts, in each contract's company.

        Read with sudo after the caller's own read access to the contracts is checked: an
        AP clerk sees what a contract is worth without reading every order line.
        """
        contracts = self.filtered("id")
        if not contracts:
            return self.env["purchase.order.line"]
        contracts.check_access("read")
        return (
            self.env["purchase.order.line"]
            .sudo()
            .search(
                [
                    ("contract_line_id.contract_id", "in", contracts.ids),
                    ("order_id.state", "in", COMMITTED_ORDER_STATES),
                ]
            )
            .filtered(lambda line: line.company_id == line.contract_line_id.contract_id.company_id)
        )

    def _committed_amounts(self):
        """Contract id -> committed value in the contract's currency."""
        amounts = {}
        for line in self._consumption_order_lines():
            contract = line.contract_line_id.contract_id
            amounts[contract.id] = amounts.get(contract.id, 0.0) + contract._to_contract_currency(
                line.price_subtotal, line.currency_id, line.order_id.date_order
            )
        return amounts

    def _invoiced_amounts(self):
        """Contract id -> invoiced value (posted bills net of refunds), contract currency."""
        amounts = {}
        order_lines = self._consumption_order_lines()
        for bill_line in order_lines.invoice_lines.filtered(
            lambda rec: rec.parent_state == "posted" and rec.display_type == "product"
        ):
            contract = bill_line.purchase_line_id.contract_line_id.contract_id
            sign = -1 if bill_line.move_id.move_type == "in_refund" else 1
            amounts[contract.id] = amounts.get(contract.id, 0.0) + sign * (
                contract._to_contract_currency(
                    bill_line.price_subtotal,
                    bill_line.currency_id,
                    bill_line.move_id.invoice_date or bill_line.date,
                )
            )
        return amounts

    def _to_contract_currency(self, amount, currency, on_date):
        self.ensure_one()
        if not currency or currency == self.currency_id:
            return amount
        return currency._convert(
            amount,
            self.currency_id,
            self.company_id,
            fields.Date.to_date(on_date) or fields.Date.context_today(self),
        )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("purchase.contract") or _("New")
        return super().create(vals_list)

    def write(self, vals):
        result = super().write(vals)
        if REVIEWED_FIELDS & set(vals):
            self._reopen_for_review()
        return result

    # ------------------------------------------------------------------
    # Lifecycle: draft -> review -> approved -> active -> suspended/expired/terminated.
    # Public actions check the caller's group and the segregation rule, then write
    # through the private path (_transition); crons and message handlers call the
    # private steps (_activate, _suspend, ...) directly.
    # ------------------------------------------------------------------

    def _check_group(self, xmlid, message):
        if not self.env.user.has_group(xmlid):
            raise AccessError(message)

    def action_submit(self):
        """Send draft contracts to review (Purchase User); the submitter cannot approve."""
        self._check_group(PURCHASE_USER, _("Only a Purchase User submits contracts."))
        if any(not contract.line_ids for contract in self):
            raise UserError(_("A contract needs at least one line before review."))
        self._transition(("draft",), "review", {"submitted_by_id": self.env.uid})
        return True

    def action_approve(self):
        """Approve a contract in review: a Procurement Manager other than the submitter."""
        self._check_group(PROCUREMENT_MANAGER, _("Only a Procurement Manager approves contracts."))
        for contract in self:
            if contract.submitted_by_id == self.env.user:
                raise UserError(
                    _("You submitted %s for review; another person must approve it.", contract.name)
                )
        self._transition(("review",), "approved", {"approved_by_id": self.env.uid})
        self.filtered(lambda c: c.date_start <= fields.Date.context_today(c))._activate()
        return True

    def action_reject(self):
        """Send a contract in review back to draft (Procurement Manager)."""
        self._check_group(
            PROCUREMENT_MANAGER, _("Only a Procurement Manager sends back contracts.")
        )
        self._transition(("review",), "draft", {"submitted_by_id": False})
        return True

    def action_activate(self):
        """Activate an approved or suspended contract (Procurement Manager)."""
        self._check_group(PROCUREMENT_MANAGER, _("Only a Procurement Manager activates contracts."))
        self._activate()
        return True

    def action_suspend(self):
        """Suspend an active contract: its prices stop applying (Procurement Manager)."""
        self._check_group(PROCUREMENT_MANAGER, _("Only a Procurement Manager suspends contracts."))
        self._suspend()
        return True

    def action_terminate(self):
        """End a contract for good (Procurement Manager)."""
        self._check_group(
            PROCUREMENT_MANAGER, _("Only a Procurement Manager terminates contracts.")
        )
        self._terminate()
        return True

    def action_expire(self):
        """Expire a contract before the cron does (Procurement Manager)."""
        self._check_group(PROCUREMENT_MANAGER, _("Only a Procurement Manager expires contracts."))
        self._expire()
        return True

    def _activate(self):
        self._check_approval_holds()
        self._transition(("approved", "suspended"), "active")

    def _suspend(self):
        self._transition(("active",), "suspended")

    def _terminate(self):
        self._transition(("draft", "review", "approved", "active", "suspended"), "terminated")

    def _expire(self):
        self._transition(("active", "suspended", "approved"), "expired")

    def _check_approval_holds(self):
        """Four eyes: approved by the platform, or by a Procurement Manager who did not
        submit it and still holds the group."""
        for contract in self:
            if contract.platform_approved:
                continue
            approver = contract.approved_by_id
            if (
                not approver
                or approver == contract.submitted_by_id
                or not approver.has_group(PROCUREMENT_MANAGER)
            ):
                raise UserError(
                    _(
                        "Contract %s has no valid approval (a Procurement Manager other than "
                        "the submitter): submit it for review again.",
                        contract.name,
                    )
                )

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
            with guard.guarded_write():
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

    def _reopen_for_review(self):
        """Terms (lines, prices, validity, supplier...) changed after submission: the
        approval no longer covers the contract. Back to review, submitted by whoever changed
        it; its vendor prices are withdrawn and come back only when it is active again."""
        submitted = self.filtered(lambda c: c.state != "draft")
        closed = submitted.filtered(lambda c: c.state in CLOSED_STATES)
        if closed:
            raise UserError(
                _(
                    "%s ended: its lines and prices can no longer change.",
                    ", ".join(closed.mapped("name")),
                )
            )
        for contract in submitted:
            previous = contract.state
            with guard.guarded_write():
                contract.write(
                    {
                        "state": "review",
                        "submitted_by_id": self.env.uid,
                        "approved_by_id": False,
                        "platform_approved": False,
                    }
                )
            contract._sync_supplier_prices()
            self.env["integration.audit.event"].sudo()._log(
                "manual_action",
                _(
                    "Contract %(name)s changed after submission: %(old)s -> review",
                    name=contract.name,
                    old=previous,
                ),
                records=contract,
                details={"from": previous, "to": "review", "reason": "terms changed"},
            )

    @api.model
    def _demo_set_state(self, contract_ids, state):
        """Demo data only: put contracts in a state without the workflow."""
        contracts = self.browse(contract_ids)
        with guard.guarded_write():
            contracts.write({"state": state, "platform_approved": state not in ("draft", "review")})
        contracts._sync_supplier_prices()

    @api.model
    def _cron_lifecycle(self):
        """Activate on the start date, expire after the end date, remind before it."""
        today = fields.Date.context_today(self)
        for contract in self.search([("state", "=", "approved"), ("date_start", "<=", today)]):
            try:
                with self.env.cr.savepoint():
                    contract._activate()
            except UserError:
                # an approval that no longer holds waits for a person; the others go on
                continue
        self.search(
            [("state", "in", ("active", "suspended", "approved")), ("date_end", "<", today)]
        )._expire()
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
            # contracts made by partner messages are OdooBot's: route to a real person
            user = contract.partner_id.user_id or contract.create_uid
            Order = self.env["purchase.order"]
            if not Order._is_responsible_person(user):
                user = (
                    Order._procurement_responsible(
                        contract.company_id,
                        partner=contract.partner_id,
                        products=contract.line_ids.product_id,
                    )
                    or self.env.user
                )
            contract.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=user.id,
                date_deadline=contract.date_end,
                summary=_("Renew or replace contract %s", contract.name),
                note=Markup("<p>%s</p>")
                % _(
                    "Contract %(name)s with %(supplier)s ends on %(end)s.",
                    name=contract.name,
                    supplier=contract.partner_id.name,
                    end=contract.date_end,
                ),
            )
            with guard.guarded_write():
                contract.renewal_notified = True

    # ------------------------------------------------------------------
    # Pricing
    # ------------------------------------------------------------------

    def _sync_supplier_prices(self):
        """Active contracts are Odoo vendor prices (effective-dated); others are not."""
        Supplierinfo = self.env["product.supplierinfo"].sudo()
        for contract in self:
            existing = Supplierinfo.search([("contract_line_id", "in", contract.line_ids.ids)])
            with guard.guarded_write():
                existing.unlink()
                if contract.state in PRICED_STATES:
                    Supplierinfo.create(
                        [
                            vals
                            for line in contract.line_ids
                            for vals in line._prepare_supplierinfo_vals()
                        ]
                    )

    @api.model
    def _find_line(self, product, partner=None, warehouse=None, on_date=None, company=None):
        """The contract line that prices ``product``.

        Rule: active contracts of the company (the facility's, else the current one)
        covering the date (and the facility, when the contract names facilities); a
        facility-specific contract wins over a group-wide one; then the newest (latest
        start, then highest id).
        """
        on_date = on_date or fields.Date.context_today(self)
        company = company or (warehouse and warehouse.company_id) or self.env.company
        domain = [
            ("product_id", "=", product.id),
            ("contract_id.company_id", "=", company.id),
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
