from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.purchase_order import OFF_CONTRACT_REASONS
from ..models.purchase_order_approval import CONFIRM_DIALOG


class PurchaseOrderOffContractReason(models.TransientModel):
    """The dialog Confirm Order opens for an order with off-contract lines and no reason."""

    _name = "purchase.order.off.contract.reason"
    _description = "Reason for an Off-contract Purchase"

    order_id = fields.Many2one("purchase.order", required=True, ondelete="cascade")
    reason = fields.Selection(OFF_CONTRACT_REASONS, required=True)
    note = fields.Text(help="What the approver should know (e.g. the patient need).")
    off_contract_line_ids = fields.Many2many(
        "purchase.order.line", compute="_compute_off_contract_line_ids", string="Off-contract Lines"
    )

    @api.model_create_multi
    def create(self, vals_list):
        # a dialog for an order the caller may change: never a way to learn which orders
        # of other companies exist, or to leave a reason on them
        orders = self.env["purchase.order"].browse(
            [vals["order_id"] for vals in vals_list if vals.get("order_id")]
        )
        orders.check_access("write")
        return super().create(vals_list)

    @api.depends("order_id")
    def _compute_off_contract_line_ids(self):
        for wizard in self:
            wizard.off_contract_line_ids = wizard.order_id.order_line.filtered("off_contract")

    def action_confirm(self):
        """Record the reason on the order, then go on as Confirm Order does: the order is
        confirmed if its approvals hold, else the approvers are asked."""
        self.ensure_one()
        order = self.order_id
        if order.state not in ("draft", "sent"):
            raise UserError(_("%s is no longer a draft to confirm.", order.name))
        # a plain write as the caller: his access to the order is checked, and a changed
        # reason voids an earlier off-contract approval
        order.write({"off_contract_reason": self.reason, "off_contract_note": self.note})
        return order.with_context(**{CONFIRM_DIALOG: True}).button_confirm()
