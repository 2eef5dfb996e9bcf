import hashlib
import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare

from .. import guard

PROCUREMENT_MANAGER = "contract_procurement.group_procurement_manager"

OFF_CONTRACT_REASONS = [
    ("urgent", "Urgent clinical need"),
    ("stockout", "Contract supplier out of stock"),
    ("quality", "Quality or recall issue"),
    ("no_contract", "No suitable contract"),
    ("other", "Other"),
]


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

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
            if self.env.user == order.user_id:
                raise UserError(
                    _("You are the buyer of %s; another person must approve it.", order.name)
                )
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

    def write(self, vals):
        result = super().write(vals)
        if {"off_contract_reason", "off_contract_note", "partner_id"} & set(vals):
            self._void_stale_approvals()
        return result

    def _off_contract_digest(self):
        """What an off-contract approval covers: the reason and the off-contract lines."""
        self.ensure_one()
        lines = self.order_line.filtered("off_contract").sorted("id")
        return _digest(
            [
                self.partner_id.id,
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

    def button_confirm(self):
        for order in self.filtered(lambda o: o.state in ("draft", "sent")):
            order._check_contract_rules()
        return super().button_confirm()

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
