"""Handler of ``vendor.bill``: a draft vendor bill on the order's lines, matched at once."""

from odoo import _, api, fields, models

from odoo.addons.integration_queue.exceptions import BusinessError
from odoo.addons.integration_queue.registry import message_handler

from ..contract_procurement_sync import PROCUREMENT


class ContractProcurementSync(models.AbstractModel):
    _inherit = "contract.procurement.sync"

    @message_handler("vendor.bill")
    @api.model
    def _handle_vendor_bill(self, message, payload):
        """A draft vendor bill linked to the order's lines; the match runs at once."""
        order = self._partner_order(message, payload)
        company = order.company_id
        invoice_lines = []
        for index, line in enumerate(payload["lines"]):
            product = self._product(line["item"], f"lines[{index}].item", company, order.partner_id)
            order_line = order.order_line.filtered(lambda rec, p=product: rec.product_id == p)[:1]
            if not order_line:
                raise BusinessError(
                    _(
                        "%(product)s is not on %(order)s",
                        product=product.display_name,
                        order=order.name,
                    ),
                    field=f"lines[{index}].item",
                    group_xmlid=PROCUREMENT,
                )
            vals = order_line._prepare_account_move_line()
            vals.update(quantity=line["quantity"], price_unit=line["price"])
            invoice_lines.append((0, 0, vals))
        bill = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "move_type": "in_invoice",
                    "partner_id": order.partner_id.id,
                    "ref": payload["invoice_number"],
                    "invoice_date": payload.get("invoice_date") or fields.Date.context_today(self),
                    "invoice_origin": order.name,
                    "currency_id": order.currency_id.id,
                    "company_id": order.company_id.id,
                    "invoice_line_ids": invoice_lines,
                }
            )
        )
        bill._run_three_way_match()
        message._link_records(bill)
        return {
            "bill": bill.display_name,
            "match_state": bill.match_state,
            "exceptions": bill.match_exception_ids.mapped("exception_type"),
        }
