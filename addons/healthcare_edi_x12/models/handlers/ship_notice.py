"""Handler of ``ship.notice``: the expected shipment per order line, shown on the receipt."""

from odoo import _, api, models

from odoo.addons.integration_queue.exceptions import BusinessError
from odoo.addons.integration_queue.registry import message_handler

PROCUREMENT = "contract_procurement.group_procurement_manager"


class X12Sync(models.AbstractModel):
    _inherit = "x12.sync"

    @message_handler("ship.notice")
    @api.model
    def _handle_ship_notice(self, message, payload):
        """Record the notice; each line names an order line of the partner's suppliers."""
        suppliers = self._partner_suppliers(message)
        lines = []
        for index, line in enumerate(payload["lines"]):
            order_line = self.env["purchase.order.line"].sudo().browse(line["line_id"]).exists()
            order = order_line.order_id
            if (
                not order_line
                or order.name != line["purchase_order"]
                or order.company_id != message.company_id
                or order.partner_id.commercial_partner_id not in suppliers
            ):
                raise BusinessError(
                    _(
                        "Line %(line)s of %(order)s is not one of this partner's order lines",
                        line=line["line_id"],
                        order=line["purchase_order"],
                    ),
                    field=f"lines[{index}].line_id",
                    group_xmlid=PROCUREMENT,
                )
            lines.append(
                (
                    0,
                    0,
                    {
                        "purchase_line_id": order_line.id,
                        "product_id": order_line.product_id.id,
                        "quantity": line["quantity"],
                        "lot_name": line.get("lot") or False,
                        "expiry_date": line.get("expiry") or False,
                        "serials": "\n".join(line.get("serials") or []) or False,
                    },
                )
            )
        warehouse = self.env["stock.warehouse"]
        if payload.get("ship_to"):
            warehouse = self._warehouse_by_gln(message, payload["ship_to"])
        orders = (
            self.env["purchase.order.line"]
            .sudo()
            .browse([line[2]["purchase_line_id"] for line in lines])
            .order_id
        )
        notice = (
            self.env["x12.ship.notice"]
            .sudo()
            .create(
                {
                    "name": payload["shipment"],
                    "partner_id": message.partner_id.id,
                    "company_id": message.company_id.id,
                    "supplier_id": orders[:1].partner_id.commercial_partner_id.id,
                    "ship_date": payload.get("ship_date") or False,
                    "warehouse_id": warehouse.id,
                    "message_id": message.id,
                    "line_ids": lines,
                }
            )
        )
        message._link_records(notice)
        message._link_records(orders)
        return {"ship_notice": notice.name, "lines": len(lines), "orders": orders.mapped("name")}
