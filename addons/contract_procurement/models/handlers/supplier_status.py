"""Handler of ``supplier.status``: approve, suspend or block a supplier, with its documents.

A hold a Procurement Manager set is never lifted by a message.
"""

from odoo import _, api, models

from odoo.addons.integration_queue.exceptions import BusinessError
from odoo.addons.integration_queue.registry import message_handler

from ..contract_procurement_sync import PROCUREMENT


class ContractProcurementSync(models.AbstractModel):
    _inherit = "contract.procurement.sync"

    @message_handler("supplier.status")
    @api.model
    def _handle_supplier_status(self, message, payload):
        supplier = self._supplier(message, payload)
        status = {"approve": "approved", "suspend": "suspended", "block": "blocked"}[
            payload["action"]
        ]
        if not supplier._message_may_set_status(status):
            # the message stays recorded (exception) and the procurement group is told
            raise BusinessError(
                _(
                    "%(supplier)s was set %(current)s by %(user)s: only a Procurement Manager "
                    "lifts it; this message changed nothing",
                    supplier=supplier.display_name,
                    current=supplier.supplier_status,
                    user=supplier.supplier_hold_by_id.name,
                ),
                field="action",
                group_xmlid=PROCUREMENT,
                details={"requested": status, "current": supplier.supplier_status},
            )
        supplier._set_supplier_status(status, payload.get("reason"))
        Document = self.env["res.partner.supplier.document"].sudo()
        for document in payload.get("documents", []):
            existing = Document.search(
                [("partner_id", "=", supplier.id), ("name", "=", document["name"])], limit=1
            )
            vals = {
                "partner_id": supplier.id,
                "name": document["name"],
                "document_type": document.get("type", "other"),
                "expiry_date": document.get("expiry_date") or False,
            }
            if existing:
                existing.write(vals)
            else:
                Document.create(vals)
        message._link_records(supplier)
        return {"supplier": supplier.display_name, "status": status}
