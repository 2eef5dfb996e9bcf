import logging
from collections import defaultdict
from datetime import datetime, timedelta

from odoo import _, api, fields, models
from odoo.tools import float_compare, float_is_zero

from odoo.addons.integration_queue.exceptions import BusinessError
from odoo.addons.integration_queue.registry import message_handler

from .. import gs1

_logger = logging.getLogger(__name__)
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
    """Handlers of the inventory message types, and the item resolution they share."""

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
    # inventory.snapshot
    # ------------------------------------------------------------------

    @message_handler("inventory.snapshot")
    @api.model
    def _handle_snapshot(self, message, payload):
        warehouse = self._facility(message, payload["facility"])
        state = self.env["healthcare.facility.sync.state"]._get(warehouse, message.partner_id)
        state.last_message_at = fields.Datetime.now()
        as_of = fields.Datetime.to_datetime(payload["as_of"].replace("T", " ")[:19])
        sequence = payload.get("sequence")
        if self._snapshot_is_stale(state, as_of, sequence):
            return {
                "stale": True,
                "applied": 0,
                "last_as_of": fields.Datetime.to_string(state.last_snapshot_as_of),
                "last_sequence": state.last_snapshot_sequence,
            }
        resolved, errors = self._resolve_lines_partial(message, payload["lines"])
        complete = payload.get("complete")
        if errors:
            if message.partner_id.snapshot_mode != "apply_valid" or not resolved:
                raise self._line_errors(errors)
            # a partial snapshot never zeroes what it does not list: the product of a
            # rejected line may be one whose stock is still there
            complete = False
            self._flag_rejected_lines(warehouse, errors, message)
        quants = self._apply_snapshot(warehouse, resolved, complete=complete)
        state.write(
            {
                "last_snapshot_as_of": as_of,
                "last_snapshot_sequence": sequence or state.last_snapshot_sequence,
            }
        )
        message._link_records(warehouse)
        self._after_stock_change(
            warehouse, {r.product for r in resolved} | set(quants.product_id), message
        )
        return {
            "applied": len(resolved),
            "quants": len(quants),
            "stale": False,
            "rejected": [{"field": error.field, "error": str(error)} for error in errors],
        }

    @api.model
    def _flag_rejected_lines(self, warehouse, errors, message):
        """An alert for the data stewards listing the lines a snapshot left out."""
        self.env["healthcare.stock.alert"]._raise(
            "rejected_lines",
            warehouse,
            _(
                "Snapshot %(ref)s for %(facility)s applied without %(count)s wrong line(s): "
                "%(errors)s",
                ref=message.external_id,
                facility=warehouse.name,
                count=len(errors),
                errors=self._errors_text(errors, shown=20),
            ),
            quantity=len(errors),
            message=message,
        )

    @api.model
    def _snapshot_is_stale(self, state, as_of, sequence):
        if sequence is not None and state.last_snapshot_sequence:
            return sequence < state.last_snapshot_sequence
        return bool(state.last_snapshot_as_of and as_of < state.last_snapshot_as_of)

    @api.model
    def _apply_snapshot(self, warehouse, resolved, complete=False):
        """Set on-hand through Odoo's inventory adjustment (valuation and history kept)."""
        location = warehouse.lot_stock_id
        lots = self._get_lots(resolved, warehouse.company_id)
        targets = defaultdict(float)
        for line in resolved:
            lot = lots.get((line.product.id, line.lot_name)) if line.lot_name else None
            targets[(line.product.id, lot.id if lot else False)] += line.quantity
        Quant = self.env["stock.quant"].sudo().with_context(inventory_mode=True)
        domain = [("location_id", "=", location.id)]
        if not complete:
            domain.append(("product_id", "in", list({key[0] for key in targets})))
        existing = Quant.search(domain)
        by_key = {}
        for quant in existing:
            by_key.setdefault((quant.product_id.id, quant.lot_id.id or False), quant)
        to_apply = Quant.browse()
        for key, quant in by_key.items():
            target = targets.get(key, 0.0 if complete else None)
            if target is None:
                continue
            if float_compare(quant.quantity, target, precision_digits=6) != 0:
                quant.inventory_quantity = target
                to_apply |= quant
        new_vals = [
            {
                "product_id": key[0],
                "lot_id": key[1],
                "location_id": location.id,
                "inventory_quantity": quantity,
            }
            for key, quantity in targets.items()
            if key not in by_key and not float_is_zero(quantity, precision_digits=6)
        ]
        if new_vals:
            to_apply |= Quant.create(new_vals)
        if to_apply:
            to_apply._apply_inventory()
        return to_apply

    # ------------------------------------------------------------------
    # inventory.consumption
    # ------------------------------------------------------------------

    @api.model
    def _consumption_location(self, company):
        return self.env.ref("healthcare_inventory_sync.stock_location_patient_consumption")

    @message_handler("inventory.consumption")
    @api.model
    def _handle_consumption(self, message, payload):
        """Consumption already happened: post it, never refuse it; flag any shortfall.

        A lot-tracked item consumed without a lot is posted on the lots first to
        expire (FEFO), the move flagged and an alert raised for review.
        """
        warehouse = self._facility(message, payload["facility"])
        self.env["healthcare.facility.sync.state"]._get(
            warehouse, message.partner_id
        ).last_message_at = fields.Datetime.now()
        resolved = self._resolve_lines(message, payload["lines"], require_lot=False)
        lots = self._get_lots(resolved, warehouse.company_id)
        source = warehouse.lot_stock_id
        reference = payload["reference"]
        origin = reference + (f" ({payload['cost_center']})" if payload.get("cost_center") else "")
        destination = self._consumption_location(warehouse.company_id)
        shortfalls = []
        Quant = self.env["stock.quant"].sudo()
        moves = self.env["stock.move"].sudo()
        for line in resolved:
            lot = lots.get((line.product.id, line.lot_name)) if line.lot_name else None
            available = Quant._get_available_quantity(
                line.product, source, lot_id=lot, strict=bool(lot), allow_negative=True
            )
            rounding = line.product.uom_id.rounding
            if float_compare(line.quantity, available, precision_rounding=rounding) > 0:
                missing = line.quantity - max(available, 0.0)
                shortfalls.append(
                    {"line": line.index, "product": line.product.display_name, "missing": missing}
                )
                self._flag_shortfall(warehouse, line.product, missing, reference, message)
            if line.product.tracking != "none" and not lot:
                split = self._fefo_split(line.product, line.quantity, source, warehouse)
                move = self._post_move(
                    line, None, source, destination, warehouse, origin, split=split
                )
                move.healthcare_lot_assumed = True
                self._flag_lot_assumed(warehouse, line, split, reference, message)
                moves |= move
                continue
            moves |= self._post_move(line, lot, source, destination, warehouse, origin)
        message._link_records(moves)
        self._after_stock_change(warehouse, {r.product for r in resolved}, message)
        return {"moves": len(moves), "shortfalls": shortfalls}

    @api.model
    def _flag_shortfall(self, warehouse, product, missing, reference, message):
        self.env["healthcare.stock.alert"]._raise(
            "consumption_shortfall",
            warehouse,
            _(
                "%(facility)s consumed %(missing)s more %(product)s than it had on hand "
                "(reference %(ref)s)",
                facility=warehouse.name,
                missing=missing,
                product=product.display_name,
                ref=reference,
            ),
            product=product,
            quantity=missing,
            message=message,
        )

    @api.model
    def _fefo_split(self, product, quantity, location, warehouse):
        """[(lot, quantity)] a lot-less consumption is assumed to have taken: the lots
        on hand first to expire first; what exceeds them goes on the last of them (the
        shortfall is flagged apart). Without stock, the product's last known lot of the
        company, else a placeholder lot to be corrected."""
        quants = (
            self.env["stock.quant"]
            .sudo()
            .search(
                [
                    ("product_id", "=", product.id),
                    ("location_id", "child_of", location.id),
                    ("lot_id", "!=", False),
                    ("quantity", ">", 0),
                ]
            )
        )
        far = datetime.max
        quants = quants.sorted(lambda q: (q.lot_id.expiration_date or far, q.lot_id.id))
        split, left = [], quantity
        rounding = product.uom_id.rounding
        for quant in quants:
            if float_compare(left, 0.0, precision_rounding=rounding) <= 0:
                break
            taken = min(left, quant.quantity)
            split.append([quant.lot_id, taken])
            left -= taken
        if split:
            if float_compare(left, 0.0, precision_rounding=rounding) > 0:
                split[-1][1] += left
            return [tuple(pair) for pair in split]
        Lot = self.env["stock.lot"].sudo()
        lot = Lot.search(
            [
                ("product_id", "=", product.id),
                ("company_id", "in", [warehouse.company_id.id, False]),
            ],
            order="expiration_date desc, id desc",
            limit=1,
        ) or Lot.create(
            {
                "name": f"NOLOT-{warehouse.facility_code or warehouse.code}",
                "product_id": product.id,
                "company_id": warehouse.company_id.id,
            }
        )
        return [(lot, quantity)]

    @api.model
    def _flag_lot_assumed(self, warehouse, line, split, reference, message):
        """An alert for review: the lots a lot-less consumption was posted on."""
        self.env["healthcare.stock.alert"]._raise(
            "lot_assumed",
            warehouse,
            _(
                "%(facility)s consumed %(qty)g %(product)s without a lot (reference %(ref)s): "
                "posted on %(lots)s (first expiry first out); check and correct the lot",
                facility=warehouse.name,
                qty=line.quantity,
                product=line.product.display_name,
                ref=reference,
                lots=", ".join(f"{lot.name} ({qty:g})" for lot, qty in split),
            ),
            product=line.product,
            quantity=line.quantity,
            lot=split[0][0],
            message=message,
        )

    @api.model
    def _post_move(self, line, lot, source, destination, warehouse, origin, split=None):
        """A done move of the line; ``split``: [(lot, quantity)] for one move line each."""
        move = (
            self.env["stock.move"]
            .sudo()
            .create(
                {
                    "name": origin,
                    "origin": origin,
                    "product_id": line.product.id,
                    "product_uom": line.product.uom_id.id,
                    "product_uom_qty": line.quantity,
                    "location_id": source.id,
                    "location_dest_id": destination.id,
                    "company_id": warehouse.company_id.id,
                    "warehouse_id": warehouse.id,
                }
            )
        )
        move._action_confirm()
        move.move_line_ids.unlink()
        self.env["stock.move.line"].sudo().create(
            [
                {
                    "move_id": move.id,
                    "product_id": line.product.id,
                    "product_uom_id": line.product.uom_id.id,
                    "quantity": quantity,
                    "lot_id": line_lot.id if line_lot else False,
                    "location_id": source.id,
                    "location_dest_id": destination.id,
                    "company_id": warehouse.company_id.id,
                }
                for line_lot, quantity in (split or [(lot, line.quantity)])
            ]
        )
        move.picked = True
        move._action_done()
        return move

    # ------------------------------------------------------------------
    # inventory.receipt
    # ------------------------------------------------------------------

    @message_handler("inventory.receipt")
    @api.model
    def _handle_receipt(self, message, payload):
        warehouse = self._facility(message, payload["facility"])
        self.env["healthcare.facility.sync.state"]._get(
            warehouse, message.partner_id
        ).last_message_at = fields.Datetime.now()
        resolved = self._resolve_lines(message, payload["lines"])
        self._check_shelf_life(warehouse, resolved)
        # the order is found (inside the company) before anything is created
        open_receipt = (
            self._open_receipt(warehouse, payload["purchase_order"])
            if payload.get("purchase_order")
            else None
        )
        lots = self._get_lots(resolved, warehouse.company_id)
        picking = open_receipt or self._new_receipt(warehouse, resolved, payload)
        self._fill_receipt(picking, resolved, lots, ordered=bool(payload.get("purchase_order")))
        picking.with_context(skip_backorder=True, cancel_backorder=False)._action_done()
        backorder = self.env["stock.picking"].sudo().search([("backorder_id", "=", picking.id)])
        message._link_records(picking | backorder)
        message._link_records(self.env["stock.lot"].union(*lots.values()))
        self._after_stock_change(warehouse, {r.product for r in resolved}, message)
        return {
            "picking": picking.name,
            "backorder": backorder.name or None,
            "lots": sorted(lot.name for lot in lots.values()),
        }

    @api.model
    def _check_shelf_life(self, warehouse, resolved):
        today = fields.Date.context_today(self)
        minimum = today + timedelta(days=warehouse.min_shelf_life_days or 0)
        errors = []
        for line in resolved:
            if not line.expiry:
                continue
            if line.expiry < today:
                errors.append(
                    BusinessError(
                        _(
                            "Lot %(lot)s of %(product)s expired on %(date)s",
                            lot=line.lot_name,
                            product=line.product.display_name,
                            date=line.expiry,
                        ),
                        field=f"lines[{line.index}].expiry",
                    )
                )
            elif line.expiry < minimum:
                errors.append(
                    BusinessError(
                        _(
                            "Lot %(lot)s of %(product)s expires on %(date)s, sooner than the "
                            "minimum shelf life of %(days)s days",
                            lot=line.lot_name,
                            product=line.product.display_name,
                            date=line.expiry,
                            days=warehouse.min_shelf_life_days,
                        ),
                        field=f"lines[{line.index}].expiry",
                    )
                )
        if errors:
            raise self._line_errors(errors)

    @api.model
    def _open_receipt(self, warehouse, order_ref):
        """The open receipt of purchase order ``order_ref`` at ``warehouse``, inside its company.

        An order of another company is refused, naming ``purchase_order``.
        """
        company = warehouse.company_id
        self._check_order_company(order_ref, company)
        picking = (
            self.env["stock.picking"]
            .sudo()
            .search(
                [
                    ("origin", "=", order_ref),
                    ("company_id", "=", company.id),
                    ("picking_type_id", "=", warehouse.in_type_id.id),
                    ("state", "not in", ("done", "cancel", "draft")),
                ],
                order="id",
                limit=1,
            )
        )
        if not picking:
            raise BusinessError(
                _(
                    "No open receipt for purchase order %(po)s at %(facility)s",
                    po=order_ref,
                    facility=warehouse.name,
                ),
                field="purchase_order",
            )
        return picking

    @api.model
    def _check_order_company(self, order_ref, company):
        """Refuse a purchase order (when Purchase is installed) that is not the company's."""
        if "purchase.order" not in self.env:
            return
        orders = self.env["purchase.order"].sudo().search([("name", "=", order_ref)])
        if orders and company not in orders.company_id:
            raise BusinessError(
                _("Purchase order %s is not an order of this company", order_ref),
                field="purchase_order",
            )

    @api.model
    def _new_receipt(self, warehouse, resolved, payload):
        picking_type = warehouse.in_type_id
        supplier = self.env.ref("stock.stock_location_suppliers")
        picking = (
            self.env["stock.picking"]
            .sudo()
            .create(
                {
                    "picking_type_id": picking_type.id,
                    "location_id": supplier.id,
                    "location_dest_id": warehouse.lot_stock_id.id,
                    "origin": payload.get("reference") or _("Partner receipt"),
                    "scheduled_date": payload.get("received_at", "").replace("T", " ")[:19]
                    or False,
                    "move_ids": [
                        (
                            0,
                            0,
                            {
                                "name": line.product.display_name,
                                "product_id": line.product.id,
                                "product_uom": line.product.uom_id.id,
                                "product_uom_qty": line.quantity,
                                "location_id": supplier.id,
                                "location_dest_id": warehouse.lot_stock_id.id,
                            },
                        )
                        for line in resolved
                    ],
                }
            )
        )
        picking.action_confirm()
        return picking

    @api.model
    def _fill_receipt(self, picking, resolved, lots, ordered):
        remaining = defaultdict(float)
        for move in picking.move_ids:
            remaining[move.product_id.id] += move.product_uom_qty
        received = defaultdict(float)
        for line in resolved:
            received[line.product.id] += line.quantity
        for product_id, quantity in received.items():
            product = self.env["product.product"].browse(product_id)
            if product_id not in remaining:
                raise BusinessError(
                    _(
                        "%(product)s is not on receipt %(picking)s",
                        product=product.display_name,
                        picking=picking.name,
                    ),
                    field="lines",
                )
            if (
                ordered
                and float_compare(
                    quantity, remaining[product_id], precision_rounding=product.uom_id.rounding
                )
                > 0
            ):
                raise BusinessError(
                    _(
                        "%(qty)s %(product)s received, more than the %(open)s still ordered",
                        qty=quantity,
                        product=product.display_name,
                        open=remaining[product_id],
                    ),
                    field="lines",
                )
        picking.move_line_ids.unlink()
        moves_by_product = {m.product_id.id: m for m in picking.move_ids}
        self.env["stock.move.line"].sudo().create(
            [
                {
                    "move_id": moves_by_product[line.product.id].id,
                    "picking_id": picking.id,
                    "product_id": line.product.id,
                    "product_uom_id": line.product.uom_id.id,
                    "quantity": line.quantity,
                    "lot_id": lots[(line.product.id, line.lot_name)].id
                    if line.lot_name and (line.product.id, line.lot_name) in lots
                    else False,
                    "location_id": picking.location_id.id,
                    "location_dest_id": picking.location_dest_id.id,
                }
                for line in resolved
            ]
        )
        picking.move_ids.picked = True

    # ------------------------------------------------------------------
    # inventory.transfer_request
    # ------------------------------------------------------------------

    @message_handler("inventory.transfer_request")
    @api.model
    def _handle_transfer_request(self, message, payload):
        source = self._facility(message, payload["from_facility"], "from_facility")
        destination = self._facility(message, payload["to_facility"], "to_facility")
        # lots are chosen by the reservation (FEFO), not by the requester
        resolved = self._resolve_lines(message, payload["lines"], require_lot=False)
        picking = self._create_transfer(
            source,
            destination,
            resolved,
            payload.get("priority"),
            payload.get("needed_by"),
            origin=self._transfer_request_origin(message, payload, destination),
        )
        if payload.get("priority") == "emergency":
            source._notify_manager(
                _("Emergency transfer request"),
                _(
                    "%(dest)s needs %(what)s by %(when)s (%(picking)s)",
                    dest=destination.name,
                    what=", ".join(f"{r.quantity:g} {r.product.display_name}" for r in resolved),
                    when=payload.get("needed_by") or _("now"),
                    picking=picking.name,
                ),
                picking,
            )
        message._link_records(picking)
        return {
            "picking": picking.name,
            "state": picking.state,
            "reserved": {move.product_id.display_name: move.quantity for move in picking.move_ids},
        }

    @api.model
    def _transfer_request_origin(self, message, payload, destination):
        """The transfer's source document as people read it: "Emergency request
        HOSP-A/2026-0042 from North Hospital" (the partner's reference, else its message ID)."""
        reference = payload.get("reference") or message.external_id
        if payload.get("priority") == "emergency":
            return _(
                "Emergency request %(ref)s from %(facility)s",
                ref=reference,
                facility=destination.name,
            )
        return _(
            "Transfer request %(ref)s from %(facility)s", ref=reference, facility=destination.name
        )

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
