from odoo import fields, models

# keys of the transaction's precommit data
DIRTY_STOCK = "healthcare_inventory_sync.dirty_stock"
ARRIVALS = "healthcare_inventory_sync.arrivals"


class StockMove(models.Model):
    """Stock changes of facilities are noted on the move and acted on before commit."""

    _inherit = "stock.move"

    healthcare_lot_assumed = fields.Boolean(
        "Lot Assumed",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Consumed without a lot: posted on the lots first to expire (FEFO); check and "
        "correct the lot.",
    )

    def _action_confirm(self, merge=True, merge_into=False):
        moves = super()._action_confirm(merge=merge, merge_into=merge_into)
        moves._healthcare_note_stock_change()
        return moves

    def _action_done(self, cancel_backorder=False):
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        moves._healthcare_note_stock_change(arrivals=True)
        return moves

    def _action_cancel(self):
        res = super()._action_cancel()
        self._healthcare_note_stock_change()
        return res

    def _healthcare_note_stock_change(self, arrivals=False):
        """Mark the (facility, product) pairs these moves change as dirty, and with
        ``arrivals`` the facilities stock came into. Cheap per move: the proposals and
        the waiting emergency transfers are refreshed once, before the commit."""
        pairs, arrived = set(), set()
        for move in self:
            for location in (move.location_id, move.location_dest_id):
                warehouse = location.warehouse_id
                if warehouse and location.usage == "internal":
                    pairs.add((warehouse.id, move.product_id.id))
            destination = move.location_dest_id
            if (
                arrivals
                and destination.usage == "internal"
                and destination.warehouse_id
                and destination.warehouse_id != move.location_id.warehouse_id
            ):
                arrived.add(destination.warehouse_id.id)
        if not pairs:
            return
        precommit = self.env.cr.precommit
        if DIRTY_STOCK not in precommit.data:
            precommit.data[DIRTY_STOCK] = set()
            precommit.data[ARRIVALS] = set()
            proposals = self.env["healthcare.replenishment.proposal"].sudo()
            precommit.add(proposals._refresh_dirty_stock)
        precommit.data[DIRTY_STOCK] |= pairs
        precommit.data[ARRIVALS] |= arrived
