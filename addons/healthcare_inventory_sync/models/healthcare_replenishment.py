import logging
from collections import defaultdict
from datetime import timedelta

import psycopg2
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare

_logger = logging.getLogger(__name__)

AVAILABILITY = [("ok", "Available"), ("below_min", "Below Minimum"), ("zero", "Out of Stock")]


class HealthcareAvailabilityState(models.Model):
    """Last availability told to partners, per facility and critical product."""

    _name = "healthcare.availability.state"
    _description = "Critical Item Availability"
    _order = "warehouse_id, product_id"

    warehouse_id = fields.Many2one(
        "stock.warehouse", "Facility", required=True, ondelete="cascade", index=True
    )
    product_id = fields.Many2one("product.product", required=True, ondelete="cascade", index=True)
    status = fields.Selection(AVAILABILITY, required=True, default="ok")
    quantity = fields.Float(digits="Product Unit of Measure")
    company_id = fields.Many2one(related="warehouse_id.company_id", store=True)

    _sql_constraints = [
        (
            "facility_product_unique",
            "UNIQUE(warehouse_id, product_id)",
            "One availability state per facility and product.",
        )
    ]

    @api.model
    def _status(self, quantity, minimum, rounding):
        if float_compare(quantity, 0.0, precision_rounding=rounding) <= 0:
            return "zero"
        if minimum and float_compare(quantity, minimum, precision_rounding=rounding) < 0:
            return "below_min"
        return "ok"

    @api.model
    def _update(self, warehouse, products):
        """Send inventory.availability to subscribed partners when a status changes."""
        on_hand = self.env["healthcare.replenishment.proposal"]._on_hand(warehouse, products)
        minimums = {
            op.product_id.id: op.product_min_qty
            for op in self.env["stock.warehouse.orderpoint"]
            .sudo()
            .search([("warehouse_id", "=", warehouse.id), ("product_id", "in", products.ids)])
        }
        states = {
            s.product_id.id: s
            for s in self.sudo().search(
                [("warehouse_id", "=", warehouse.id), ("product_id", "in", products.ids)]
            )
        }
        # only partners of the facility's company hear of its stock
        partners = (
            self.env["integration.partner"]
            .sudo()
            .search(
                [
                    ("subscription_ids.code", "=", "inventory.availability"),
                    ("company_id", "=", warehouse.company_id.id),
                ]
            )
        )
        for product in products:
            quantity = on_hand.get(product.id, 0.0)
            status = self._status(quantity, minimums.get(product.id), product.uom_id.rounding)
            state = states.get(product.id)
            previous = state.status if state else "ok"
            if state:
                state.write({"status": status, "quantity": quantity})
            else:
                self.sudo().create(
                    {
                        "warehouse_id": warehouse.id,
                        "product_id": product.id,
                        "status": status,
                        "quantity": quantity,
                    }
                )
            if status == previous:
                continue
            event = {"below_min": "below_minimum", "zero": "out_of_stock", "ok": "recovered"}[
                status
            ]
            payload = {
                "event": event,
                "facility": warehouse.facility_code,
                "item": product.default_code,
                "gtin": product.barcode or None,
                "quantity": quantity,
                "minimum": minimums.get(product.id),
                "uom": product.uom_id.name,
                "at": fields.Datetime.to_string(fields.Datetime.now()),
            }
            for partner in partners:
                self.env["integration.message"]._send_outbound(
                    partner,
                    "inventory.availability",
                    payload,
                    records=product,
                    ordering_key=f"facility={warehouse.facility_code}",
                )


