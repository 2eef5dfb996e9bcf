from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import float_compare

from .. import guard

# what the contract's approval covers on a line (the sequence is only display order)
UNREVIEWED_LINE_FIELDS = {"sequence"}


class PurchaseContractLine(models.Model):
    """A contracted price for one product, with optional quantity price breaks."""

    _name = "purchase.contract.line"
    _description = "Supplier Contract Line"
    _order = "contract_id, sequence, id"
    _rec_names_search = ["contract_id.name", "product_id.default_code", "product_id.name"]

    sequence = fields.Integer(default=10)
    contract_id = fields.Many2one(
        "purchase.contract", required=True, ondelete="cascade", index=True
    )
    product_id = fields.Many2one("product.product", required=True, index=True)
    supplier_code = fields.Char("Supplier Item Code")
    product_uom_id = fields.Many2one("uom.uom", "Unit", required=True)
    price = fields.Float(required=True, digits="Product Price")
    min_qty = fields.Float("Minimum Quantity", digits="Product Unit of Measure")
    break_ids = fields.One2many(
        "purchase.contract.price.break", "line_id", "Price Breaks", copy=True
    )
    currency_id = fields.Many2one(related="contract_id.currency_id")
    partner_id = fields.Many2one(related="contract_id.partner_id", store=True)
    company_id = fields.Many2one(related="contract_id.company_id", store=True, index=True)
    state = fields.Selection(related="contract_id.state", store=True)

    @api.depends("contract_id.name", "product_id")
    def _compute_display_name(self):
        # buyers read "CT-00012 - [CT-SYR10] Syringe", not the line's id
        for line in self:
            line.display_name = f"{line.contract_id.name} - {line.product_id.display_name}"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.contract_id._reopen_for_review()
        return lines

    def write(self, vals):
        contracts = self.contract_id
        result = super().write(vals)
        if set(vals) - UNREVIEWED_LINE_FIELDS:
            (contracts | self.contract_id)._reopen_for_review()
        return result

    def unlink(self):
        contracts = self.contract_id
        result = super().unlink()
        contracts.exists()._reopen_for_review()
        return result

    def _price_for(self, quantity):
        """Contract price for ``quantity`` (in the line's unit): the best break reached."""
        self.ensure_one()
        price = self.price
        for price_break in self.break_ids.sorted("min_qty"):
            if float_compare(quantity, price_break.min_qty, precision_digits=6) >= 0:
                price = price_break.price
        return price

    def _prepare_supplierinfo_vals(self):
        self.ensure_one()
        contract = self.contract_id
        base = {
            "partner_id": contract.partner_id.id,
            "product_tmpl_id": self.product_id.product_tmpl_id.id,
            "product_id": self.product_id.id,
            "product_code": self.supplier_code,
            "product_uom": self.product_uom_id.id,
            "currency_id": contract.currency_id.id,
            "company_id": contract.company_id.id,
            "date_start": contract.date_start,
            "date_end": contract.date_end,
            "contract_line_id": self.id,
            # facility-specific contracts sort first, then the newest
            "sequence": 1 if contract.warehouse_ids else 5,
        }
        vals = [dict(base, min_qty=self.min_qty, price=self.price)]
        vals += [dict(base, min_qty=b.min_qty, price=b.price) for b in self.break_ids]
        return vals


class PurchaseContractPriceBreak(models.Model):
    _name = "purchase.contract.price.break"
    _description = "Contract Price Break"
    _order = "min_qty"

    line_id = fields.Many2one("purchase.contract.line", required=True, ondelete="cascade")
    min_qty = fields.Float("From Quantity", required=True, digits="Product Unit of Measure")
    price = fields.Float(required=True, digits="Product Price")
    company_id = fields.Many2one(related="line_id.contract_id.company_id", store=True)

    @api.model_create_multi
    def create(self, vals_list):
        breaks = super().create(vals_list)
        breaks.line_id.contract_id._reopen_for_review()
        return breaks

    def write(self, vals):
        contracts = self.line_id.contract_id
        result = super().write(vals)
        (contracts | self.line_id.contract_id)._reopen_for_review()
        return result

    def unlink(self):
        contracts = self.line_id.contract_id
        result = super().unlink()
        contracts.exists()._reopen_for_review()
        return result


class ProductSupplierinfo(models.Model):
    _inherit = "product.supplierinfo"

    contract_line_id = fields.Many2one(
        "purchase.contract.line", ondelete="cascade", index=True, readonly=True
    )

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("contract_line_id") for vals in vals_list):
            self._check_contract_prices_path()
        return super().create(vals_list)

    def write(self, vals):
        if "contract_line_id" in vals or self.filtered("contract_line_id"):
            self._check_contract_prices_path()
        return super().write(vals)

    def unlink(self):
        if self.filtered("contract_line_id"):
            self._check_contract_prices_path()
        return super().unlink()

    def _check_contract_prices_path(self):
        """Vendor prices of a contract are the contract's: they change with it only."""
        if not guard.on_private_path():
            raise AccessError(
                _(
                    "Vendor prices from a contract change only with the contract "
                    "(its lines, then a new approval)."
                )
            )
