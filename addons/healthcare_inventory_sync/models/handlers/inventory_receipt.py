"""Handler of ``inventory.receipt``: goods received at a facility.

Against a purchase order's open receipt (with backorder) or as a new receipt; lots
are created with their expiry and checked against the facility's minimum shelf life.
"""

from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import float_compare

from odoo.addons.integration_queue.exceptions import BusinessError
from odoo.addons.integration_queue.registry import message_handler


class HealthcareInventorySync(models.AbstractModel):
    _inherit = "healthcare.inventory.sync"

    @message_handler("inventory.receipt")
    @api.model
    def _handle_receipt(self, message, payload):
        warehouse = self._facility(message, payload["facility"])
        self.env["healthcare.facility.sync.state"]._get(
            warehouse, message.partner_id
        ).last_message_at = fields.Datetime.now()
        resolved = self._resolve_lines(message, payload["lines"])
        self._check_shelf_life(warehouse, resolved)
        # the order is found (inside the company) before anything is created
        open_receipt = (
            self._open_receipt(warehouse, payload["purchase_order"])
            if payload.get("purchase_order")
            else None
        )
        lots = self._get_lots(resolved, warehouse.company_id)
        picking = open_receipt or self._new_receipt(warehouse, resolved, payload)
        self._fill_receipt(picking, resolved, lots, ordered=bool(payload.get("purchase_order")))
        picking.with_context(skip_backorder=True, cancel_backorder=False)._action_done()
        backorder = self.env["stock.picking"].sudo().search([("backorder_id", "=", picking.id)])
        message._link_records(picking | backorder)
        message._link_records(self.env["stock.lot"].union(*lots.values()))
        self._after_stock_change(warehouse, {r.product for r in resolved}, message)
        return {
            "picking": picking.name,
            "backorder": backorder.name or None,
            "lots": sorted(lot.name for lot in lots.values()),
        }

    @api.model
    def _check_shelf_life(self, warehouse, resolved):
        today = fields.Date.context_today(self)
        minimum = today + timedelta(days=warehouse.min_shelf_life_days or 0)
        errors = []
        for line in resolved:
            if not line.expiry:
                continue
            if line.expiry < today:
                errors.append(
                    BusinessError(
                        _(
                            "Lot %(lot)s of %(product)s expired on %(date)s",
                            lot=line.lot_name,
                            product=line.product.display_name,
                            date=line.expiry,
                        ),
                        field=f"lines[{line.index}].expiry",
                    )
                )
            elif line.expiry < minimum:
                errors.append(
                    BusinessError(
                        _(
                            "Lot %(lot)s of %(product)s expires on %(date)s, sooner than the "
                            "minimum shelf life of %(days)s days",
                            lot=line.lot_name,
                            product=line.product.display_name,
                            date=line.expiry,
                            days=warehouse.min_shelf_life_days,
                        ),
                        field=f"lines[{line.index}].expiry",
                    )
                )
        if errors:
            raise self._line_errors(errors)

    @api.model
    def _open_receipt(self, warehouse, order_ref):
        """The open receipt of purchase order ``order_ref`` at ``warehouse``, inside its company.

        An order of another company is refused, naming ``purchase_order``.
        """
        company = warehouse.company_id
        self._check_order_company(order_ref, company)
        picking = (
            self.env["stock.picking"]
            .sudo()
            .search(
                [
                    ("origin", "=", order_ref),
                    ("company_id", "=", company.id),
                    ("picking_type_id", "=", warehouse.in_type_id.id),
                    ("state", "not in", ("done", "cancel", "draft")),
                ],
                order="id",
                limit=1,
            )
        )
        if not picking:
            raise BusinessError(
                _(
                    "No open receipt for purchase order %(po)s at %(facility)s",
                    po=order_ref,
                    facility=warehouse.name,
                ),
                field="purchase_order",
            )
        return picking

    @api.model
    def _check_order_company(self, order_ref, company):
        """Refuse a purchase order (when Purchase is installed) that is not the company's."""
        if "purchase.order" not in self.env:
            return
        orders = self.env["purchase.order"].sudo().search([("name", "=", order_ref)])
        if orders and company not in orders.company_id:
            raise BusinessError(
                _("Purchase order %s is not an order of this company", order_ref),
                field="purchase_order",
            )

    @api.model
    def _new_receipt(self, warehouse, resolved, payload):
        picking_type = warehouse.in_type_id
        supplier = self.env.ref("stock.stock_location_suppliers")
        picking = (
            self.env["stock.picking"]
            .sudo()
            .create(
                {
                    "picking_type_id": picking_type.id,
                    "location_id": supplier.id,
                    "location_dest_id": warehouse.lot_stock_id.id,
                    "origin": payload.get("reference") or _("Partner receipt"),
                    "scheduled_date": payload.get("received_at", "").replace("T", " ")[:19]
                    or False,
                    "move_ids": [
                        (
                            0,
                            0,
                            {
                                "name": line.product.display_name,
                                "product_id": line.product.id,
                                "product_uom": line.product.uom_id.id,
                                "product_uom_qty": line.quantity,
                                "location_id": supplier.id,
                                "location_dest_id": warehouse.lot_stock_id.id,
                            },
                        )
                        for line in resolved
                    ],
                }
            )
        )
        picking.action_confirm()
        return picking

    @api.model
    def _fill_receipt(self, picking, resolved, lots, ordered):
        remaining = defaultdict(float)
        for move in picking.move_ids:
            remaining[move.product_id.id] += move.product_uom_qty
        received = defaultdict(float)
        for line in resolved:
            received[line.product.id] += line.quantity
        for product_id, quantity in received.items():
            product = self.env["product.product"].browse(product_id)
            if product_id not in remaining:
                raise BusinessError(
                    _(
                        "%(product)s is not on receipt %(picking)s",
                        product=product.display_name,
                        picking=picking.name,
                    ),
                    field="lines",
                )
            if (
                ordered
                and float_compare(
                    quantity, remaining[product_id], precision_rounding=product.uom_id.rounding
                )
                > 0
            ):
                raise BusinessError(
                    _(
                        "%(qty)s %(product)s received, more than the %(open)s still ordered",
                        qty=quantity,
                        product=product.display_name,
                        open=remaining[product_id],
                    ),
                    field="lines",
                )
        picking.move_line_ids.unlink()
        moves_by_product = {m.product_id.id: m for m in picking.move_ids}
        self.env["stock.move.line"].sudo().create(
            [
                {
                    "move_id": moves_by_product[line.product.id].id,
                    "picking_id": picking.id,
                    "product_id": line.product.id,
                    "product_uom_id": line.product.uom_id.id,
                    "quantity": line.quantity,
                    "lot_id": lots[(line.product.id, line.lot_name)].id
                    if line.lot_name and (line.product.id, line.lot_name) in lots
                    else False,
                    "location_id": picking.location_id.id,
                    "location_dest_id": picking.location_dest_id.id,
                }
                for line in resolved
            ]
        )
        picking.move_ids.picked = True
