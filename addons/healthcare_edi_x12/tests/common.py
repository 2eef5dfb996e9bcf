from odoo import Command

from odoo.addons.contract_procurement.tests.common import ProcurementMixin
from odoo.addons.integration_audit.correlation import CONTEXT_KEY, HEADER

from . import samples

FACILITY_GLN = "5012345000015"
COMPANY_GLN = "5012345000022"
SUPPLIER_GLN = "5012345000039"
X12_MEDIA_TYPE = "application/edi-x12"


class X12Mixin(ProcurementMixin):
    """The procurement test world, with the test partner speaking X12 for the supplier:
    GLNs on the facility, the company and the supplier, and a confirmed order."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        env = cls.env
        cls.warehouse.gln = FACILITY_GLN
        env.company.gln = COMPANY_GLN
        cls.supplier.gln = SUPPLIER_GLN
        types = [
            env.ref(xmlid).id
            for xmlid in (
                "healthcare_edi_x12.message_type_x12_interchange",
                "contract_procurement.message_type_purchase_acknowledgement",
                "healthcare_edi_x12.message_type_ship_notice",
            )
        ]
        cls.partner.write(
            {
                "message_type_ids": [Command.link(t) for t in types],
                "x12_enabled": True,
                "x12_version": "00401",
                "x12_partner_qualifier": "ZZ",
                "x12_partner_id": "SUPPLIERX12",
                "x12_our_qualifier": "ZZ",
                "x12_our_id": "HCSCHOSPITAL",
                # not an allowed destination: deliveries fail without leaving the machine
                "outbound_url": "http://127.0.0.1:9/x12",
            }
        )
        cls.supplier.integration_partner_id = cls.partner
        cls.gloves.barcode = "06291041500213"
        env["product.supplierinfo"].create(
            {
                "partner_id": cls.supplier.id,
                "product_tmpl_id": cls.gloves.product_tmpl_id.id,
                "product_code": "MS-GLV-100",
                "price": 2.5,
            }
        )
        cls.purchase_order = cls.env["purchase.order"].create(
            {
                "partner_id": cls.supplier.id,
                "picking_type_id": cls.warehouse.in_type_id.id,
                "order_line": [
                    Command.create(
                        {"product_id": cls.gloves.id, "product_qty": 10, "price_unit": 2.5}
                    ),
                    Command.create(
                        {"product_id": cls.mask.id, "product_qty": 4, "price_unit": 7.0}
                    ),
                ],
            }
        )
        cls.purchase_order.button_confirm()

    # helpers -----------------------------------------------------------

    def receive_x12(self, text, content_type=X12_MEDIA_TYPE, correlation_id=None, **kwargs):
        """Hand a signed X12 interchange to the gateway (no HTTP); return the Answer.

        ``correlation_id``: the trace the partner names (X-Correlation-ID), as the
        controller hands it over."""
        headers, body = self.signed(text, **kwargs)
        headers["Content-Type"] = content_type
        gateway = self.env["integration.gateway"]
        if correlation_id:
            headers[HEADER] = correlation_id
            gateway = gateway.with_context(**{CONTEXT_KEY: correlation_id})
        return gateway._receive("x12.interchange", headers, body, content_type, len(body))

    def interchange(self, groups, control=1, **kwargs):
        return samples.interchange(groups, control=control, **kwargs)

    def documents(self, **domain):
        return self.env["x12.document"].search(
            [(name, "=", value) for name, value in domain.items()], order="id"
        )

    def sent_997s(self):
        """The 997 texts queued to the partner, oldest first."""
        messages = self.env["integration.message"].search(
            [
                ("partner_id", "=", self.partner.id),
                ("direction", "=", "outbound"),
                ("message_type", "=", "x12.outbound"),
            ],
            order="id",
        )
        return [m.payload for m in messages if "ST*997*" in (m.payload or "")]
