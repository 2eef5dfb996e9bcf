from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare

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
                own = Contract._find_line(line.product_id, line.partner_id, warehouse, on_date)
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
                    other = Contract._find_line(line.product_id, None, warehouse, on_date)
                    vals["off_contract"] = bool(other)
            line.update(vals)


class PurchaseOrder(models.Model):
    _inherit = "purchase.order"

    off_contract_reason = fields.Selection(OFF_CONTRACT_REASONS, tracking=True)
    off_contract_note = fields.Text()
    off_contract_approved_by_id = fields.Many2one(
        "res.users", readonly=True, copy=False, tracking=True
    )
    has_off_contract = fields.Boolean(compute="_compute_has_off_contract", store=True)

    @api.depends("order_line.off_contract")
    def _compute_has_off_contract(self):
        for order in self:
            order.has_off_contract = any(order.order_line.mapped("off_contract"))

    def action_approve_off_contract(self):
        """A Procurement Manager accepts the off-contract lines, with the reason given."""
        if not self.env.user.has_group("contract_procurement.group_procurement_manager"):
            raise AccessError(_("Only a Procurement Manager approves off-contract purchases."))
        for order in self:
            if not order.off_contract_reason:
                raise UserError(
                    _("%s: choose the reason for buying off contract first.", order.name)
                )
            order.off_contract_approved_by_id = self.env.user
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

    def button_confirm(self):
        for order in self.filtered(lambda o: o.state in ("draft", "sent")):
            order._check_contract_rules()
        return super().button_confirm()

    def _check_contract_rules(self):
        """Supplier status, then off-contract lines (reason + manager approval)."""
        self.ensure_one()
        self.partner_id._check_can_supply()
        off = self.order_line.filtered("off_contract")
        if off and not self.off_contract_approved_by_id:
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
