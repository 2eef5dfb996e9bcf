"""Handler of ``inventory.consumption``: stock used for patients, posted as done moves.

Consumption already happened, so it is never refused: shortfalls are flagged, and a
lot-tracked item consumed without a lot is posted on the lots first to expire.
"""

from datetime import datetime

from odoo import _, api, fields, models
from odoo.tools import float_compare

from odoo.addons.integration_queue.registry import message_handler


class HealthcareInventorySync(models.AbstractModel):
    _inherit = "healthcare.inventory.sync"

    @api.model
    def _consumption_location(self, company):
        return self.env.ref("healthcare_inventory_sync.stock_location_patient_consumption")

    @message_handler("inventory.consumption")
    @api.model
    def _handle_consumption(self, message, payload):
        """Consumption already happened: post it, never refuse it; flag any shortfall.

        A lot-tracked item consumed without a lot is posted on the lots first to
        expire (FEFO), the move flagged and an alert raised for review.
        """
        warehouse = self._facility(message, payload["facility"])
        self.env["healthcare.facility.sync.state"]._get(
            warehouse, message.partner_id
        ).last_message_at = fields.Datetime.now()
        resolved = self._resolve_lines(message, payload["lines"], require_lot=False)
        lots = self._get_lots(resolved, warehouse.company_id)
        source = warehouse.lot_stock_id
        reference = payload["reference"]
        origin = reference + (f" ({payload['cost_center']})" if payload.get("cost_center") else "")
        destination = self._consumption_location(warehouse.company_id)
        shortfalls = []
        Quant = self.env["stock.quant"].sudo()
        moves = self.env["stock.move"].sudo()
        for line in resolved:
            lot = lots.get((line.product.id, line.lot_name)) if line.lot_name else None
            available = Quant._get_available_quantity(
                line.product, source, lot_id=lot, strict=bool(lot), allow_negative=True
            )
            rounding = line.product.uom_id.rounding
            if float_compare(line.quantity, available, precision_rounding=rounding) > 0:
                missing = line.quantity - max(available, 0.0)
                shortfalls.append(
                    {"line": line.index, "product": line.product.display_name, "missing": missing}
                )
                self._flag_shortfall(warehouse, line.product, missing, reference, message)
            if line.product.tracking != "none" and not lot:
                split = self._fefo_split(line.product, line.quantity, source, warehouse)
                move = self._post_move(
                    line, None, source, destination, warehouse, origin, split=split
                )
                move.healthcare_lot_assumed = True
                self._flag_lot_assumed(warehouse, line, split, reference, message)
                moves |= move
                continue
            moves |= self._post_move(line, lot, source, destination, warehouse, origin)
        message._link_records(moves)
        self._after_stock_change(warehouse, {r.product for r in resolved}, message)
        return {"moves": len(moves), "shortfalls": shortfalls}

    @api.model
    def _flag_shortfall(self, warehouse, product, missing, reference, message):
        self.env["healthcare.stock.alert"]._raise(
            "consumption_shortfall",
            warehouse,
            _(
                "%(facility)s consumed %(missing)s more %(product)s than it had on hand "
                "(reference %(ref)s)",
                facility=warehouse.name,
                missing=missing,
                product=product.display_name,
                ref=reference,
            ),
            product=product,
            quantity=missing,
            message=message,
        )

    @api.model
    def _fefo_split(self, product, quantity, location, warehouse):
        """[(lot, quantity)] a lot-less consumption is assumed to have taken: the lots
        on hand first to expire first; what exceeds them goes on the last of them (the
        shortfall is flagged apart). Without stock, the product's last known lot of the
        company, else a placeholder lot to be corrected."""
        quants = (
            self.env["stock.quant"]
            .sudo()
            .search(
                [
                    ("product_id", "=", product.id),
                    ("location_id", "child_of", location.id),
                    ("lot_id", "!=", False),
                    ("quantity", ">", 0),
                ]
            )
        )
        far = datetime.max
        quants = quants.sorted(lambda q: (q.lot_id.expiration_date or far, q.lot_id.id))
        split, left = [], quantity
        rounding = product.uom_id.rounding
        for quant in quants:
            if float_compare(left, 0.0, precision_rounding=rounding) <= 0:
                break
            taken = min(left, quant.quantity)
            split.append([quant.lot_id, taken])
            left -= taken
        if split:
            if float_compare(left, 0.0, precision_rounding=rounding) > 0:
                split[-1][1] += left
            return [tuple(pair) for pair in split]
        Lot = self.env["stock.lot"].sudo()
        lot = Lot.search(
            [
                ("product_id", "=", product.id),
                ("company_id", "in", [warehouse.company_id.id, False]),
            ],
            order="expiration_date desc, id desc",
            limit=1,
        ) or Lot.create(
            {
                "name": f"NOLOT-{warehouse.facility_code or warehouse.code}",
                "product_id": product.id,
                "company_id": warehouse.company_id.id,
            }
        )
        return [(lot, quantity)]

    @api.model
    def _flag_lot_assumed(self, warehouse, line, split, reference, message):
        """An alert for review: the lots a lot-less consumption was posted on."""
        self.env["healthcare.stock.alert"]._raise(
            "lot_assumed",
            warehouse,
            _(
                "%(facility)s consumed %(qty)g %(product)s without a lot (reference %(ref)s): "
                "posted on %(lots)s (first expiry first out); check and correct the lot",
                facility=warehouse.name,
                qty=line.quantity,
                product=line.product.display_name,
                ref=reference,
                lots=", ".join(f"{lot.name} ({qty:g})" for lot, qty in split),
            ),
            product=line.product,
            quantity=line.quantity,
            lot=split[0][0],
            message=message,
        )

    @api.model
    def _post_move(self, line, lot, source, destination, warehouse, origin, split=None):
        """A done move of the line; ``split``: [(lot, quantity)] for one move line each."""
        move = (
            self.env["stock.move"]
            .sudo()
            .create(
                {
                    "name": origin,
                    "origin": origin,
                    "product_id": line.product.id,
                    "product_uom": line.product.uom_id.id,
                    "product_uom_qty": line.quantity,
                    "location_id": source.id,
                    "location_dest_id": destination.id,
                    "company_id": warehouse.company_id.id,
                    "warehouse_id": warehouse.id,
                }
            )
        )
        move._action_confirm()
        move.move_line_ids.unlink()
        self.env["stock.move.line"].sudo().create(
            [
                {
                    "move_id": move.id,
                    "product_id": line.product.id,
                    "product_uom_id": line.product.uom_id.id,
                    "quantity": quantity,
                    "lot_id": line_lot.id if line_lot else False,
                    "location_id": source.id,
                    "location_dest_id": destination.id,
                    "company_id": warehouse.company_id.id,
                }
                for line_lot, quantity in (split or [(lot, line.quantity)])
            ]
        )
        move.picked = True
        move._action_done()
        return move
