from odoo import _, api, fields, models

from odoo.addons.integration_queue.exceptions import BusinessError
from odoo.addons.integration_queue.registry import message_handler

PROCUREMENT = "contract_procurement.group_procurement_manager"


class ContractProcurementSync(models.AbstractModel):
    """Handlers of the procurement message types."""

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

    # contract.upsert ----------------------------------------------------

    @message_handler("contract.upsert")
    @api.model
    def _handle_contract_upsert(self, message, payload):
        """Create or update a contract (by platform reference) with its lines and state."""
        company = message.company_id
        supplier = self._supplier(message, payload)
        lines = []
        for index, line in enumerate(payload["lines"]):
            product = self._product(line["item"], f"lines[{index}].item", company, supplier)
            lines.append(
                {
                    "product_id": product.id,
                    "supplier_code": line.get("supplier_code") or line["item"],
                    "product_uom_id": product.uom_po_id.id,
                    "price": line["price"],
                    "min_qty": line.get("min_qty", 0.0),
                    "break_ids": [
                        (0, 0, {"min_qty": b["min_qty"], "price": b["price"]})
                        for b in line.get("price_breaks", [])
                    ],
                }
            )
        warehouses = self.env["stock.warehouse"].sudo()
        for index, code in enumerate(payload.get("facilities", [])):
            warehouses |= self._request_warehouse(message, code, field=f"facilities[{index}]")
        Contract = self.env["purchase.contract"].sudo().with_company(company)
        contract = Contract.search(
            [("external_ref", "=", payload["contract"]), ("company_id", "=", company.id)], limit=1
        )
        if contract and contract.partner_id not in self._partner_suppliers(message):
            raise BusinessError(
                _(
                    "Contract %s belongs to a supplier this partner does not speak for",
                    contract.name,
                ),
                field="contract",
                group_xmlid=PROCUREMENT,
            )
        vals = {
            "external_ref": payload["contract"],
            "company_id": company.id,
            "currency_id": company.currency_id.id,
            "partner_id": supplier.id,
            "date_start": payload["start_date"],
            "date_end": payload.get("end_date") or False,
            "warehouse_ids": [(6, 0, warehouses.ids)],
        }
        if contract:
            if contract.state in ("expired", "terminated"):
                if payload.get("state") == "terminated":
                    # the platform repeats an end already recorded: nothing to change
                    message._link_records(contract)
                    return {"contract": contract.name, "state": contract.state}
                raise BusinessError(
                    _("Contract %s has ended; send a new contract reference", contract.name),
                    field="contract",
                    group_xmlid=PROCUREMENT,
                )
            if contract.state == "active":
                contract._suspend()
            contract.line_ids.unlink()
            contract.write(dict(vals, line_ids=[(0, 0, line) for line in lines]))
        else:
            contract = Contract.create(dict(vals, line_ids=[(0, 0, line) for line in lines]))
        if message.partner_id.sudo().trusted_contract_platform:
            self._apply_contract_state(contract, payload.get("state", "active"))
        else:
            self._apply_untrusted_contract_state(contract, payload.get("state", "active"))
        message._link_records(contract)
        return {"contract": contract.name, "state": contract.state}

    @api.model
    def _apply_untrusted_contract_state(self, contract, state):
        """A partner not trusted as a contract platform proposes, a person approves: what
        it sends as approved or active waits in review for a Procurement Manager (no
        vendor price until then); it may still suspend or terminate its contract."""
        if state in ("active", "approved"):
            if contract.state == "draft":
                contract._transition(("draft",), "review", {"submitted_by_id": self.env.uid})
                responsible = self.env["purchase.order"]._procurement_responsible(
                    contract.company_id,
                    partner=contract.partner_id,
                    products=contract.line_ids.product_id,
                )
                if responsible:
                    contract.activity_schedule(
                        "mail.mail_activity_data_todo",
                        user_id=responsible.id,
                        summary=_("Review contract %s sent by a partner system", contract.name),
                    )
        else:
            self._apply_contract_state(contract, state)

    @api.model
    def _apply_contract_state(self, contract, state):
        """The platform has already reviewed and approved what it sends as active.

        The platform's approval is the contract's (``platform_approved``); the private
        transition steps apply it, as no person of this company approves here.
        """
        if state in ("active", "approved"):
            if contract.state in ("draft", "review"):
                contract._transition(
                    ("draft", "review"),
                    "approved",
                    {"platform_approved": True, "approved_by_id": False},
                )
            if (
                state == "active"
                and contract.state in ("approved", "suspended")
                and (contract.date_start <= fields.Date.context_today(contract))
            ):
                contract._activate()
            else:
                contract._sync_supplier_prices()
        elif state == "suspended" and contract.state == "active":
            contract._suspend()
        elif state == "terminated" and contract.state != "terminated":
            contract._terminate()

    # supplier.status ----------------------------------------------------

    @message_handler("supplier.status")
    @api.model
    def _handle_supplier_status(self, message, payload):
        supplier = self._supplier(message, payload)
        status = {"approve": "approved", "suspend": "suspended", "block": "blocked"}[
            payload["action"]
        ]
        if not supplier._message_may_set_status(status):
            # the message stays recorded (exception) and the procurement group is told
            raise BusinessError(
                _(
                    "%(supplier)s was set %(current)s by %(user)s: only a Procurement Manager "
                    "lifts it; this message changed nothing",
                    supplier=supplier.display_name,
                    current=supplier.supplier_status,
                    user=supplier.supplier_hold_by_id.name,
                ),
                field="action",
                group_xmlid=PROCUREMENT,
                details={"requested": status, "current": supplier.supplier_status},
            )
        supplier._set_supplier_status(status, payload.get("reason"))
        Document = self.env["res.partner.supplier.document"].sudo()
        for document in payload.get("documents", []):
            existing = Document.search(
                [("partner_id", "=", supplier.id), ("name", "=", document["name"])], limit=1
            )
            vals = {
                "partner_id": supplier.id,
                "name": document["name"],
                "document_type": document.get("type", "other"),
                "expiry_date": document.get("expiry_date") or False,
            }
            if existing:
                existing.write(vals)
            else:
                Document.create(vals)
        message._link_records(supplier)
        return {"supplier": supplier.display_name, "status": status}

    # vendor.bill ----------------------------------------------------------

    @message_handler("vendor.bill")
    @api.model
    def _handle_vendor_bill(self, message, payload):
        """A draft vendor bill linked to the order's lines; the match runs at once."""
        order = self._partner_order(message, payload)
        company = order.company_id
        invoice_lines = []
        for index, line in enumerate(payload["lines"]):
            product = self._product(line["item"], f"lines[{index}].item", company, order.partner_id)
            order_line = order.order_line.filtered(lambda rec, p=product: rec.product_id == p)[:1]
            if not order_line:
                raise BusinessError(
                    _(
                        "%(product)s is not on %(order)s",
                        product=product.display_name,
                        order=order.name,
                    ),
                    field=f"lines[{index}].item",
                    group_xmlid=PROCUREMENT,
                )
            vals = order_line._prepare_account_move_line()
            vals.update(quantity=line["quantity"], price_unit=line["price"])
            invoice_lines.append((0, 0, vals))
        bill = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "move_type": "in_invoice",
                    "partner_id": order.partner_id.id,
                    "ref": payload["invoice_number"],
                    "invoice_date": payload.get("invoice_date") or fields.Date.context_today(self),
                    "invoice_origin": order.name,
                    "currency_id": order.currency_id.id,
                    "company_id": order.company_id.id,
                    "invoice_line_ids": invoice_lines,
                }
            )
        )
        bill._run_three_way_match()
        message._link_records(bill)
        return {
            "bill": bill.display_name,
            "match_state": bill.match_state,
            "exceptions": bill.match_exception_ids.mapped("exception_type"),
        }

    # purchase.request -----------------------------------------------------

    @message_handler("purchase.request")
    @api.model
    def _handle_purchase_request(self, message, payload):
        """Draft orders grouped by the supplier the contract designates (else the vendor)."""
        warehouse = self._request_warehouse(message, payload["facility"])
        company = warehouse.company_id
        by_supplier = {}
        for index, line in enumerate(payload["lines"]):
            product = self._product(line["item"], f"lines[{index}].item", company)
            contract_line = self.env["purchase.contract"]._find_line(
                product, None, warehouse, company=company
            )
            supplier = contract_line.contract_id.partner_id
            if not supplier:
                seller = product.seller_ids.filtered(
                    lambda s: not s.company_id or s.company_id == warehouse.company_id
                )[:1]
                supplier = seller.partner_id
            if not supplier:
                raise BusinessError(
                    _("No contract or vendor for %s", product.display_name),
                    field=f"lines[{index}].item",
                    group_xmlid=PROCUREMENT,
                )
            by_supplier.setdefault(supplier, []).append((product, line["quantity"]))
        orders = self.env["purchase.order"].sudo().with_company(company)
        for supplier, lines in by_supplier.items():
            # a real buyer, never the job's user (OdooBot): vendor, category, facility, group
            buyer = orders._procurement_responsible(
                company,
                warehouse=warehouse,
                partner=supplier,
                products=self.env["product.product"].concat(*(p for p, _qty in lines)),
            )
            orders |= orders.create(
                {
                    "partner_id": supplier.id,
                    "company_id": company.id,
                    "user_id": buyer.id,
                    "origin": payload["request"],
                    "picking_type_id": warehouse.in_type_id.id,
                    "date_planned": payload.get("needed_by", "").replace("T", " ")[:19] or False,
                    "order_line": [
                        (0, 0, {"product_id": product.id, "product_qty": quantity})
                        for product, quantity in lines
                    ],
                }
            )
        message._link_records(orders)
        return {"orders": orders.mapped("name")}

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

    # purchase.acknowledgement ---------------------------------------------

    @message_handler("purchase.acknowledgement")
    @api.model
    def _handle_purchase_acknowledgement(self, message, payload):
        order = self._partner_order(message, payload)
        result = order._apply_acknowledgement(payload)
        message._link_records(order)
        return result
