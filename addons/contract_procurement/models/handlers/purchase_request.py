"""Handler of ``purchase.request``: draft orders for a facility's needs.

Grouped by the supplier the contract designates (else the product's vendor), with a
real buyer as responsible.
"""

from odoo import _, api, models

from odoo.addons.integration_queue.exceptions import BusinessError
from odoo.addons.integration_queue.registry import message_handler

from ..contract_procurement_sync import PROCUREMENT


class ContractProcurementSync(models.AbstractModel):
    _inherit = "contract.procurement.sync"

    @message_handler("purchase.request")
    @api.model
    def _handle_purchase_request(self, message, payload):
        """Draft orders grouped by the supplier the contract designates (else the vendor)."""
        warehouse = self._request_warehouse(message, payload["facility"])
        company = warehouse.company_id
        by_supplier = {}
        for index, line in enumerate(payload["lines"]):
            product = self._product(line["item"], f"lines[{index}].item", company)
            contract_line = self.env["purchase.contract"]._find_line(
                product, None, warehouse, company=company
            )
            supplier = contract_line.contract_id.partner_id
            if not supplier:
                seller = product.seller_ids.filtered(
                    lambda s: not s.company_id or s.company_id == warehouse.company_id
                )[:1]
                supplier = seller.partner_id
            if not supplier:
                raise BusinessError(
                    _("No contract or vendor for %s", product.display_name),
                    field=f"lines[{index}].item",
                    group_xmlid=PROCUREMENT,
                )
            by_supplier.setdefault(supplier, []).append((product, line["quantity"]))
        orders = self.env["purchase.order"].sudo().with_company(company)
        for supplier, lines in by_supplier.items():
            # a real buyer, never the job's user (OdooBot): vendor, category, facility, group
            buyer = orders._procurement_responsible(
                company,
                warehouse=warehouse,
                partner=supplier,
                products=self.env["product.product"].concat(*(p for p, _qty in lines)),
            )
            orders |= orders.create(
                {
                    "partner_id": supplier.id,
                    "company_id": company.id,
                    "user_id": buyer.id,
                    "origin": payload["request"],
                    "picking_type_id": warehouse.in_type_id.id,
                    "date_planned": payload.get("needed_by", "").replace("T", " ")[:19] or False,
                    "order_line": [
                        (0, 0, {"product_id": product.id, "product_qty": quantity})
                        for product, quantity in lines
                    ],
                }
            )
        message._link_records(orders)
        return {"orders": orders.mapped("name")}
