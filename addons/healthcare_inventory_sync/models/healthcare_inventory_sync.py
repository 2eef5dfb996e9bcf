"""The inventory message handlers' model and what they share.

Each inbound message type has its own module under ``handlers/`` that extends this
model with its ``@message_handler`` method. Shared here: the facility and item
resolution (mapping, internal reference, GTIN, units, lots), lot creation, the
inter-facility transfer (also used by replenishment proposals) and the checks run
after stock changed.
"""

from datetime import datetime

from odoo import _, api, fields, models

from odoo.addons.integration_queue.exceptions import BusinessError

from .. import gs1

STEWARD = "healthcare_inventory_sync.group_inventory_data_steward"


class ResolvedLine:
    """One message line, resolved to Odoo terms."""

    __slots__ = ("expiry", "index", "lot_name", "product", "quantity", "uom")

    def __init__(self, index, product, quantity, uom, lot_name=None, expiry=None):
        self.index = index
        self.product = product
        self.quantity = quantity  # in the product's unit
        self.uom = uom
        self.lot_name = lot_name
        self.expiry = expiry


class HealthcareInventorySync(models.AbstractModel):
    """Handlers of the inventory message types (one module each under ``handlers/``),
    and the item resolution they share."""

    _name = "healthcare.inventory.sync"
    _description = "Healthcare Inventory Message Handlers"

    # ------------------------------------------------------------------
    # Resolution
    # ------------------------------------------------------------------

    @api.model
    def _facility(self, message, code, field="facility"):
        """The facility ``code`` names inside the message's company (never another's)."""
        warehouse = self.env["stock.warehouse"]._facility_by_code(code, message.company_id)
        if not warehouse:
            raise BusinessError(_("Unknown facility %s", code), field=field, group_xmlid=STEWARD)
        return warehouse

    @api.model
    def _resolve_lines(self, message, lines, require_lot=True):
        """Resolve every line (item, unit, quantity, lot, expiry) with batched look-ups.

        Order: the partner's item mapping, the internal reference, then the GTIN
        (product barcode, or packaging barcode whose quantity multiplies). Every wrong
        line is reported at once, in one exception naming each ``lines[i].field``.
        """
        resolved, errors = self._resolve_lines_partial(message, lines, require_lot)
        if errors:
            raise self._line_errors(errors)
        return resolved

    @api.model
    def _line_errors(self, errors):
        """One BusinessError for all the wrong lines (the single error as it is)."""
        if len(errors) == 1:
            return errors[0]
        fields_at_fault = [error.field for error in errors]
        text = _(
            "%(count)s lines are wrong: %(errors)s",
            count=len(errors),
            errors=self._errors_text(errors),
        )
        group = STEWARD if any(error.group_xmlid for error in errors) else None
        return BusinessError(
            text,
            field=", ".join(fields_at_fault)[:250],
            group_xmlid=group,
            details={
                "errors": [
                    {"field": error.field, "error": str(error), **error.details} for error in errors
                ]
            },
        )

    @api.model
    def _errors_text(self, errors, shown=50):
        """ "lines[0].item: reason; ..." for the first ``shown`` errors (all are in the
        exception's details)."""
        text = "; ".join(f"{error.field}: {error}" for error in errors[:shown])
        if len(errors) > shown:
            text += _(" … and %s more", len(errors) - shown)
        return text

    @api.model
    def _resolve_lines_partial(self, message, lines, require_lot=True):
        """([ResolvedLine], [BusinessError]): the lines that resolve, and one error per
        line that does not (in line order)."""
        partner = message.partner_id
        # products of the message's company or shared ones; never another company's
        in_company = [("company_id", "in", [message.company_id.id, False])]
        parsed = {}
        errors = {}
        for index, line in enumerate(lines):
            if line.get("gs1"):
                try:
                    parsed[index] = gs1.parse(line["gs1"])
                except gs1.GS1Error as error:
                    errors[index] = BusinessError(
                        str(error), field=f"lines[{index}].gs1", group_xmlid=STEWARD
                    )
        codes = {line["item"] for line in lines if line.get("item")}
        gtins = set()
        for index, line in enumerate(lines):
            if not line.get("item") and index not in errors:
                gtin = gs1.normalise_gtin(
                    line.get("gtin") or (parsed.get(index) or gs1.GS1Data()).gtin
                )
                if gtin:
                    gtins.add(gtin)
        mappings = (
            {
                m.external_code: m
                for m in self.env["integration.item.mapping"]
                .sudo()
                .search(
                    [
                        ("partner_id", "=", partner.id),
                        ("external_code", "in", list(codes)),
                        ("product_id.company_id", "in", [message.company_id.id, False]),
                    ]
                )
            }
            if codes
            else {}
        )
        by_ref = (
            {
                p.default_code: p
                for p in self.env["product.product"]
                .sudo()
                .search([("default_code", "in", list(codes - set(mappings))), *in_company])
            }
            if codes - set(mappings)
            else {}
        )
        barcodes = self._barcode_candidates(gtins)
        by_barcode, by_packaging = {}, {}
        if barcodes:
            for product in (
                self.env["product.product"]
                .sudo()
                .search([("barcode", "in", list(barcodes)), *in_company])
            ):
                by_barcode[gs1.normalise_gtin(product.barcode)] = product
            for packaging in (
                self.env["product.packaging"]
                .sudo()
                .search(
                    [
                        ("barcode", "in", list(barcodes)),
                        ("company_id", "in", [message.company_id.id, False]),
                        ("product_id.company_id", "in", [message.company_id.id, False]),
                    ]
                )
            ):
                by_packaging[gs1.normalise_gtin(packaging.barcode)] = packaging
        unit_codes = {
            m.code.upper(): m.uom_id for m in self.env["integration.uom.mapping"].sudo().search([])
        }
        resolved = []
        # the line resolution reads packagings of the message's company (env.company)
        in_message_company = self.with_company(message.company_id)
        for index, line in enumerate(lines):
            if index in errors:
                continue
            try:
                resolved.append(
                    in_message_company._resolve_line(
                        index,
                        line,
                        parsed.get(index),
                        mappings,
                        by_ref,
                        by_barcode,
                        by_packaging,
                        unit_codes,
                        require_lot,
                    )
                )
            except BusinessError as error:
                errors[index] = error
        return resolved, [errors[index] for index in sorted(errors)]

    @api.model
    def _barcode_candidates(self, gtins):
        out = set()
        for gtin in gtins:
            out.update(
                {
                    gtin,
                    gtin[1:] if gtin.startswith("0") else gtin,
                    gtin[2:] if gtin.startswith("00") else gtin,
                }
            )
        return out

    @api.model
    def _resolve_line(
        self,
        index,
        line,
        gs1_data,
        mappings,
        by_ref,
        by_barcode,
        by_packaging,
        unit_codes,
        require_lot=True,
    ):
        where = f"lines[{index}]"
        product = mapped_uom = packaging = None
        item = line.get("item")
        if item:
            mapping = mappings.get(item)
            if mapping:
                product, mapped_uom = mapping.product_id, mapping.uom_id
            else:
                product = by_ref.get(item)
            if not product:
                raise BusinessError(
                    _(
                        "Unknown item %(item)s: add a mapping for this partner or set it as a "
                        "product's internal reference",
                        item=item,
                    ),
                    field=f"{where}.item",
                    group_xmlid=STEWARD,
                    details={"item": item},
                )
        else:
            gtin = gs1.normalise_gtin(line.get("gtin") or (gs1_data.gtin if gs1_data else None))
            if not gtin:
                raise BusinessError(
                    _("The line names no item, GTIN or GS1 string"),
                    field=where,
                    group_xmlid=STEWARD,
                )
            product = by_barcode.get(gtin)
            if not product and gtin in by_packaging:
                packaging = by_packaging[gtin]
                product = packaging.product_id
            if not product:
                raise BusinessError(
                    _("Unknown GTIN %s", gtin),
                    field=f"{where}.gtin",
                    group_xmlid=STEWARD,
                    details={"gtin": gtin},
                )
        quantity = float(line.get("quantity", 0))
        uom = mapped_uom or product.uom_id
        code = (line.get("uom") or "").upper()
        if packaging:
            quantity *= packaging.qty
            uom = product.uom_id
        elif code and not mapped_uom:
            company = self.env.company
            pack = product.packaging_ids.filtered(
                lambda p: (
                    (p.unit_code or "").upper() == code
                    and (not p.company_id or p.company_id == company)
                )
            )
            if pack:
                quantity *= pack[0].qty
                uom = product.uom_id
            elif code in unit_codes:
                uom = unit_codes[code]
            else:
                raise BusinessError(
                    _("Unknown unit %s", code),
                    field=f"{where}.uom",
                    group_xmlid=STEWARD,
                    details={"uom": code},
                )
        if uom != product.uom_id:
            if uom.category_id != product.uom_id.category_id:
                raise BusinessError(
                    _(
                        "Unit %(unit)s cannot measure %(product)s",
                        unit=uom.name,
                        product=product.display_name,
                    ),
                    field=f"{where}.uom",
                    group_xmlid=STEWARD,
                )
            quantity = uom._compute_quantity(quantity, product.uom_id, rounding_method="HALF-UP")
        lot_name = line.get("lot") or (gs1_data.lot if gs1_data else None)
        expiry = line.get("expiry") or (gs1_data.expiry if gs1_data else None)
        if isinstance(expiry, str):
            expiry = fields.Date.to_date(expiry[:10])
        if require_lot and product.tracking != "none" and not lot_name:
            raise BusinessError(
                _("%s is tracked by lot: the line needs a lot", product.display_name),
                field=f"{where}.lot",
            )
        return ResolvedLine(index, product, quantity, uom, lot_name, expiry)

    @api.model
    def _get_lots(self, resolved, company, create=True):
        """{(product id, lot name): stock.lot}, creating missing lots with their expiry."""
        wanted = {
            (r.product.id, r.lot_name): r
            for r in resolved
            if r.lot_name and r.product.tracking != "none"
        }
        if not wanted:
            return {}
        Lot = self.env["stock.lot"].sudo()
        lots = {
            (lot.product_id.id, lot.name): lot
            for lot in Lot.search(
                [
                    ("product_id", "in", list({k[0] for k in wanted})),
                    ("name", "in", list({k[1] for k in wanted})),
                    ("company_id", "in", [company.id, False]),
                ]
            )
        }
        missing = [key for key in wanted if key not in lots]
        if missing and create:
            new = Lot.create([self._prepare_lot_vals(wanted[key], company) for key in missing])
            for lot in new:
                lots[(lot.product_id.id, lot.name)] = lot
        return lots

    @api.model
    def _prepare_lot_vals(self, line, company):
        vals = {"name": line.lot_name, "product_id": line.product.id, "company_id": company.id}
        if line.expiry:
            vals["expiration_date"] = datetime.combine(line.expiry, datetime.min.time())
        return vals

    # ------------------------------------------------------------------
    # Inter-facility transfers (transfer requests and replenishment proposals)
    # ------------------------------------------------------------------

    @api.model
    def _create_transfer(
        self, source, destination, resolved, priority=None, needed_by=None, origin=None
    ):
        """An inter-facility transfer, confirmed and reserved FEFO."""
        picking = (
            self.env["stock.picking"]
            .sudo()
            .create(
                {
                    "picking_type_id": source.int_type_id.id,
                    "location_id": source.lot_stock_id.id,
                    "location_dest_id": destination.lot_stock_id.id,
                    "origin": origin,
                    "priority": "1" if priority in ("urgent", "emergency") else "0",
                    "healthcare_emergency": priority == "emergency",
                    "scheduled_date": (needed_by or "").replace("T", " ")[:19]
                    or fields.Datetime.now(),
                    "move_ids": [
                        (
                            0,
                            0,
                            {
                                "name": line.product.display_name,
                                "product_id": line.product.id,
                                "product_uom": line.product.uom_id.id,
                                "product_uom_qty": line.quantity,
                                "location_id": source.lot_stock_id.id,
                                "location_dest_id": destination.lot_stock_id.id,
                            },
                        )
                        for line in resolved
                    ],
                }
            )
        )
        picking.action_confirm()
        picking.action_assign()
        return picking

    # ------------------------------------------------------------------
    # After stock changes: critical shortages and availability events
    # ------------------------------------------------------------------

    @api.model
    def _after_stock_change(self, warehouse, products, message=None):
        critical = self.env["product.product"].union(*products).filtered("is_critical_supply")
        if not critical:
            return
        self.env["healthcare.availability.state"]._update(warehouse, critical)
        orderpoints = (
            self.env["stock.warehouse.orderpoint"]
            .sudo()
            .search([("warehouse_id", "=", warehouse.id), ("product_id", "in", critical.ids)])
        )
        self.env["healthcare.replenishment.proposal"]._evaluate(orderpoints)
