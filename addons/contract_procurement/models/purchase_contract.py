from odoo import _, api, fields, models

CONTRACT_STATES = [
    ("draft", "Draft"),
    ("review", "In Review"),
    ("approved", "Approved"),
    ("active", "Active"),
    ("suspended", "Suspended"),
    ("expired", "Expired"),
    ("terminated", "Terminated"),
]


class PurchaseContract(models.Model):
    """A negotiated supplier contract: prices that purchase orders must honour."""

    _name = "purchase.contract"
    _description = "Supplier Contract"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_start desc, id desc"

    name = fields.Char(
        "Number",
        required=True,
        copy=False,
        readonly=True,
        default=lambda self: _("New"),
        tracking=True,
    )
    partner_id = fields.Many2one(
        "res.partner", "Supplier", required=True, tracking=True, index=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id
    )
    date_start = fields.Date("Start Date", required=True, tracking=True)
    date_end = fields.Date("End Date", tracking=True)
    warehouse_ids = fields.Many2many(
        "stock.warehouse", string="Facilities", help="Leave empty: the contract covers all."
    )
    state = fields.Selection(
        CONTRACT_STATES, default="draft", required=True, tracking=True, index=True
    )
    line_ids = fields.One2many("purchase.contract.line", "contract_id", "Lines", copy=True)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("purchase.contract") or _("New")
        return super().create(vals_list)
