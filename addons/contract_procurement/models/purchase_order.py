import hashlib
import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare

from .. import guard

PROCUREMENT_MANAGER = "contract_procurement.group_procurement_manager"
# an order in these states binds the supplier; entering them (or "to approve", the step
# before) goes through button_confirm/button_approve, after the contract rules ran
CONFIRMED_STATES = ("purchase", "done")
GATED_STATES = ("to approve", "purchase", "done")
# order line fields whose change can change the three-way match of its draft bills
MATCHED_ORDER_LINE_FIELDS = {
    "qty_received",
    "qty_received_manual",
    "product_qty",
    "price_unit",
    "product_uom",
    "product_id",
}

OFF_CONTRACT_REASONS = [
    ("urgent", "Urgent clinical need"),
    ("stockout", "Contract supplier out of stock"),
    ("quality", "Quality or recall issue"),
    ("no_contract", "No suitable contract"),
    ("other", "Other"),
]


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    # purchase leaves the subtotal without aggregator: the compliance pivot and graph sum it
    price_subtotal = fields.Monetary(aggregator="sum")
    contract_line_id = fields.Many2one(
        "purchase.contract.line", compute="_compute_contract", store=True, readonly=True
    )
    contract_price = fields.Float(compute="_compute_contract", store=True, digits="Product Price")
    price_variance = fields.Float(
        compute="_compute_contract",
        store=True,
        digits="Product Price",
        help="Unit price minus contract price (positive: leakage).",
    )
    product_categ_id = fields.Many2one(
        related="product_id.categ_id", store=True, string="Product Category"
    )
    warehouse_id = fields.Many2one(
        related="order_id.picking_type_id.warehouse_id", store=True, string="Facility"
    )
    on_contract_amount = fields.Monetary(
        compute="_compute_contract_amounts",
        store=True,
        currency_field="currency_id",
        help="Untaxed amount bought on contract, at or under the contract price.",
    )
    off_contract_amount = fields.Monetary(
        compute="_compute_contract_amounts", store=True, currency_field="currency_id"
    )
    off_contract = fields.Boolean(
        compute="_compute_contract",
        store=True,
        help="Another supplier's contract covers this product, or "
        "the price is above the contract price beyond tolerance.",
    )

    def write(self, vals):
        result = super().write(vals)
        if MATCHED_ORDER_LINE_FIELDS & set(vals):
            # what was ordered or received changed: the draft bills of these lines re-match
            self.env["account.move"]._rematch_bills_of_order_lines(self)
        return result

    @api.depends("price_subtotal", "off_contract", "contract_line_id")
    def _compute_contract_amounts(self):
        for line in self:
            on_contract = bool(line.contract_line_id) and not line.off_contract
            line.on_contract_amount = line.price_subtotal if on_contract else 0.0
            line.off_contract_amount = line.price_subtotal if line.off_contract else 0.0

    @api.depends(
        "product_id",
        "partner_id",
        "price_unit",
        "product_qty",
        "order_id.date_order",
        "order_id.picking_type_id",
    )
    def _compute_contract(self):
        Contract = self.env["purchase.contract"]
        tolerance = float(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("contract_procurement.price_tolerance_pct", "0")
        )
        for line in self:
            vals = {
                "contract_line_id": False,
                "contract_price": 0.0,
                "price_variance": 0.0,
                "off_contract": False,
            }
            if line.product_id and line.order_id:
                warehouse = line.order_id.picking_type_id.warehouse_id
                on_date = fields.Date.to_date(line.order_id.date_order) or None
                company = line.order_id.company_id
                own = Contract._find_line(
                    line.product_id, line.partner_id, warehouse, on_date, company=company
                )
                if own:
                    price = own._price_for(line.product_qty)
                    vals.update(
                        contract_line_id=own.id,
                        contract_price=price,
                        price_variance=line.price_unit - price,
                    )
                    limit = price * (1 + tolerance / 100.0)
                    vals["off_contract"] = (
                        float_compare(line.price_unit, limit, precision_digits=6) > 0
                    )
                else:
                    other = Contract._find_line(
                        line.product_id, None, warehouse, on_date, company=company
                    )
                    vals["off_contract"] = bool(other)
            line.update(vals)


