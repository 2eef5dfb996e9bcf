from odoo import _, api, fields, models

from odoo.addons.integration_queue.exceptions import BusinessError

PROCUREMENT = "contract_procurement.group_procurement_manager"


class ContractProcurementSync(models.AbstractModel):
    """Handlers of the procurement message types."""

    _name = "contract.procurement.sync"
    _description = "Contract Procurement Message Handlers"

    @api.model
    def _supplier(self, payload, field="supplier"):
        ref = payload.get(field)
        partner = (
            self.env["res.partner"]
            .sudo()
            .search(["|", ("ref", "=", ref), ("vat", "=", ref)], limit=1)
            if ref
            else None
        )
        if not partner:
            raise BusinessError(_("Unknown supplier %s", ref), field=field, group_xmlid=PROCUREMENT)
        return partner.commercial_partner_id

    @api.model
    def _product(self, item, field, partner=None):
        Product = self.env["product.product"].sudo()
        product = Product.search([("default_code", "=", item)], limit=1)
        if not product and partner:
            info = (
                self.env["product.supplierinfo"]
                .sudo()
                .search([("partner_id", "=", partner.id), ("product_code", "=", item)], limit=1)
            )
            product = info.product_id or info.product_tmpl_id.product_variant_id
        if not product:
            product = Product.search([("barcode", "=", item)], limit=1)
        if not product:
            raise BusinessError(
                _("Unknown product %s: map it, then replay", item),
                field=field,
                group_xmlid=PROCUREMENT,
                details={"item": item},
            )
        return product

    # contract.upsert ----------------------------------------------------

    @api.model
    def _handle_contract_upsert(self, message, payload):
        """Create or update a contract (by platform reference) with its lines and state."""
        supplier = self._supplier(payload)
        lines = []
        for index, line in enumerate(payload["lines"]):
            product = self._product(line["item"], f"lines[{index}].item", supplier)
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
        for code in payload.get("facilities", []):
            warehouses |= self._request_warehouse(code, field="facilities")
        Contract = self.env["purchase.contract"].sudo()
        contract = Contract.search([("external_ref", "=", payload["contract"])], limit=1)
        vals = {
            "external_ref": payload["contract"],
            "partner_id": supplier.id,
            "date_start": payload["start_date"],
            "date_end": payload.get("end_date") or False,
            "warehouse_ids": [(6, 0, warehouses.ids)],
        }
        if contract:
            if contract.state == "active":
                contract.action_suspend()
            contract.line_ids.unlink()
            contract.write(dict(vals, line_ids=[(0, 0, line) for line in lines]))
        else:
            contract = Contract.create(dict(vals, line_ids=[(0, 0, line) for line in lines]))
        self._apply_contract_state(contract, payload.get("state", "active"))
        message._link_records(contract)
        return {"contract": contract.name, "state": contract.state}

    @api.model
    def _apply_contract_state(self, contract, state):
        """The platform has already reviewed and approved what it sends as active."""
        if state in ("active", "approved"):
            if contract.state in ("draft", "review"):
                contract.write({"state": "approved"})
            if (
                state == "active"
                and contract.state in ("approved", "suspended")
                and (contract.date_start <= fields.Date.context_today(contract))
            ):
                contract.action_activate()
            else:
                contract._sync_supplier_prices()
        elif state == "suspended" and contract.state == "active":
            contract.action_suspend()
        elif state == "terminated" and contract.state != "terminated":
            contract.action_terminate()

    # supplier.status ----------------------------------------------------

    @api.model
    def _handle_supplier_status(self, message, payload):
        supplier = self._supplier(payload)
        status = {"approve": "approved", "suspend": "suspended", "block": "blocked"}[
            payload["action"]
        ]
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

    @api.model
    def _handle_vendor_bill(self, message, payload):
        """A draft vendor bill linked to the order's lines; the match runs at once."""
        order = (
            self.env["purchase.order"]
            .sudo()
            .search([("name", "=", payload["purchase_order"])], limit=1)
        )
        if not order:
            raise BusinessError(
                _("Unknown purchase order %s", payload["purchase_order"]),
                field="purchase_order",
                group_xmlid=PROCUREMENT,
            )
        invoice_lines = []
        for index, line in enumerate(payload["lines"]):
            product = self._product(line["item"], f"lines[{index}].item", order.partner_id)
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

    @api.model
    def _handle_purchase_request(self, message, payload):
        """Draft orders grouped by the supplier the contract designates (else the vendor)."""
        warehouse = self._request_warehouse(payload["facility"])
        by_supplier = {}
        for index, line in enumerate(payload["lines"]):
            product = self._product(line["item"], f"lines[{index}].item")
            contract_line = self.env["purchase.contract"]._find_line(product, None, warehouse)
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
        orders = self.env["purchase.order"].sudo()
        for supplier, lines in by_supplier.items():
            orders |= orders.create(
                {
                    "partner_id": supplier.id,
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
    def _request_warehouse(self, code, field="facility"):
        Warehouse = self.env["stock.warehouse"].sudo()
        domain = [("code", "=", code)]
        if "facility_code" in Warehouse._fields:
            domain = ["|", ("facility_code", "=", code), *domain]
        warehouse = Warehouse.search(domain, limit=1)
        if not warehouse:
            raise BusinessError(_("Unknown facility %s", code), field=field)
        return warehouse

    # purchase.acknowledgement ---------------------------------------------

    @api.model
    def _handle_purchase_acknowledgement(self, message, payload):
        order = self.env["purchase.order"]._find_by_reference(payload["purchase_order"])
        if not order:
            raise BusinessError(
                _("Unknown purchase order %s", payload["purchase_order"]),
                field="purchase_order",
                group_xmlid=PROCUREMENT,
            )
        result = order._apply_acknowledgement(payload)
        message._link_records(order)
        return result
