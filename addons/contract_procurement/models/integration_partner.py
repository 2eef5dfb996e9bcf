from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, ValidationError

from odoo.addons.integration_queue.models.integration_gateway import GatewayRejection

from .. import guard

PROCUREMENT_MANAGER = "contract_procurement.group_procurement_manager"

# message types a supplier-side partner sends, and the payload field naming the supplier
# or the order (the order's supplier must be one of the partner's)
SUPPLIER_FIELD = {"contract.upsert": "supplier", "supplier.status": "supplier"}
ORDER_FIELD = {"purchase.acknowledgement": "purchase_order", "vendor.bill": "purchase_order"}
# facility fields (a code, or a list of codes) that must be the partner's facilities
FACILITY_FIELDS = {"purchase.request": ("facility",), "contract.upsert": ("facilities",)}


class IntegrationPartner(models.Model):
    _name = "integration.partner"
    _inherit = ["integration.partner", "contract.procurement.guarded"]

    # whether its contracts count as approved: a Procurement Manager's decision only
    _guarded_fields = ("trusted_contract_platform",)
    _guarded_create_defaults = {"trusted_contract_platform": False}

    supplier_ids = fields.Many2many(
        "res.partner",
        "integration_partner_supplier_rel",
        "integration_partner_id",
        "res_partner_id",
        string="Suppliers",
        always_audited=True,  # the partner's scope: every change is an audit event
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
        always_audited=True,
        help="Facilities of the partner's company it may post messages for.",
    )
    trusted_contract_platform = fields.Boolean(
        readonly=True,
        copy=False,
        tracking=True,
        help="Set by a Procurement Manager: contracts this partner sends as approved or "
        "active count as approved on its platform. Otherwise they wait in review for a "
        "Procurement Manager.",
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

    def action_trust_contract_platform(self):
        """Take the contracts this partner sends as approved (Procurement Manager)."""
        return self._set_contract_platform_trust(True)

    def action_distrust_contract_platform(self):
        """Send this partner's contracts to review again (Procurement Manager)."""
        return self._set_contract_platform_trust(False)

    def _set_contract_platform_trust(self, trusted):
        if not self.env.user.has_group(PROCUREMENT_MANAGER):
            raise AccessError(
                _("Only a Procurement Manager decides which contract platforms are trusted.")
            )
        # Procurement Managers need not hold an Integration group: read and write the
        # partner as superuser, after the group check and inside the user's companies
        partners = self.sudo()
        foreign = partners.filtered(lambda p: p.company_id not in self.env.user.company_ids)
        if foreign:
            raise AccessError(
                _(
                    "%s belongs to a company you do not work for.",
                    ", ".join(foreign.mapped("name")),
                )
            )
        for partner in partners:
            with guard.guarded_write():
                partner.write({"trusted_contract_platform": trusted})
            self.env["integration.audit.event"].sudo()._log(
                "manual_action",
                _(
                    "Partner %(code)s trusted as a contract platform: %(trusted)s",
                    code=partner.code,
                    trusted=trusted,
                ),
                records=partner,
                details={"trusted_contract_platform": trusted, "user_id": self.env.uid},
            )
        return True

    @api.model
    def _demo_trust_contract_platform(self, partner_ids):
        """Demo data only: the demo administrator, a Procurement Manager, trusts these
        partners through the guarded method (its checks and its audit event)."""
        admin = self.env.ref("base.user_admin")
        return self.browse(partner_ids).with_user(admin)._set_contract_platform_trust(True)

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