class HealthcareReplenishmentProposal(models.Model):
    """The best way to cover a shortage: a sister facility, a purchase, or a person."""

    _name = "healthcare.replenishment.proposal"
    _description = "Replenishment Proposal"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state, create_date desc, id desc"

    warehouse_id = fields.Many2one("stock.warehouse", "Facility", required=True, index=True)
    product_id = fields.Many2one("product.product", required=True, index=True)
    orderpoint_id = fields.Many2one("stock.warehouse.orderpoint", ondelete="set null")
    quantity = fields.Float(digits="Product Unit of Measure", required=True)
    on_hand = fields.Float(digits="Product Unit of Measure")
    reserved = fields.Float(
        digits="Product Unit of Measure", help="Part of the stock on hand already promised."
    )
    incoming = fields.Float(
        digits="Product Unit of Measure",
        help="Quantity on its way into the facility (confirmed receipts and transfers).",
    )
    forecast = fields.Float(
        digits="Product Unit of Measure",
        help="On hand - reserved + incoming: what the shortage is measured on.",
    )
    minimum = fields.Float(digits="Product Unit of Measure")
    maximum = fields.Float(digits="Product Unit of Measure")
    source_type = fields.Selection(
        [
            ("transfer", "Transfer from Sister Facility"),
            ("purchase", "Purchase"),
            ("escalation", "Escalation to Procurement"),
        ],
        required=True,
    )
    source_warehouse_id = fields.Many2one("stock.warehouse", "Source Facility")
    state = fields.Selection(
        [("draft", "Proposed"), ("done", "Applied"), ("cancelled", "Cancelled")],
        default="draft",
        required=True,
        index=True,
        tracking=True,
    )
    picking_id = fields.Many2one("stock.picking", "Transfer", readonly=True)
    route_description = fields.Char(
        "Route", compute="_compute_route_description", help="How the shortage would be covered."
    )
    is_critical = fields.Boolean(related="product_id.is_critical_supply", store=True)
    company_id = fields.Many2one(related="warehouse_id.company_id", store=True)

    @api.depends("source_type", "source_warehouse_id", "warehouse_id", "product_id")
    def _compute_route_description(self):
        for proposal in self:
            proposal.route_description = proposal._route_text()

    def _route_text(self):
        self.ensure_one()
        if self.source_type == "transfer":
            return _(
                "Internal transfer %(from_facility)s → %(to_facility)s",
                from_facility=self.source_warehouse_id.name,
                to_facility=self.warehouse_id.name,
            )
        if self.source_type == "purchase":
            product = self.product_id.sudo()
            routes = (product.route_ids | product.categ_id.total_route_ids).filtered(
                lambda route: any(rule.action == "buy" for rule in route.rule_ids)
            )
            vendor = product.seller_ids[:1].partner_id
            return _(
                "Purchase (%(route)s) from %(vendor)s, by the reordering rule",
                route=", ".join(routes.mapped("name")) or _("vendor on the product"),
                vendor=vendor.name or _("the product's vendor"),
            )
        if self.source_type == "escalation":
            return _("No sister facility surplus and no purchase route: escalated to procurement")
        return False

    # ------------------------------------------------------------------
    # Evaluation
    # ------------------------------------------------------------------

    @api.model
    def _on_hand(self, warehouse, products):
        """{product id: quantity} on hand in the facility's internal locations."""
        groups = (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("location_id", "child_of", warehouse.view_location_id.id),
                    ("location_id.usage", "=", "internal"),
                    ("product_id", "in", products.ids),
                ],
                ["product_id"],
                ["quantity:sum"],
            )
        )
        return {product.id: quantity for product, quantity in groups}

    @api.model
    def _forecast(self, warehouse, products):
        """{product id: {"on_hand", "reserved", "incoming", "forecast"}} in the facility:
        its internal stock, the part of it reserved, and what is on its way in."""
        quants = (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("location_id", "child_of", warehouse.view_location_id.id),
                    ("location_id.usage", "=", "internal"),
                    ("product_id", "in", products.ids),
                ],
                ["product_id"],
                ["quantity:sum", "reserved_quantity:sum"],
            )
        )
        moves = (
            self.env["stock.move"]
            .sudo()
            ._read_group(
                [
                    ("location_dest_id", "child_of", warehouse.view_location_id.id),
                    ("location_dest_id.usage", "=", "internal"),
                    # moves inside the facility bring nothing new
                    "!",
                    ("location_id", "child_of", warehouse.view_location_id.id),
                    ("state", "in", ("confirmed", "waiting", "partially_available", "assigned")),
                    ("product_id", "in", products.ids),
                ],
                ["product_id"],
                ["product_qty:sum"],
            )
        )
        figures = {
            product.id: {"on_hand": 0.0, "reserved": 0.0, "incoming": 0.0} for product in products
        }
        for product, quantity, reserved in quants:
            figures[product.id].update(on_hand=quantity, reserved=reserved)
        for product, incoming in moves:
            figures[product.id]["incoming"] = incoming
        for values in figures.values():
            values["forecast"] = values["on_hand"] - values["reserved"] + values["incoming"]
        return figures

    @api.model
    def _surplus(self, product, exclude_warehouse):
        """[(warehouse, surplus)] of sister facilities (same company) above their own
        maximum, counting only stock not close to expiry, largest first."""
        out = []
        orderpoints = (
            self.env["stock.warehouse.orderpoint"]
            .sudo()
            .search(
                [
                    ("product_id", "=", product.id),
                    ("warehouse_id", "!=", exclude_warehouse.id),
                    ("warehouse_id.company_id", "=", exclude_warehouse.company_id.id),
                    ("warehouse_id.facility_code", "!=", False),
                ]
            )
        )
        for orderpoint in orderpoints:
            warehouse = orderpoint.warehouse_id
            horizon = fields.Datetime.now() + timedelta(days=warehouse.expiry_horizon_days or 0)
            quants = (
                self.env["stock.quant"]
                .sudo()
                .search(
                    [
                        ("product_id", "=", product.id),
                        ("location_id", "child_of", warehouse.view_location_id.id),
                        ("location_id.usage", "=", "internal"),
                        ("quantity", ">", 0),
                    ]
                )
            )
            usable = sum(
                q.quantity - q.reserved_quantity
                for q in quants
                if not q.lot_id.expiration_date or q.lot_id.expiration_date > horizon
            )
            surplus = usable - orderpoint.product_max_qty
            if float_compare(surplus, 0.0, precision_rounding=product.uom_id.rounding) > 0:
                out.append((warehouse, surplus))
        return sorted(out, key=lambda pair: -pair[1])

    @api.model
    def _has_purchase_route(self, product):
        routes = product.route_ids | product.categ_id.total_route_ids
        buys = routes.rule_ids.filtered(lambda rule: rule.action == "buy")
        if buys:
            return True
        # a vendor on the product means it can be bought (whatever the company filter says)
        return bool(
            self.env["product.supplierinfo"]
            .sudo()
            .search_count([("product_tmpl_id", "=", product.product_tmpl_id.id)], limit=1)
        )

    @api.model
    def _evaluate(self, orderpoints):
        """Propose a source for each orderpoint below its minimum; return the proposals."""
        proposals = self.browse()
        by_warehouse = defaultdict(lambda: self.env["stock.warehouse.orderpoint"])
        for orderpoint in orderpoints:
            by_warehouse[orderpoint.warehouse_id] |= orderpoint
        for warehouse, points in by_warehouse.items():
            # claim the rules first: a concurrent evaluation of the same rule now fails to
            # serialise (and is retried on fresh data) instead of writing stale proposals
            points.sudo().write({"healthcare_evaluated_at": fields.Datetime.now()})
            points.flush_recordset(["healthcare_evaluated_at"])
            figures = self._forecast(warehouse, points.product_id)
            for orderpoint in points:
                product = orderpoint.product_id
                quantity = figures[product.id]["forecast"]
                if (
                    float_compare(
                        quantity,
                        orderpoint.product_min_qty,
                        precision_rounding=product.uom_id.rounding,
                    )
                    >= 0
                ):
                    self.search(
                        [
                            ("warehouse_id", "=", warehouse.id),
                            ("product_id", "=", product.id),
                            ("state", "=", "draft"),
                        ]
                    ).write({"state": "cancelled"})
                    self.env["healthcare.stock.alert"]._resolve("shortage", warehouse, product)
                    continue
                proposals |= self._propose(orderpoint, figures[product.id])
        return proposals

    @api.model
    def _propose(self, orderpoint, figures):
        """Create or refresh the facility's open proposal for the orderpoint's product:
        up to its maximum from the forecast (on hand - reserved + incoming)."""
        warehouse, product = orderpoint.warehouse_id, orderpoint.product_id
        maximum = max(orderpoint.product_max_qty, orderpoint.product_min_qty)
        needed = maximum - figures["forecast"]
        vals = {
            "warehouse_id": warehouse.id,
            "product_id": product.id,
            "orderpoint_id": orderpoint.id,
            "on_hand": figures["on_hand"],
            "reserved": figures["reserved"],
            "incoming": figures["incoming"],
            "forecast": figures["forecast"],
            "minimum": orderpoint.product_min_qty,
            "maximum": maximum,
            "source_warehouse_id": False,
        }
        sources = self._surplus(product, warehouse)
        if sources:
            source, surplus = sources[0]
            vals.update(
                source_type="transfer", source_warehouse_id=source.id, quantity=min(needed, surplus)
            )
        elif self._has_purchase_route(product):
            vals.update(source_type="purchase", quantity=needed)
        else:
            vals.update(source_type="escalation", quantity=needed)
        proposal = self.search(
            [
                ("warehouse_id", "=", warehouse.id),
                ("product_id", "=", product.id),
                ("state", "=", "draft"),
            ],
            limit=1,
        )
        if proposal:
            proposal.write(vals)
        else:
            proposal = self.create(vals)
            if vals["source_type"] == "escalation":
                proposal._escalate()
        self.env["healthcare.stock.alert"]._raise(
            "shortage",
            warehouse,
            _(
                "%(product)s at %(facility)s: %(qty)g on hand, %(reserved)g reserved, "
                "%(incoming)g incoming, minimum %(min)g",
                product=product.display_name,
                facility=warehouse.name,
                qty=figures["on_hand"],
                reserved=figures["reserved"],
                incoming=figures["incoming"],
                min=orderpoint.product_min_qty,
            ),
            product=product,
            quantity=needed,
        )
        return proposal

    def _escalate(self):
        group = self.env.ref(
            "purchase.group_purchase_manager", raise_if_not_found=False
        ) or self.env.ref("stock.group_stock_manager")
        for proposal in self:
            users = group.users.filtered(
                lambda u, p=proposal: not u.share and p.company_id in u.company_ids
            )
            for user in users[:3]:
                proposal.activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=user.id,
                    summary=_("Shortage without a source"),
                    note=Markup("<p>%s</p>")
                    % _(
                        "No sister facility has surplus %(product)s and it has no purchase "
                        "route: %(facility)s needs %(qty)g.",
                        product=proposal.product_id.display_name,
                        facility=proposal.warehouse_id.name,
                        qty=proposal.quantity,
                    ),
                )

    @api.model
    def _refresh_dirty_stock(self):
        """Before commit: refresh the proposals of the (facility, product) pairs whose
        stock changed in this transaction, and reserve again the waiting emergency
        transfers of the facilities stock arrived at."""
        from .stock_move import ARRIVALS, DIRTY_STOCK  # noqa: PLC0415

        data = self.env.cr.precommit.data
        pairs = data.pop(DIRTY_STOCK, set())
        arrived = data.pop(ARRIVALS, set())
        if arrived:
            self._reserve_emergency_transfers(self.env["stock.warehouse"].browse(arrived))
        if pairs:
            self._evaluate(self._dirty_orderpoints(pairs))

    @api.model
    def _dirty_orderpoints(self, pairs):
        """The facility orderpoints of the (warehouse id, product id) pairs."""
        orderpoints = (
            self.env["stock.warehouse.orderpoint"]
            .sudo()
            .search(
                [
                    ("warehouse_id", "in", list({pair[0] for pair in pairs})),
                    ("product_id", "in", list({pair[1] for pair in pairs})),
                    ("warehouse_id.facility_code", "!=", False),
                    ("trigger", "in", ("auto", "manual")),
                ]
            )
        )
        return orderpoints.filtered(lambda op: (op.warehouse_id.id, op.product_id.id) in pairs)

    @api.model
    def _reserve_emergency_transfers(self, warehouses):
        """Reserve the waiting moves of emergency transfers leaving these facilities."""
        moves = (
            self.env["stock.move"]
            .sudo()
            .search(
                [
                    ("picking_id.healthcare_emergency", "=", True),
                    ("location_id.warehouse_id", "in", warehouses.ids),
                    ("state", "in", ("confirmed", "partially_available")),
                ]
            )
        )
        if moves:
            moves._action_assign()
        return moves

    @api.model
    def _cron_scan(self):
        """Evaluate every facility orderpoint (critical ones are also done at once).

        Rules a message is evaluating at the same moment are skipped: the message's
        evaluation is the fresher one, and the next scan comes back to them.
        """
        orderpoints = (
            self.env["stock.warehouse.orderpoint"]
            .sudo()
            .search(
                [("warehouse_id.facility_code", "!=", False), ("trigger", "in", ("auto", "manual"))]
            )
        )
        proposals = self.browse()
        for orderpoint in orderpoints:
            try:
                with self.env.cr.savepoint():
                    proposals |= self._evaluate(orderpoint)
            except psycopg2.errors.SerializationFailure:
                _logger.info("shortage scan: %s is being evaluated elsewhere", orderpoint.id)
        return proposals

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_apply(self):
        """Create the transfer, or run the orderpoint's procurement for a purchase.

        Inventory Managers only; the facilities must be of one company the user may act in.
        """
        self._check_manager()
        self.check_access("write")
        Sync = self.env["healthcare.inventory.sync"]
        for proposal in self.filtered(lambda p: p.state == "draft"):
            proposal._check_source_company()
            if proposal.source_type == "transfer":
                from .healthcare_inventory_sync import ResolvedLine  # noqa: PLC0415

                line = ResolvedLine(
                    0, proposal.product_id, proposal.quantity, proposal.product_id.uom_id
                )
                proposal.picking_id = Sync._create_transfer(
                    proposal.source_warehouse_id,
                    proposal.warehouse_id,
                    [line],
                    origin=_("Replenishment %s", proposal.display_name),
                )
            elif proposal.source_type == "purchase" and proposal.orderpoint_id:
                proposal.orderpoint_id.sudo().action_replenish()
            proposal.state = "done"
        return True

    def action_open_picking(self):
        """Open the transfer the proposal created."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "stock.picking",
            "res_id": self.picking_id.id,
            "view_mode": "form",
        }

    def action_cancel(self):
        """Set the proposals aside (Inventory Managers only)."""
        self._check_manager()
        # an applied proposal stays applied: its transfer or purchase exists
        self.filtered(lambda p: p.state == "draft").write({"state": "cancelled"})
        return True

    def _check_manager(self):
        if not self.env.user.has_group("stock.group_stock_manager"):
            raise AccessError(
                _("Only Inventory Managers may apply or cancel replenishment proposals.")
            )

    def _check_source_company(self):
        """The transfer's source and destination are facilities of the proposal's company."""
        self.ensure_one()
        # read as superuser: the user may not even see a facility of another company
        source = self.sudo().source_warehouse_id
        if source and source.company_id != self.sudo().warehouse_id.company_id:
            raise UserError(
                _(
                    "Source Facility: the source of %(proposal)s belongs to another company.",
                    proposal=self.display_name,
                )
            )
        if self.company_id not in self.env.user.company_ids:
            raise AccessError(_("You may not act for the company of %s.", self.display_name))

    def _compute_display_name(self):
        for proposal in self:
            proposal.display_name = (
                f"{proposal.product_id.display_name} → {proposal.warehouse_id.name}"
            )
