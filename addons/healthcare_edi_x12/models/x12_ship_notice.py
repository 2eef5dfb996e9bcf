from odoo import _, api, fields, models
from odoo.exceptions import AccessError


class X12ShipNotice(models.Model):
    """An advance ship notice: what a supplier says it shipped, per order line."""

    _name = "x12.ship.notice"
    _description = "Ship Notice"
    _order = "id desc"

    name = fields.Char("Shipment", required=True, readonly=True)
    partner_id = fields.Many2one("integration.partner", required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    supplier_id = fields.Many2one("res.partner", readonly=True)
    ship_date = fields.Date(readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", "Ship To", readonly=True)
    message_id = fields.Many2one("integration.message", readonly=True, index=True)
    line_ids = fields.One2many("x12.ship.notice.line", "notice_id", "Lines", readonly=True)
    purchase_ids = fields.Many2many(
        "purchase.order", string="Purchase Orders", compute="_compute_purchase_ids"
    )

    @api.depends("line_ids.purchase_id")
    def _compute_purchase_ids(self):
        for notice in self:
            notice.purchase_ids = notice.line_ids.purchase_id

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(_("Ship notices come from suppliers' messages only."))
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            raise AccessError(_("Ship notices come from suppliers' messages only."))
        return super().write(vals)


class X12ShipNoticeLine(models.Model):
    """One expected shipment of an order line: quantity, lot, expiry and serials,
    matched against what the receipt records for that line and lot."""

    _name = "x12.ship.notice.line"
    _description = "Ship Notice Line"
    _order = "notice_id, id"

    notice_id = fields.Many2one("x12.ship.notice", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="notice_id.company_id", store=True)
    purchase_line_id = fields.Many2one("purchase.order.line", required=True, index=True)
    purchase_id = fields.Many2one(related="purchase_line_id.order_id", store=True, index=True)
    product_id = fields.Many2one("product.product", required=True)
    quantity = fields.Float("Shipped Quantity", digits="Product Unit of Measure")
    lot_name = fields.Char("Lot")
    expiry_date = fields.Date()
    serials = fields.Text(help="One serial number per line.")
    received_qty = fields.Float(
        "Received", compute="_compute_match", digits="Product Unit of Measure"
    )
    match_state = fields.Selection(
        [("pending", "Not received"), ("matched", "Matched"), ("short", "Short"), ("over", "Over")],
        "Match",
        compute="_compute_match",
    )

    def _compute_match(self):
        for line in self:
            move_lines = line.purchase_line_id.move_ids.filtered(
                lambda m: m.state == "done"
            ).move_line_ids
            if line.lot_name:
                move_lines = move_lines.filtered(
                    lambda ml, lot=line.lot_name: (ml.lot_id.name or ml.lot_name) == lot
                )
            received = sum(move_lines.mapped("quantity"))
            line.received_qty = received
            if not received:
                line.match_state = "pending"
            elif abs(received - line.quantity) < 1e-6:
                line.match_state = "matched"
            else:
                line.match_state = "short" if received < line.quantity else "over"

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(_("Ship notices come from suppliers' messages only."))
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            raise AccessError(_("Ship notices come from suppliers' messages only."))
        return super().write(vals)