class PurchaseOrder(models.Model):
    _name = "purchase.order"
    _inherit = ["purchase.order", "contract.procurement.guarded"]

    # approvals, transmission and acknowledgement: written by their guarded methods only
    _guarded_fields = (
        "off_contract_approved_by_id",
        "off_contract_approval_digest",
        "approved_by_id",
        "approval_digest",
        "order_version",
        "ack_state",
        "ack_version",
        "ack_date",
        "ack_sent_date",
        "ack_latency_hours",
        "ack_discrepancies",
    )
    _guarded_create_defaults = {
        "off_contract_approved_by_id": False,
        "off_contract_approval_digest": False,
        "approved_by_id": False,
        "approval_digest": False,
        "order_version": 0,
        "ack_state": "not_sent",
        "ack_version": 0,
        "ack_date": False,
        "ack_sent_date": False,
        "ack_latency_hours": 0.0,
        "ack_discrepancies": False,
    }

    off_contract_reason = fields.Selection(OFF_CONTRACT_REASONS, tracking=True)
    off_contract_note = fields.Text()
    off_contract_approved_by_id = fields.Many2one(
        "res.users", readonly=True, copy=False, tracking=True
    )
    off_contract_approval_digest = fields.Char(readonly=True, copy=False)
    has_off_contract = fields.Boolean(compute="_compute_has_off_contract", store=True)

    @api.depends("order_line.off_contract")
    def _compute_has_off_contract(self):
        for order in self:
            order.has_off_contract = any(order.order_line.mapped("off_contract"))

    def action_approve_off_contract(self):
        """A Procurement Manager (not the order's buyer) accepts the off-contract lines as
        they are now, with the reason given; any later change to them voids the approval."""
        if not self.env.user.has_group(PROCUREMENT_MANAGER):
            raise AccessError(_("Only a Procurement Manager approves off-contract purchases."))
        for order in self:
            if order.state not in ("draft", "sent"):
                raise UserError(_("%s is no longer a draft to approve.", order.name))
            if not order.off_contract_reason:
                raise UserError(
                    _("%s: choose the reason for buying off contract first.", order.name)
                )
            order._check_approver_is_not_requester()
            with guard.guarded_write():
                order.write(
                    {
                        "off_contract_approved_by_id": self.env.uid,
                        "off_contract_approval_digest": order._off_contract_digest(),
                    }
                )
            self.env["integration.audit.event"].sudo()._log(
                "manual_action",
                _("Off-contract purchase approved"),
                records=order,
                details={
                    "reason": order.off_contract_reason,
                    "note": order.off_contract_note,
                    "lines": order.order_line.filtered("off_contract").ids,
                },
            )
        return True

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("state", "draft") in GATED_STATES for vals in vals_list):
            raise AccessError(
                _("A purchase order is created as a request for quotation, then confirmed.")
            )
        return super().create(vals_list)

    def write(self, vals):
        if "state" in vals:
            self._check_state_change(vals["state"])
        result = super().write(vals)
        if {"off_contract_reason", "off_contract_note", "partner_id", "user_id"} & set(vals):
            self._void_stale_approvals()
        return result

    def _check_state_change(self, state):
        """Confirming (or sending to approval) only through Odoo's confirm flow, for the
        orders whose contract rules just passed; Odoo's other transitions (sent, cancel,
        draft, lock/unlock of a confirmed order) are left as they are."""
        if state not in GATED_STATES:
            return
        refused = self.filtered(
            lambda o: o.state not in CONFIRMED_STATES and not guard.is_cleared(o)
        )
        if refused:
            raise AccessError(
                _(
                    "%(orders)s: an order is confirmed with Confirm Order (supplier status, "
                    "off-contract and approval checks), not by writing its state (state).",
                    orders=", ".join(refused.mapped("display_name")),
                )
            )

    def _check_approver_is_not_requester(self):
        """Four eyes: neither the order's creator nor its buyer (now) approves it."""
        self.ensure_one()
        if self.env.user in (self.create_uid | self.user_id):
            raise UserError(
                _(
                    "You created or buy %s; another person must approve it.",
                    self.name,
                )
            )

    def _off_contract_digest(self):
        """What an off-contract approval covers: the reason and the off-contract lines."""
        self.ensure_one()
        lines = self.order_line.filtered("off_contract").sorted("id")
        return _digest(
            [
                self.partner_id.id,
                self.user_id.id,
                self.off_contract_reason,
                self.off_contract_note or "",
                [
                    [ln.id, ln.product_id.id, ln.product_qty, ln.price_unit, ln.product_uom.id]
                    for ln in lines
                ],
            ]
        )

    def _off_contract_approval_holds(self):
        self.ensure_one()
        return bool(self.off_contract_approved_by_id) and (
            self.off_contract_approval_digest == self._off_contract_digest()
        )

    def _void_stale_approvals(self):
        """Approvals cover exactly what was approved: a changed order loses them."""
        for order in self.filtered(
            lambda o: (
                o.state in ("draft", "sent") and (o.off_contract_approved_by_id or o.approved_by_id)
            )
        ):
            vals = {}
            if order.off_contract_approved_by_id and not order._off_contract_approval_holds():
                vals.update(off_contract_approved_by_id=False, off_contract_approval_digest=False)
            if order.approved_by_id and not order._order_approval_holds():
                vals.update(approved_by_id=False, approval_digest=False)
            if vals:
                with guard.guarded_write():
                    order.write(vals)
                self.env["integration.audit.event"].sudo()._log(
                    "manual_action",
                    _("Approval voided: the order changed after it was approved"),
                    records=order,
                    details={"voided": sorted(vals)},
                )

    @api.model
    def _procurement_responsible(self, company, warehouse=None, partner=None, products=None):
        """The person who answers for a purchase: the vendor's buyer, the product category's
        buyer, the facility's buyer, else the first member of the company's fallback group.
        Never OdooBot, a portal user or an archived user; empty when nobody qualifies."""
        candidates = []
        if partner:
            candidates.append(partner.commercial_partner_id.buyer_id)
        for category in (products or self.env["product.product"]).categ_id:
            candidates.append(category.procurement_user_id)
        if warehouse:
            candidates.append(warehouse.procurement_user_id)
        group = company.procurement_fallback_group_id or self.env.ref(PROCUREMENT_MANAGER)
        for group_xmlid in (False, "purchase.group_purchase_manager"):
            members = (group if not group_xmlid else self.env.ref(group_xmlid)).sudo().users
            candidates.extend(members.filtered(lambda u: company in u.company_ids).sorted("id"))
        for user in candidates:
            if self._is_responsible_person(user):
                return user
        return self.env["res.users"]

    @api.model
    def _is_responsible_person(self, user):
        return bool(
            user and user.active and not user.share and user != self.env.ref("base.user_root")
        )

    def _responsible_user(self):
        """The order's buyer when a real person, else the configured responsible."""
        self.ensure_one()
        if self._is_responsible_person(self.user_id):
            return self.user_id
        return self._procurement_responsible(
            self.company_id,
            warehouse=self.picking_type_id.warehouse_id,
            partner=self.partner_id,
            products=self.order_line.product_id,
        )

    def button_confirm(self):
        to_confirm = self.filtered(lambda o: o.state in ("draft", "sent"))
        for order in to_confirm:
            order._check_contract_rules()
        # Odoo's flow writes "purchase"/"to approve": accepted for the orders checked here
        with guard.cleared(to_confirm):
            return super().button_confirm()

    def button_approve(self, force=False):
        """Odoo's approval (from Confirm Order, the second step of a two-step validation,
        or called over RPC) confirms only orders whose contract rules pass now."""
        pending = self.filtered(
            lambda o: o.state not in CONFIRMED_STATES and not guard.is_cleared(o)
        )
        for order in pending:
            order._check_contract_rules()
        with guard.cleared(pending):
            return super().button_approve(force=force)

    def _check_contract_rules(self):
        """Supplier status, then off-contract lines (reason + manager approval)."""
        self.ensure_one()
        self.partner_id._check_can_supply()
        off = self.order_line.filtered("off_contract")
        if off and not self._off_contract_approval_holds():
            self.env["integration.audit.event"].sudo()._log(
                "business_exception",
                _("Confirmation stopped: off-contract lines"),
                records=self,
                details={"lines": off.ids},
            )
            raise UserError(
                _(
                    "%(order)s has off-contract lines (%(products)s): give a reason and have a "
                    "Procurement Manager approve them before confirming.",
                    order=self.name,
                    products=", ".join(off.product_id.mapped("display_name")),
                )
            )


def _digest(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
