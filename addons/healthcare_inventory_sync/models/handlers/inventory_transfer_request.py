"""Handler of ``inventory.transfer_request``: a facility asks a sister facility for stock.

The transfer is created by the shared ``_create_transfer`` (also used by replenishment
proposals); emergencies are starred and the source facility's manager is told.
"""

from odoo import _, api, models

from odoo.addons.integration_queue.registry import message_handler


class HealthcareInventorySync(models.AbstractModel):
    _inherit = "healthcare.inventory.sync"

    @message_handler("inventory.transfer_request")
    @api.model
    def _handle_transfer_request(self, message, payload):
        source = self._facility(message, payload["from_facility"], "from_facility")
        destination = self._facility(message, payload["to_facility"], "to_facility")
        # lots are chosen by the reservation (FEFO), not by the requester
        resolved = self._resolve_lines(message, payload["lines"], require_lot=False)
        picking = self._create_transfer(
            source,
            destination,
            resolved,
            payload.get("priority"),
            payload.get("needed_by"),
            origin=self._transfer_request_origin(message, payload, destination),
        )
        if payload.get("priority") == "emergency":
            source._notify_manager(
                _("Emergency transfer request"),
                _(
                    "%(dest)s needs %(what)s by %(when)s (%(picking)s)",
                    dest=destination.name,
                    what=", ".join(f"{r.quantity:g} {r.product.display_name}" for r in resolved),
                    when=payload.get("needed_by") or _("now"),
                    picking=picking.name,
                ),
                picking,
            )
        message._link_records(picking)
        return {
            "picking": picking.name,
            "state": picking.state,
            "reserved": {move.product_id.display_name: move.quantity for move in picking.move_ids},
        }

    @api.model
    def _transfer_request_origin(self, message, payload, destination):
        """The transfer's source document as people read it: "Emergency request
        HOSP-A/2026-0042 from North Hospital" (the partner's reference, else its message ID)."""
        reference = payload.get("reference") or message.external_id
        if payload.get("priority") == "emergency":
            return _(
                "Emergency request %(ref)s from %(facility)s",
                ref=reference,
                facility=destination.name,
            )
        return _(
            "Transfer request %(ref)s from %(facility)s", ref=reference, facility=destination.name
        )
