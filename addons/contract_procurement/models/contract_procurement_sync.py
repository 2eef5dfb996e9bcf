"""The procurement message handlers' model and what they share.

Each inbound message type has its own module under ``handlers/`` that extends this
model with its ``@message_handler`` method. Shared here: the partner's suppliers,
products, facilities and orders, resolved inside the message's company.
"""

from odoo import _, api, models

from odoo.addons.integration_queue.exceptions import BusinessError

PROCUREMENT = "contract_procurement.group_procurement_manager"


class ContractProcurementSync(models.AbstractModel):
    """Handlers of the procurement message types (one module each under ``handlers/``)."""

    _name = "contract.procurement.sync"
    _description = "Contract Procurement Message Handlers"

    @api.model
    def _partner_suppliers(self, message):
        """The suppliers the message's partner speaks for, inside the message's company."""
        company = message.company_id
        return message.partner_id.sudo().supplier_ids.commercial_partner_id.filtered(
            lambda s: not s.company_id or s.company_id == company
        )

    @api.model
    def _supplier(self, message, payload, field="supplier"):
        """The supplier the payload names: one of the partner's, in the message's company."""
        ref = payload.get(field)
        supplier = self._partner_suppliers(message).filtered(
            lambda s: ref and ref in (s.ref, s.vat)
        )[:1]
        if not supplier:
            raise BusinessError(
                _("Unknown supplier %s (or not one of this partner's)", ref),
                field=field,
                group_xmlid=PROCUREMENT,
            )
        return supplier

    @api.model
    def _product(self, item, field, company, partner=None):
        """The product ``item`` names (code, supplier code, barcode) usable in ``company``."""
        in_company = [("company_id", "in", (False, company.id))]
        Product = self.env["product.product"].sudo().with_company(company)
        product = Product.search([("default_code", "=", item), *in_company], limit=1)
        if not product and partner:
            info = (
                self.env["product.supplierinfo"]
                .sudo()
                .search(
                    [("partner_id", "=", partner.id), ("product_code", "=", item), *in_company],
                    limit=1,
                )
            )
            product = info.product_id or info.product_tmpl_id.product_variant_id
            if product.company_id and product.company_id != company:
                product = Product
        if not product:
            product = Product.search([("barcode", "=", item), *in_company], limit=1)
        if not product:
            raise BusinessError(
                _("Unknown product %s: map it, then replay", item),
                field=field,
                group_xmlid=PROCUREMENT,
                details={"item": item},
            )
        return product

    @api.model
    def _request_warehouse(self, message, code, field="facility"):
        """The facility ``code`` names among the partner's facilities of the company."""
        company = message.company_id
        facilities = message.partner_id.sudo().facility_ids.filtered(
            lambda w: w.company_id == company
        )
        warehouse = (
            facilities.filtered(lambda w: code == getattr(w, "facility_code", None))[:1]
            or facilities.filtered(lambda w: code == w.code)[:1]
        )
        if not warehouse:
            raise BusinessError(
                _("Unknown facility %s (or not one of this partner's)", code), field=field
            )
        return warehouse

    @api.model
    def _partner_order(self, message, payload, field="purchase_order"):
        """The order the payload names: of one of the partner's suppliers, in its company."""
        order = self.env["purchase.order"]._find_by_reference(
            payload[field], message.company_id, self._partner_suppliers(message)
        )
        if not order:
            raise BusinessError(
                _("Unknown purchase order %s (or not one of this partner's)", payload[field]),
                field=field,
                group_xmlid=PROCUREMENT,
            )
        return order
