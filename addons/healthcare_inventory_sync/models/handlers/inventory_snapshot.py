"""Handler of ``inventory.snapshot``: a facility's stock as the partner counted it.

Applied through Odoo's inventory adjustment; stale snapshots (older sequence or
``as_of``) are recorded, not applied; the partner's *Snapshot Mode* decides what a
snapshot with wrong lines does.
"""

from collections import defaultdict

from odoo import _, api, fields, models
from odoo.tools import float_compare, float_is_zero

from odoo.addons.integration_queue.registry import message_handler


class HealthcareInventorySync(models.AbstractModel):
    _inherit = "healthcare.inventory.sync"

    @message_handler("inventory.snapshot")
    @api.model
    def _handle_snapshot(self, message, payload):
        warehouse = self._facility(message, payload["facility"])
        state = self.env["healthcare.facility.sync.state"]._get(warehouse, message.partner_id)
        state.last_message_at = fields.Datetime.now()
        as_of = fields.Datetime.to_datetime(payload["as_of"].replace("T", " ")[:19])
        sequence = payload.get("sequence")
        if self._snapshot_is_stale(state, as_of, sequence):
            return {
                "stale": True,
                "applied": 0,
                "last_as_of": fields.Datetime.to_string(state.last_snapshot_as_of),
                "last_sequence": state.last_snapshot_sequence,
            }
        resolved, errors = self._resolve_lines_partial(message, payload["lines"])
        complete = payload.get("complete")
        if errors:
            if message.partner_id.snapshot_mode != "apply_valid" or not resolved:
                raise self._line_errors(errors)
            # a partial snapshot never zeroes what it does not list: the product of a
            # rejected line may be one whose stock is still there
            complete = False
            self._flag_rejected_lines(warehouse, errors, message)
        quants = self._apply_snapshot(warehouse, resolved, complete=complete)
        state.write(
            {
                "last_snapshot_as_of": as_of,
                "last_snapshot_sequence": sequence or state.last_snapshot_sequence,
            }
        )
        message._link_records(warehouse)
        self._after_stock_change(
            warehouse, {r.product for r in resolved} | set(quants.product_id), message
        )
        return {
            "applied": len(resolved),
            "quants": len(quants),
            "stale": False,
            "rejected": [{"field": error.field, "error": str(error)} for error in errors],
        }

    @api.model
    def _flag_rejected_lines(self, warehouse, errors, message):
        """An alert for the data stewards listing the lines a snapshot left out."""
        self.env["healthcare.stock.alert"]._raise(
            "rejected_lines",
            warehouse,
            _(
                "Snapshot %(ref)s for %(facility)s applied without %(count)s wrong line(s): "
                "%(errors)s",
                ref=message.external_id,
                facility=warehouse.name,
                count=len(errors),
                errors=self._errors_text(errors, shown=20),
            ),
            quantity=len(errors),
            message=message,
        )

    @api.model
    def _snapshot_is_stale(self, state, as_of, sequence):
        if sequence is not None and state.last_snapshot_sequence:
            return sequence < state.last_snapshot_sequence
        return bool(state.last_snapshot_as_of and as_of < state.last_snapshot_as_of)

    @api.model
    def _apply_snapshot(self, warehouse, resolved, complete=False):
        """Set on-hand through Odoo's inventory adjustment (valuation and history kept)."""
        location = warehouse.lot_stock_id
        lots = self._get_lots(resolved, warehouse.company_id)
        targets = defaultdict(float)
        for line in resolved:
            lot = lots.get((line.product.id, line.lot_name)) if line.lot_name else None
            targets[(line.product.id, lot.id if lot else False)] += line.quantity
        Quant = self.env["stock.quant"].sudo().with_context(inventory_mode=True)
        domain = [("location_id", "=", location.id)]
        if not complete:
            domain.append(("product_id", "in", list({key[0] for key in targets})))
        existing = Quant.search(domain)
        by_key = {}
        for quant in existing:
            by_key.setdefault((quant.product_id.id, quant.lot_id.id or False), quant)
        to_apply = Quant.browse()
        for key, quant in by_key.items():
            target = targets.get(key, 0.0 if complete else None)
            if target is None:
                continue
            if float_compare(quant.quantity, target, precision_digits=6) != 0:
                quant.inventory_quantity = target
                to_apply |= quant
        new_vals = [
            {
                "product_id": key[0],
                "lot_id": key[1],
                "location_id": location.id,
                "inventory_quantity": quantity,
            }
            for key, quantity in targets.items()
            if key not in by_key and not float_is_zero(quantity, precision_digits=6)
        ]
        if new_vals:
            to_apply |= Quant.create(new_vals)
        if to_apply:
            to_apply._apply_inventory()
        return to_apply
