from odoo import fields, models

from .account_move import BILL_PO_POLICIES, MATCH_OVERRIDE


class AccountJournal(models.Model):
    _inherit = "account.journal"

    bill_po_policy = fields.Selection(
        BILL_PO_POLICIES,
        "Bills Without Order",
        groups=MATCH_OVERRIDE,
        help="Whether bills in this journal need a purchase order (the vendor's policy, "
        "when set, comes first; empty: the product categories decide).",
    )
    bill_po_threshold = fields.Float("No-order Approval Threshold", groups=MATCH_OVERRIDE)
