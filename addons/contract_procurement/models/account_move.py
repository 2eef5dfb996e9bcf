from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare

from .. import guard
from .purchase_order import _digest

BILL_TYPES = ("in_invoice", "in_refund")
MATCH_OVERRIDE = "contract_procurement.group_match_override"

EXCEPTION_TYPES = [
    ("qty_not_received", "Billed more than received"),
    ("price_variance", "Billed price above order price"),
    ("duplicate_invoice", "Duplicate supplier invoice number"),
    ("no_order", "Bill without purchase order"),
]

BILL_PO_POLICIES = [
    ("required", "Order required"),
    ("threshold", "Order required above a threshold"),
    ("not_required", "No order required"),
]


class PurchaseMatchException(models.Model):
    """A reason a vendor bill does not match its order and receipt."""

    _name = "purchase.match.exception"
    _description = "Three-way Match Exception"
    _inherit = ["mail.thread", "mail.activity.mixin", "contract.procurement.guarded"]
    _order = "state, create_date, id"

    # the match computes exceptions and the override closes them: nobody edits them
    _guarded_fields = (
        "move_id",
        "move_line_id",
        "purchase_line_id",
        "exception_type",
        "description",
        "expected",
        "billed",
        "state",
    )

    move_id = fields.Many2one("account.move", "Bill", required=True, ondelete="cascade", index=True)
    move_line_id = fields.Many2one("account.move.line", "Bill Line", ondelete="cascade")
    purchase_line_id = fields.Many2one("purchase.order.line", "Order Line")
    purchase_id = fields.Many2one(related="purchase_line_id.order_id", store=True)
    partner_id = fields.Many2one(related="move_id.commercial_partner_id", store=True)
    company_id = fields.Many2one(related="move_id.company_id", store=True)
    exception_type = fields.Selection(EXCEPTION_TYPES, required=True, index=True)
    description = fields.Char(required=True)
    expected = fields.Float(digits="Product Price")
    billed = fields.Float(digits="Product Price")
    state = fields.Selection(
        [("open", "Open"), ("resolved", "Resolved"), ("overridden", "Overridden")],
        default="open",
        required=True,
        index=True,
        tracking=True,
    )
    age_days = fields.Integer("Age (days)", compute="_compute_age_days")

    def _compute_age_days(self):
        now = fields.Datetime.now()
        for exception in self:
            exception.age_days = (now - (exception.create_date or now)).days

    def _match_key(self):
        self.ensure_one()
        return (self.exception_type, self.move_line_id.id, self.purchase_line_id.id)

    @api.model
    def _match_key_of(self, vals):
        return (
            vals["exception_type"],
            vals.get("move_line_id") or False,
            vals.get("purchase_line_id") or False,
        )

    def _responsible_user(self):
        """The buyer of the bill's order when a real person, else the configured one."""
        self.ensure_one()
        move = self.move_id
        orders = self.purchase_id or move.invoice_line_ids.purchase_line_id.order_id
        for order in orders:
            user = order._responsible_user()
            if user:
                return user
        return self.env["purchase.order"]._procurement_responsible(
            move.company_id,
            partner=move.commercial_partner_id,
            products=move.invoice_line_ids.product_id,
        )

    def _schedule_responsible_activity(self):
        """Every exception raised gets a to-do for a person: the buyer or the fallback."""
        for exception in self:
            user = exception._responsible_user()
            if not user:
                continue
            exception.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=user.id,
                summary=_("Match exception on %(bill)s", bill=exception.move_id.display_name),
                note=Markup("<p>%s</p>") % exception.description,
            )


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "contract.procurement.guarded"]

    _guarded_fields = ("match_override_by_id", "match_override_reason", "match_override_digest")
    _guarded_create_defaults = {
        "match_override_by_id": False,
        "match_override_reason": False,
        "match_override_digest": False,
    }

    match_exception_ids = fields.One2many("purchase.match.exception", "move_id", "Match Exceptions")
    match_state = fields.Selection(
        [
            ("none", "Not a Vendor Bill"),
            ("matched", "Matched"),
            ("exception", "Exceptions"),
            ("overridden", "Overridden"),
        ],
        compute="_compute_match_state",
        store=True,
        index=True,
    )
    match_override_by_id = fields.Many2one("res.users", readonly=True, copy=False, tracking=True)
    match_override_reason = fields.Text(readonly=True, copy=False)
    match_override_digest = fields.Char(readonly=True, copy=False)

    @api.depends(
        "match_exception_ids.state",
        "move_type",
        "match_override_by_id",
        "match_override_digest",
        "invoice_line_ids.quantity",
        "invoice_line_ids.price_unit",
        "invoice_line_ids.discount",
        "invoice_line_ids.product_id",
        "invoice_line_ids.product_uom_id",
        "invoice_line_ids.purchase_line_id",
        "invoice_line_ids.tax_ids",
        "amount_total",
        "ref",
        "commercial_partner_id",
        "currency_id",
    )
    def _compute_match_state(self):
        for move in self:
            states = set(move.match_exception_ids.mapped("state"))
            if move.move_type not in BILL_TYPES:
                move.match_state = "none"
            elif "open" in states:
                move.match_state = "overridden" if move._match_override_holds() else "exception"
            elif "overridden" in states:
                # posted over its exceptions: it stays "Overridden", never "Matched"
                move.match_state = "overridden"
            else:
                move.match_state = "matched"

    @api.model_create_multi
    def create(self, vals_list):
        moves = super().create(vals_list)
        moves._rematch_after_change()
        return moves

    def write(self, vals):
        if vals.get("state") == "posted" and not guard.on_private_path():
            # posting is _post's alone: it runs the three-way match first
            bills = self.filtered(lambda m: m.move_type in BILL_TYPES and m.state != "posted")
            if bills:
                raise AccessError(
                    _("Vendor bills are posted with Confirm, which runs the three-way match.")
                )
        result = super().write(vals)
        if {"invoice_line_ids", "line_ids", "ref", "partner_id", "journal_id"} & set(vals):
            self._rematch_after_change()
        return result

    def _rematch_after_change(self):
        """Keep the match of draft bills current: those with order lines, or already
        carrying exceptions, re-match (bills without either match when confirmed)."""
        bills = self.filtered(
            lambda m: (
                m.move_type in BILL_TYPES
                and m.state == "draft"
                and (m.invoice_line_ids.purchase_line_id or m.match_exception_ids)
            )
        )
        if bills:
            bills._run_three_way_match()

    @api.model
    def _rematch_bills_of_order_lines(self, order_lines):
        """Re-match the draft bills of ``order_lines`` (a receipt or an order changed).

        The caller's own change (a receipt, an order edit) has passed its access checks;
        the bills are read with sudo because a storekeeper need not read bills, and only
        the match, not the caller, writes to them.
        """
        if not order_lines:
            return
        bills = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("purchase_line_id", "in", order_lines.ids),
                    ("move_id.state", "=", "draft"),
                    ("move_id.move_type", "in", BILL_TYPES),
                ]
            )
            .move_id
        )
        bills._run_three_way_match()

    def action_run_match(self):
        """Recompute the three-way match of draft bills (Billing)."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise AccessError(_("Only Billing users run the three-way match."))
        self._run_three_way_match()
        return True

    def _match_digest(self):
        """What a match override covers: the bill's partner, currency, total and lines."""
        self.ensure_one()
        return _digest(
            [
                self.move_type,
                self.commercial_partner_id.id,
                self.currency_id.id,
                self.ref or "",
                self.amount_total,
                [
                    [
                        line.id,
                        line.product_id.id,
                        line.quantity,
                        line.price_unit,
                        line.discount,
                        line.product_uom_id.id,
                        line.purchase_line_id.id,
                        sorted(line.tax_ids.ids),
                    ]
                    for line in self.invoice_line_ids.sorted("id")
                ],
            ]
        )

    def _match_override_holds(self):
        """An override covers the bill exactly as it was when overridden."""
        self.ensure_one()
        return bool(self.match_override_by_id) and (
            self.match_override_digest == self._match_digest()
        )

    def _check_match_allows_posting(self):
        """Refuse bills with open three-way match exceptions and no valid override."""
        blocked = self.filtered(lambda m: m.match_state == "exception")
        if blocked:
            raise UserError(
                _(
                    "%(bills)s cannot be posted: open three-way match exceptions (%(types)s). "
                    "Resolve them, or a Finance Manager overrides with a written reason.",
                    bills=", ".join(blocked.mapped("display_name")),
                    types=", ".join(
                        sorted(
                            set(
                                blocked.match_exception_ids.filtered(
                                    lambda e: e.state == "open"
                                ).mapped("description")
                            )
                        )
                    ),
                )
            )

    def _match_tolerances(self):
        company = self.company_id
        return (
            company.match_qty_tolerance_pct,
            company.match_price_tolerance_pct,
            company.match_price_tolerance_abs,
        )

    def _run_three_way_match(self):
        """(Re)compute the match exceptions of draft vendor bills.

        An open exception still found is updated in place (its activity stays); one no
        longer found is resolved; a new one is raised with an activity for its responsible.
        """
        Exception_ = self.env["purchase.match.exception"].sudo()
        for move in self.filtered(lambda m: m.state == "draft" and m.move_type in BILL_TYPES):
            found = move._match_header_exceptions() + move._match_line_exceptions()
            open_ = {
                exception._match_key(): exception
                for exception in move.match_exception_ids.sudo().filtered(
                    lambda e: e.state == "open"
                )
            }
            new_vals = []
            for vals in found:
                key = Exception_._match_key_of(vals)
                current = open_.pop(key, None)
                if current is None:
                    new_vals.append(vals)
                    continue
                changes = {
                    name: vals.get(name, 0.0)
                    for name in ("description", "expected", "billed")
                    if current[name] != vals.get(name, 0.0)
                }
                if changes:
                    with guard.guarded_write():
                        current.write(changes)
            with guard.guarded_write():
                Exception_.concat(*open_.values()).write({"state": "resolved"})
                created = Exception_.create(new_vals)
            created._schedule_responsible_activity()

    def _match_header_exceptions(self):
        self.ensure_one()
        found = []
        if self.ref:
            duplicate = self.search(
                [
                    ("id", "!=", self.id),
                    ("move_type", "=", self.move_type),
                    ("company_id", "=", self.company_id.id),
                    ("commercial_partner_id", "=", self.commercial_partner_id.id),
                    ("ref", "=", self.ref),
                    ("state", "!=", "cancel"),
                ],
                limit=1,
            )
            if duplicate:
                found.append(
                    {
                        "move_id": self.id,
                        "exception_type": "duplicate_invoice",
                        "description": _(
                            "Invoice number %(ref)s already on %(other)s",
                            ref=self.ref,
                            other=duplicate.display_name,
                        ),
                    }
                )
        product_lines = self.invoice_line_ids.filtered(lambda rec: rec.display_type == "product")
        if product_lines and not product_lines.purchase_line_id:
            description = self._no_order_exception_description()
            if description:
                found.append(
                    {"move_id": self.id, "exception_type": "no_order", "description": description}
                )
        return found

    def _bill_po_policy(self):
        """The policy for bills without an order, and its threshold: the vendor's, else
        the journal's, else the strictest of the lines' product categories; a category
        without one, like a line without a category, requires an order (the default)."""
        self.ensure_one()
        # the policy fields are the override group's; every caller of the match reads them
        vendor = self.commercial_partner_id.sudo()
        journal = self.journal_id.sudo()
        for source in (vendor, journal):
            if source.bill_po_policy:
                return source.bill_po_policy, source.bill_po_threshold
        lines = self.invoice_line_ids.filtered(lambda rec: rec.display_type == "product")
        categories = lines.product_id.categ_id.sudo()
        if not lines or any(not line.product_id for line in lines):
            return "required", 0.0
        if any(not category.bill_po_policy for category in categories):
            return "required", 0.0
        rank = {"required": 0, "threshold": 1, "not_required": 2}
        strictest = min(categories, key=lambda c: (rank[c.bill_po_policy], c.bill_po_threshold))
        return strictest.bill_po_policy, strictest.bill_po_threshold

    def _no_order_exception_description(self):
        """Why this bill without an order is an exception, or empty when its policy lets it."""
        self.ensure_one()
        policy, threshold = self._bill_po_policy()
        if policy == "not_required":
            return ""
        if policy == "threshold":
            if float_compare(self.amount_untaxed, threshold, precision_digits=2) <= 0:
                return ""
            return _(
                "No purchase order behind this bill, and its untaxed amount %(amount)s is "
                "above the %(threshold)s allowed without one",
                amount=self.amount_untaxed,
                threshold=threshold,
            )
        return _("No purchase order behind this bill")

    def _match_line_exceptions(self):
        self.ensure_one()
        qty_pct, price_pct, price_abs = self._match_tolerances()
        found = []
        for line in self.invoice_line_ids.filtered("purchase_line_id"):
            order_line = line.purchase_line_id
            rounding = order_line.product_uom.rounding
            other_billed = sum(
                other.quantity
                for other in order_line.invoice_lines
                if other.move_id != self and other.move_id.state == "posted"
            )
            billed = other_billed + line.product_uom_id._compute_quantity(
                line.quantity, order_line.product_uom
            )
            allowed = order_line.qty_received * (1 + qty_pct / 100.0)
            if float_compare(billed, allowed, precision_rounding=rounding) > 0:
                found.append(
                    {
                        "move_id": self.id,
                        "move_line_id": line.id,
                        "purchase_line_id": order_line.id,
                        "exception_type": "qty_not_received",
                        "expected": order_line.qty_received,
                        "billed": billed,
                        "description": _(
                            "%(product)s: %(billed)g billed, %(received)g received",
                            product=line.product_id.display_name,
                            billed=billed,
                            received=order_line.qty_received,
                        ),
                    }
                )
            limit = max(
                order_line.price_unit * (1 + price_pct / 100.0), order_line.price_unit + price_abs
            )
            if float_compare(line.price_unit, limit, precision_digits=6) > 0:
                found.append(
                    {
                        "move_id": self.id,
                        "move_line_id": line.id,
                        "purchase_line_id": order_line.id,
                        "exception_type": "price_variance",
                        "expected": order_line.price_unit,
                        "billed": line.price_unit,
                        "description": _(
                            "%(product)s: billed at %(billed)s, ordered at %(ordered)s",
                            product=line.product_id.display_name,
                            billed=line.price_unit,
                            ordered=order_line.price_unit,
                        ),
                    }
                )
        return found

    def _override_match(self, reason):
        """Finance Manager only, with a written reason, on the bill as it is now; audited."""
        if not self.env.user.has_group(MATCH_OVERRIDE):
            raise AccessError(_("Only a Finance Manager may post a bill with match exceptions."))
        if not (reason or "").strip():
            raise UserError(_("Write the reason for posting despite the exceptions."))
        for move in self:
            if move.state != "draft" or move.move_type not in BILL_TYPES:
                raise UserError(_("Only draft vendor bills are overridden."))
            # the override covers the exceptions of the bill exactly as it is now
            move._run_three_way_match()
            with guard.guarded_write():
                move.write(
                    {
                        "match_override_by_id": self.env.uid,
                        "match_override_reason": reason,
                        "match_override_digest": move._match_digest(),
                    }
                )
            open_exceptions = move.match_exception_ids.filtered(lambda e: e.state == "open")
            self.env["integration.audit.event"].sudo()._log(
                "manual_action",
                _("Three-way match overridden"),
                records=move,
                details={"reason": reason, "exceptions": open_exceptions.mapped("description")},
            )

    def _post(self, soft=True):
        # every posting path (Confirm, the auto-post cron, code) comes through here
        bills = self.filtered(lambda m: m.move_type in BILL_TYPES and m.state == "draft")
        bills._run_three_way_match()
        bills._check_match_allows_posting()
        with guard.guarded_write():
            posted = super()._post(soft=soft)
            # exceptions overridden at posting time are closed as such
            posted.filtered("match_override_by_id").match_exception_ids.filtered(
                lambda e: e.state == "open"
            ).sudo().write({"state": "overridden"})
        return posted

    def button_draft(self):
        """Reset to draft voids a match override: a new post needs a new decision."""
        result = super().button_draft()
        overridden = self.filtered("match_override_by_id")
        if overridden:
            with guard.guarded_write():
                overridden.write(
                    {
                        "match_override_by_id": False,
                        "match_override_reason": False,
                        "match_override_digest": False,
                    }
                )
                overridden.match_exception_ids.filtered(
                    lambda e: e.state == "overridden"
                ).sudo().write({"state": "open"})
            for move in overridden:
                self.env["integration.audit.event"].sudo()._log(
                    "manual_action",
                    _("Three-way match override voided: bill reset to draft"),
                    records=move,
                )
        return result


class ResCompany(models.Model):
    _inherit = "res.company"

    match_qty_tolerance_pct = fields.Float("Match Quantity Tolerance (%)")
    match_price_tolerance_pct = fields.Float("Match Price Tolerance (%)")
    match_price_tolerance_abs = fields.Float("Match Price Tolerance (amount)")
    procurement_fallback_group_id = fields.Many2one(
        "res.groups",
        "Procurement Fallback Group",
        help="When no vendor, category or facility buyer is set, the first member of this "
        "group answers for purchase requests and exceptions (empty: Procurement Manager).",
    )


class PurchaseMatchOverride(models.TransientModel):
    _name = "purchase.match.override"
    _description = "Post Despite Match Exceptions"

    move_id = fields.Many2one("account.move", required=True)
    reason = fields.Text(required=True)

    def action_override_and_post(self):
        """Override the match of the bill with the reason given, then post it."""
        self.ensure_one()
        if not self.env.user.has_group(MATCH_OVERRIDE):
            raise AccessError(_("Only a Finance Manager may post a bill with match exceptions."))
        self.move_id._override_match(self.reason)
        self.move_id.action_post()
        return {"type": "ir.actions.act_window_close"}
