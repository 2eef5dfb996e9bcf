"""Handler of ``contract.upsert``: a contract platform creates or updates a contract.

A trusted platform's approval is the contract's; an untrusted partner's contract waits
in review for a Procurement Manager.
"""

from odoo import _, api, fields, models

from odoo.addons.integration_queue.exceptions import BusinessError
from odoo.addons.integration_queue.registry import message_handler

from ..contract_procurement_sync import PROCUREMENT


class ContractProcurementSync(models.AbstractModel):
    _inherit = "contract.procurement.sync"

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
