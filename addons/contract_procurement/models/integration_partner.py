from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError

from odoo.addons.integration_queue.models.integration_gateway import GatewayRejection

# message types a supplier-side partner sends, and the payload field naming the supplier
# or the order (the order's supplier must be one of the partner's)
SUPPLIER_FIELD = {"contract.upsert": "supplier", "supplier.status": "supplier"}
ORDER_FIELD = {"purchase.acknowledgement": "purchase_order", "vendor.bill": "purchase_order"}
# facility fields (a code, or a list of codes) that must be the partner's facilities
FACILITY_FIELDS = {"purchase.request": ("facility",), "contract.upsert": ("facilities",)}


class IntegrationPartner(models.Model):
    _inherit = "integration.partner"

    supplier_ids = fields.Many2many(
        "res.partner",
        "integration_partner_supplier_rel",
        "integration_partner_id",
        "res_partner_id",
        string="Suppliers",
        domain="[('is_company', '=', True), ('company_id', 'in', (False, company_id))]",
        help="The suppliers this partner speaks for: it acknowledges, bills and updates "
        "contracts and status of these only.",
    )
    # the same field (same table and columns) as healthcare_inventory_sync's: both addons
    # check a partner's facilities, and neither depends on the other
    facility_ids = fields.Many2many(
        "stock.warehouse",
        "integration_partner_stock_warehouse_rel",
        "integration_partner_id",
        "stock_warehouse_id",
        string="Facilities",
        help="Facilities of the partner's company it may post messages for.",
    )

    @api.constrains("supplier_ids", "facility_ids", "company_id")
    def _check_scope_company(self):
        for partner in self:
            foreign = partner.supplier_ids.filtered(
                lambda s, p=partner: s.company_id and s.company_id != p.company_id
            ).mapped("display_name") + partner.facility_ids.filtered(
                lambda w, p=partner: w.company_id != p.company_id
            ).mapped("display_name")
            if foreign:
                raise ValidationError(
                    _(
                        "Suppliers/Facilities: %(names)s belong to another company than "
                        "partner %(partner)s.",
                        names=", ".join(foreign),
                        partner=partner.name,
                    )
                )

    @api.model
    @tools.ormcache("partner_id")
    def _procurement_scope(self, partner_id):
        """What a partner may name in procurement messages: supplier references (ref or
        VAT) and ids, and facility codes, all inside the partner's company."""
        partner = self.sudo().browse(partner_id)
        company = partner.company_id
        suppliers = partner.supplier_ids.commercial_partner_id.filtered(
            lambda s: not s.company_id or s.company_id == company
        )
        facilities = partner.facility_ids.filtered(lambda w: w.company_id == company)
        codes = set(facilities.mapped("code"))
        if "facility_code" in facilities._fields:
            codes |= set(facilities.mapped("facility_code"))
        return {
            "company_id": company.id,
            "supplier_ids": frozenset(suppliers.ids),
            "supplier_refs": frozenset(suppliers.mapped("ref") + suppliers.mapped("vat"))
            - {False, ""},
            "facility_codes": frozenset(codes - {False, ""}),
        }


class IntegrationGateway(models.AbstractModel):
    _inherit = "integration.gateway"

    def _check_scope(self, partner, message_type, data):
        """Procurement messages: the supplier, the order and the facilities named must be
        the partner's, inside its company (else 403 naming the field)."""
        res = super()._check_scope(partner, message_type, data)
        if not isinstance(data, dict) or (
            message_type not in SUPPLIER_FIELD
            and message_type not in ORDER_FIELD
            and message_type not in FACILITY_FIELDS
        ):
            return res
        scope = self.env["integration.partner"]._procurement_scope(partner["id"])
        field = SUPPLIER_FIELD.get(message_type)
        if field and data.get(field) not in scope["supplier_refs"]:
            raise GatewayRejection(
                403, "forbidden", f"partner may not act for supplier {data.get(field)!r}", field
            )
        field = ORDER_FIELD.get(message_type)
        if field and not self._order_in_scope(data.get(field), scope):
            raise GatewayRejection(
                403, "forbidden", f"partner may not act on order {data.get(field)!r}", field
            )
        for field in FACILITY_FIELDS.get(message_type, ()):
            self._check_procurement_facilities(data, field, scope)
        return res

    def _order_in_scope(self, reference, scope):
        if not reference or not scope["supplier_ids"]:
            return False
        company = self.env["res.company"].browse(scope["company_id"])
        suppliers = self.env["res.partner"].browse(scope["supplier_ids"])
        return bool(self.env["purchase.order"]._find_by_reference(reference, company, suppliers))

    def _check_procurement_facilities(self, data, field, scope):
        value = data.get(field)
        if value is None:
            return
        codes = value if isinstance(value, list) else [value]
        for index, code in enumerate(codes):
            if code not in scope["facility_codes"]:
                raise GatewayRejection(
                    403,
                    "forbidden",
                    f"partner may not post for facility {code!r}",
                    f"{field}[{index}]" if isinstance(value, list) else field,
                )
