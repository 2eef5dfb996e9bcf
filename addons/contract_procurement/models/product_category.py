from odoo import fields, models

from .account_move import BILL_PO_POLICIES, MATCH_OVERRIDE


class ProductCategory(models.Model):
    _inherit = "product.category"

    procurement_user_id = fields.Many2one(
        "res.users",
        "Category Buyer",
        domain=[("share", "=", False)],
        help="Answers for purchases of this category when the vendor names no buyer.",
    )
    bill_po_policy = fields.Selection(
        BILL_PO_POLICIES,
        "Bills Without Order",
        groups=MATCH_OVERRIDE,
        help="Whether bills of this category need a purchase order. Empty: an order is "
        "required (the vendor's or the journal's policy, when set, comes first).",
    )
    bill_po_threshold = fields.Float(
        "No-order Approval Threshold",
        groups=MATCH_OVERRIDE,
        help="With 'Order required above a threshold': untaxed bill amounts up to this "
        "pass without an order; above it the bill needs a Finance Manager override.",
    )
