from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import guard
from .. import three_way_match as twm
from .purchase_order import _digest

BILL_TYPES = ("in_invoice", "in_refund")
MATCH_OVERRIDE = "contract_procurement.group_match_override"

EXCEPTION_TYPES = [
    ("qty_not_received", "Billed more than received"),
    ("price_variance", "Billed price above order price"),
    ("duplicate_invoice", "Duplicate supplier invoice number"),
    ("no_order", "Bill without purchase order"),
]

WAITING_FOR = [
    (twm.WAITING_RECEIPT, "Waiting for Receipt"),
    (twm.WAITING_APPROVAL, "Waiting for a Decision"),
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
        "waiting_for",
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
    waiting_for = fields.Selection(
        WAITING_FOR,
        default=twm.WAITING_APPROVAL,
        required=True,
        help="What clears it: the goods received (billed within the order, not yet "
        "received), or a person's decision (a corrected bill or a Finance Manager's override).",
    )
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

    # the match computes its state; a client writing it would post a bill past the match
    _guarded_fields = (
        "match_override_by_id",
        "match_override_reason",
        "match_override_digest",
        "match_state",
        "match_waiting_for",
    )
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
    match_waiting_for = fields.Selection(
        WAITING_FOR,
        "Blocked Until",
        compute="_compute_match_waiting_for",
        store=True,
        index=True,
        help="A draft bill Confirm refuses: it waits for the goods, or for a decision.",
    )
    match_block_message = fields.Html(
        "Why Blocked", compute="_compute_match_block_message", sanitize=False
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
            is_bill = move.move_type in BILL_TYPES
            states = move.match_exception_ids.mapped("state") if is_bill else []
            move.match_state = twm.bill_state(
                is_bill, states, "open" in states and move._match_override_holds()
            )

    @api.depends(
        "match_state", "state", "match_exception_ids.state", "match_exception_ids.waiting_for"
    )
    def _compute_match_waiting_for(self):
        for move in self:
            blocked = move.state == "draft" and move.match_state == twm.EXCEPTION
            open_ = move.match_exception_ids.filtered(lambda e: e.state == "open")
            move.match_waiting_for = (
                twm.waiting_for(
                    twm.Finding(e.exception_type, waiting_for=e.waiting_for) for e in open_
                )
                if blocked
                else False
            )

    @api.depends(
        "match_waiting_for", "match_exception_ids.state", "match_exception_ids.description"
    )
    def _compute_match_block_message(self):
        for move in self:
            move.match_block_message = (
                move._match_block_message() if move.match_waiting_for else False
            )

    def _match_block_message(self):
        """Why Confirm refuses the bill: each open exception, its line and its reason.

        Product names and invoice numbers come from suppliers' messages: they are escaped
        by the Markup templates, never inserted as markup.
        """
        self.ensure_one()
        open_ = self.match_exception_ids.filtered(lambda e: e.state == "open")
        types = dict(
            self.env["purchase.match.exception"]
            ._fields["exception_type"]
            ._description_selection(self.env)
        )
        items = Markup("").join(
            Markup("<li><strong>%s</strong>: %s</li>") % (types[e.exception_type], e.description)
            for e in open_
        )
        if self.match_waiting_for == twm.WAITING_RECEIPT:
            intro = _(
                "This bill cannot be confirmed yet: it bills goods not received. It is matched "
                "again when the receipt is validated."
            )
        else:
            intro = _(
                "This bill cannot be confirmed: correct it, or a Finance Manager overrides the "
                "match with a written reason."
            )
        return Markup("<p class='mb-1'>%s</p><ul class='mb-0'>%s</ul>") % (intro, items)

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
        return twm.Tolerances(
            qty_pct=company.match_qty_tolerance_pct,
            price_pct=company.match_price_tolerance_pct,
            price_abs=company.match_price_tolerance_abs,
        )

    def _run_three_way_match(self):
        """(Re)compute the match exceptions of draft vendor bills.

        The decisions are :mod:`three_way_match`'s: an open exception still found is updated
        in place (its activity stays); one no longer found is resolved; a new one is raised
        with an activity for its responsible.
        """
        Exception_ = self.env["purchase.match.exception"].sudo()
        for move in self.filtered(lambda m: m.state == "draft" and m.move_type in BILL_TYPES):
            findings = move._match_header_findings() + move._match_line_findings()
            open_ = {
                exception._match_key(): exception
                for exception in move.match_exception_ids.sudo().filtered(
                    lambda e: e.state == "open"
                )
            }
            changes = twm.plan(findings, open_)
            with guard.guarded_write():
                for finding in changes.update:
                    current = open_[finding.key]
                    vals = move._prepare_match_exception_vals(finding)
                    updated = {
                        name: vals[name]
                        for name in ("description", "expected", "billed", "waiting_for")
                        if current[name] != vals[name]
                    }
                    if updated:
                        current.write(updated)
                Exception_.concat(*(open_[key] for key in changes.resolve)).write(
                    {"state": "resolved"}
                )
                created = Exception_.create(
                    [move._prepare_match_exception_vals(finding) for finding in changes.create]
                )
            created._schedule_responsible_activity()

    def _prepare_match_exception_vals(self, finding):
        self.ensure_one()
        return {
            "move_id": self.id,
            "move_line_id": finding.bill_line_id or False,
            "purchase_line_id": finding.order_line_id or False,
            "exception_type": finding.kind,
            "expected": finding.expected,
            "billed": finding.billed,
            "waiting_for": finding.waiting_for,
            "description": self._match_finding_description(finding),
        }

    def _match_finding_description(self, finding):
        """The finding in words, for the exception list, the banner and the activity."""
        self.ensure_one()
        if finding.kind == twm.QTY_NOT_RECEIVED:
            return _(
                "%(product)s: %(billed)g billed, %(received)g received",
                product=finding.label,
                billed=finding.billed,
                received=finding.expected,
            )
        if finding.kind == twm.PRICE_VARIANCE:
            return _(
                "%(product)s: billed at %(billed)s, ordered at %(ordered)s",
                product=finding.label,
                billed=finding.billed,
                ordered=finding.expected,
            )
        if finding.kind == twm.DUPLICATE_INVOICE:
            return _(
                "Invoice number %(ref)s already on %(other)s", ref=self.ref, other=finding.label
            )
        if finding.expected or finding.billed:
            return _(
                "No purchase order behind this bill, and its untaxed amount %(amount)s is "
                "above the %(threshold)s allowed without one",
                amount=finding.billed,
                threshold=finding.expected,
            )
        return _("No purchase order behind this bill")

    def _match_header_findings(self):
        """Findings of the bill as a whole: a duplicate invoice number, no order behind it."""
        self.ensure_one()
        findings = []
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
            findings.append(twm.duplicate_finding(duplicate.display_name))
        product_lines = self.invoice_line_ids.filtered(lambda rec: rec.display_type == "product")
        if product_lines and not product_lines.purchase_line_id:
            policy, threshold = self._bill_po_policy()
            findings.append(twm.no_order_finding(policy, threshold, self.amount_untaxed))
        return [finding for finding in findings if finding]

    def _bill_po_policy(self):
        """The policy for bills without an order and its threshold, from the vendor, the
        journal and the lines' product categories (see ``resolve_bill_po_policy``)."""
        self.ensure_one()
        # the policy fields are the override group's; every caller of the match reads them
        vendor = self.commercial_partner_id.sudo()
        journal = self.journal_id.sudo()
        lines = self.invoice_line_ids.filtered(lambda rec: rec.display_type == "product")
        return twm.resolve_bill_po_policy(
            vendor=(vendor.bill_po_policy, vendor.bill_po_threshold),
            journal=(journal.bill_po_policy, journal.bill_po_threshold),
            categories=[
                (category.bill_po_policy, category.bill_po_threshold)
                for category in lines.product_id.categ_id.sudo()
            ],
            all_lines_categorised=all(line.product_id for line in lines),
        )

    def _match_line_findings(self):
        """Findings of the bill lines on an order: billed beyond receipt, above the price."""
        self.ensure_one()
        findings = []
        for result in twm.match_lines(self._prepare_match_bill_lines(), self._match_tolerances()):
            findings.extend(result.findings)
        return findings

    def _prepare_match_bill_lines(self):
        """The bill's lines on an order as :class:`three_way_match.BillLine`, quantities and
        prices in the order line's unit, refunds negative."""
        self.ensure_one()
        lines = self.invoice_line_ids.filtered("purchase_line_id")
        # other lines of this bill on the same order line bill it too: split lines add up
        # (grouped once: a 1,000-line bill compared every line with every other)
        by_order_line = lines.grouped("purchase_line_id")
        prepared = []
        for line in lines:
            order_line = line.purchase_line_id
            siblings = by_order_line[order_line] - line
            posted = order_line.invoice_lines.filtered(
                lambda rec: rec.move_id != self and rec.move_id.state == "posted"
            )
            prepared.append(
                twm.BillLine(
                    id=line.id,
                    order_line=twm.OrderLine(
                        id=order_line.id,
                        price_unit=order_line.price_unit,
                        ordered=order_line.product_qty,
                        received=order_line.qty_received,
                        rounding=order_line.product_uom.rounding,
                    ),
                    quantity=self._match_quantity(line),
                    price_unit=self._match_price(line),
                    billed_elsewhere=sum(
                        self._match_quantity(other) for other in posted | siblings
                    ),
                    label=line.product_id.display_name or line.name or "",
                )
            )
        return prepared

    @api.model
    def _match_quantity(self, line):
        """The line's quantity in its order line's unit; negative on a refund."""
        uom = line.purchase_line_id.product_uom
        quantity = line.quantity
        if line.product_uom_id and uom and line.product_uom_id != uom:
            quantity = line.product_uom_id._compute_quantity(quantity, uom)
        return -quantity if line.move_id.move_type == "in_refund" else quantity

    @api.model
    def _match_price(self, line):
        """The line's unit price per unit of its order line."""
        uom = line.purchase_line_id.product_uom
        if line.product_uom_id and uom and line.product_uom_id != uom:
            return line.product_uom_id._compute_price(line.price_unit, uom)
        return line.price_unit

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
