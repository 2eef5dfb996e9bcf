"""Handler of ``x12.interchange``: validate an X12 interchange, turn each accepted
transaction set into one canonical message of the same trace, and answer every
functional group with a 997 (and a faulty envelope with a TA1)."""

import hashlib
import json

from odoo import _, api, fields, models

from odoo.addons.healthcare_inventory_sync.gs1 import normalise_gtin
from odoo.addons.integration_audit.correlation import get_correlation_id
from odoo.addons.integration_queue import payload_schema, registry
from odoo.addons.integration_queue.exceptions import BusinessError
from odoo.addons.integration_queue.models.integration_message import scoped_ordering_key
from odoo.addons.integration_queue.registry import message_handler

from ...x12 import ack, documents, envelope
from ...x12.envelope import ELEMENT_BAD_CODE, ElementError

PROCUREMENT = "contract_procurement.group_procurement_manager"
# TA1 note codes for an envelope that does not name the partner or us
TA1_BAD_SENDER = "006"
TA1_BAD_RECEIVER = "008"
# N101 entity codes whose GLN names a facility, the company or the supplier
SHIP_TO_CODES = ("ST",)
BILL_TO_CODES = ("BT", "BY")
SUPPLIER_CODES = ("SU", "SF", "VN", "RE", "SE")
OUTBOUND_TYPE = "x12.outbound"


class X12Sync(models.AbstractModel):
    _inherit = "x12.sync"

    @message_handler("x12.interchange")
    @api.model
    def _handle_x12_interchange(self, message, payload):
        """Validate ``payload`` (the interchange text), apply each accepted set through its
        canonical message, send the 997s (and TA1), report the rejected sets."""
        partner = message.partner_id.sudo()
        if not partner.x12_enabled:
            raise BusinessError(
                _("Partner %s is not set up for X12", partner.code), field="x12_enabled"
            )
        try:
            interchange = envelope.parse(payload)
        except envelope.X12Error as error:
            raise BusinessError(_("Not an X12 interchange: %s", str(error)), field="ISA") from None
        self._check_envelope_identity(partner, interchange)
        original = self._earlier_interchange(message)
        if original:
            # a re-sent interchange that raced past the gateway's check: no second effect
            return {"duplicate_of": original.external_id, "interchange": interchange.control}
        results = []
        if interchange.accepted:
            for group in interchange.groups:
                for transaction in group.sets:
                    results.append(self._receive_set(message, interchange, group, transaction))
        answer = self._send_acknowledgements(message, partner, interchange)
        rejected = [r for r in results if r["state"] == "rejected"]
        if rejected or not interchange.accepted:
            self._report_rejections(message, interchange, rejected)
        return {
            "interchange": interchange.control,
            "accepted": interchange.accepted,
            "ta1_codes": interchange.codes,
            "sets": results,
            "acknowledgement": answer,
        }

    # envelope ------------------------------------------------------------

    @api.model
    def _check_envelope_identity(self, partner, interchange):
        """The ISA must come from the partner and be addressed to us (else TA1 R)."""
        if (interchange.sender_qualifier, interchange.sender_id) != (
            partner.x12_partner_qualifier,
            partner.x12_partner_id,
        ):
            interchange.codes.append(TA1_BAD_SENDER)
        if (interchange.receiver_qualifier, interchange.receiver_id) != (
            partner.x12_our_qualifier,
            partner.x12_our_id,
        ):
            interchange.codes.append(TA1_BAD_RECEIVER)

    @api.model
    def _earlier_interchange(self, message):
        """An earlier message of this partner carrying the same interchange (ISA13)."""
        if not message.x12_interchange_key:
            return None
        return (
            self.env["integration.message"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", message.partner_id.id),
                    ("direction", "=", "inbound"),
                    ("x12_interchange_key", "=", message.x12_interchange_key),
                    ("id", "<", message.id),
                ],
                limit=1,
            )
        )

    # transaction sets ----------------------------------------------------

    @api.model
    def _receive_set(self, message, interchange, group, transaction):
        """Apply one set (or record why not); return what became of it."""
        outcome = {}
        if transaction.accepted and not group.codes:
            try:
                with self.env.cr.savepoint():
                    outcome = self._apply_set(message, group, transaction) or {}
            except ElementError as error:
                transaction.reject(error)
        state = "accepted" if transaction.accepted and not group.codes else "rejected"
        error_text = "; ".join(error.describe() for error in transaction.errors) or (
            _("rejected with codes %s", ", ".join(transaction.codes or group.codes))
            if state == "rejected"
            else False
        )
        canonical = outcome.get("message") or self.env["integration.message"]
        self.env["x12.document"].sudo().create(
            {
                "direction": "inbound",
                "partner_id": message.partner_id.id,
                "company_id": message.company_id.id,
                "set_type": transaction.set_id,
                "interchange_control": interchange.control,
                "group_control": group.control,
                "set_control": transaction.control,
                "state": state,
                "error": error_text,
                "message_id": message.id,
                "canonical_message_id": canonical.id,
                "purchase_id": outcome.get("purchase_id"),
                "correlation_id": message.correlation_id,
            }
        )
        return {
            "set": transaction.set_id,
            "group": group.control,
            "control": transaction.control,
            "state": state,
            "message": canonical.external_id or None,
            "error": error_text or None,
        }

    @api.model
    def _apply_set(self, message, group, transaction):
        """Dispatch one valid set to the method of its type."""
        method = {
            "855": self._apply_855,
            "810": self._apply_810,
            "856": self._apply_856,
            "997": self._apply_997,
        }.get(transaction.set_id)
        if not method:
            transaction.codes.append(envelope.SET_NOT_SUPPORTED)
            return None
        context = self._check_glns(message, transaction)
        return method(message, group, transaction, context)

    @api.model
    def _check_glns(self, message, transaction):
        """Every GLN an N1 names (N103 = UL) must be ours, the company's or the
        partner's supplier's; return the facility, company and supplier named."""
        found = {}
        for segment in transaction.body():
            if segment.tag != "N1" or segment.get(3) != documents.GLN_QUALIFIER:
                continue
            code, gln = segment.get(1), segment.get(4).strip()
            record = None
            if code in SHIP_TO_CODES:
                record = self._warehouse_by_gln(message, gln)
                found["warehouse"] = record
            elif code in BILL_TO_CODES:
                record = message.company_id if message.company_id.gln == gln else None
            elif code in SUPPLIER_CODES:
                record = self._partner_suppliers(message).filtered(lambda s, g=gln: s.gln == g)[:1]
                found["supplier"] = record
            else:
                continue
            if not record:
                raise ElementError(segment, 4, ELEMENT_BAD_CODE, f"unknown GLN {gln} for {code}")
        return found

    @api.model
    def _find_order(self, message, reference, segment, element):
        """The order ``reference`` names: of one of the partner's suppliers, in its company."""
        order = self.env["purchase.order"]._find_by_reference(
            reference, message.company_id, self._partner_suppliers(message)
        )
        if not order:
            raise ElementError(
                segment, element, ELEMENT_BAD_CODE, f"unknown purchase order {reference}"
            )
        return order

    @api.model
    def _order_line(self, order, ids, segment, first_element):
        """The line of ``order`` the item identifiers name (supplier part, our part, GTIN)."""
        for line in order.order_line.filtered(lambda ln: not ln.display_type):
            if self._line_matches(order, line, ids):
                return line
        value = next((ids[q] for q in documents.ITEM_QUALIFIERS if ids.get(q)), "")
        raise ElementError(
            segment,
            first_element + 1,
            ELEMENT_BAD_CODE,
            f"item {value} is not on purchase order {order.name}",
        )

    @api.model
    def _line_matches(self, order, line, ids):
        product = line.product_id
        supplier_codes = {
            line.contract_line_id.supplier_code,
            *product.seller_ids.filtered(
                lambda s: (
                    s.partner_id.commercial_partner_id == order.partner_id.commercial_partner_id
                )
            ).mapped("product_code"),
        } - {False, None, ""}
        for qualifier, value in ids.items():
            if qualifier in ("VN", "VC") and value in supplier_codes:
                return True
            if qualifier in ("BP", "IN") and value == product.default_code:
                return True
            if (
                qualifier in ("UK", "UP", "EN")
                and product.barcode
                and normalise_gtin(value) == normalise_gtin(product.barcode)
            ):
                return True
        return False

    @staticmethod
    def _ack_key(line):
        """How the canonical acknowledgement names an order line (as contract_procurement)."""
        return line.contract_line_id.supplier_code or line.product_id.default_code

    # 855 -----------------------------------------------------------------

    @api.model
    def _apply_855(self, message, group, transaction, context):
        data = documents.read_855(transaction)
        bak = documents._first(transaction, "BAK")
        order = self._find_order(message, data["purchase_order"], bak, 3)
        version = data["order_version"] or order.order_version
        if not version:
            raise ElementError(
                bak, 3, ELEMENT_BAD_CODE, f"purchase order {order.name} was never sent"
            )
        lines = []
        for ack_line in data["lines"]:
            line = self._order_line(order, ack_line["ids"], ack_line["segment"], 6)
            canonical = {"item": self._ack_key(line)}
            for key in ("quantity", "price", "promised_date", "status"):
                if ack_line.get(key) is not None:
                    canonical[key] = ack_line[key]
            lines.append(canonical)
        payload = {
            "purchase_order": order.name,
            "order_version": version,
            "status": data["status"],
            "lines": lines,
        }
        child = self._canonical_message(
            message, group, transaction, "purchase.acknowledgement", payload
        )
        return {"message": child, "purchase_id": order.id}

    # 810 -----------------------------------------------------------------

    @api.model
    def _apply_810(self, message, group, transaction, context):
        data = documents.read_810(transaction)
        big = documents._first(transaction, "BIG")
        order = self._find_order(message, data["purchase_order"], big, 4)
        lines = []
        for invoice_line in data["lines"]:
            line = self._order_line(order, invoice_line["ids"], invoice_line["segment"], 6)
            item = line.product_id.default_code or line.product_id.barcode
            if not item:
                raise ElementError(
                    invoice_line["segment"],
                    7,
                    ELEMENT_BAD_CODE,
                    f"{line.product_id.display_name} has no internal reference or barcode",
                )
            lines.append(
                {"item": item, "quantity": invoice_line["quantity"], "price": invoice_line["price"]}
            )
        payload = {
            "purchase_order": order.name,
            "invoice_number": data["invoice_number"],
            "invoice_date": data["invoice_date"],
            "lines": lines,
        }
        child = self._canonical_message(message, group, transaction, "vendor.bill", payload)
        return {"message": child, "purchase_id": order.id}

    # 856 -----------------------------------------------------------------

    @api.model
    def _apply_856(self, message, group, transaction, context):
        data = documents.read_856(transaction)
        lines = []
        orders = self.env["purchase.order"]
        for item in data["items"]:
            order = self._find_order(message, item["purchase_order"], item["order_segment"], 1)
            orders |= order
            line = self._order_line(order, item["ids"], item["segment"], 2)
            canonical = {
                "purchase_order": order.name,
                "line_id": line.id,
                "item": self._ack_key(line) or line.product_id.display_name,
                "quantity": item["quantity"],
                "serials": item["serials"],
            }
            if item["lot"]:
                canonical["lot"] = item["lot"]
            if item["expiry"]:
                canonical["expiry"] = item["expiry"]
            lines.append(canonical)
        payload = {"shipment": data["shipment_id"], "ship_date": data["ship_date"], "lines": lines}
        if context.get("warehouse"):
            payload["ship_to"] = context["warehouse"].gln
        child = self._canonical_message(message, group, transaction, "ship.notice", payload)
        return {"message": child, "purchase_id": orders[:1].id}

    # 997 -----------------------------------------------------------------

    @api.model
    def _apply_997(self, message, group, transaction, context):
        """Mark the outbound sets a 997 answers as accepted or rejected."""
        data = documents.read_997(transaction)
        Document = self.env["x12.document"].sudo()
        sent = Document.search(
            [
                ("partner_id", "=", message.partner_id.id),
                ("direction", "=", "outbound"),
                ("group_control", "=", data["group_control"].lstrip("0") or "0"),
            ]
        )
        if not sent:
            ak1 = documents._first(transaction, "AK1")
            raise ElementError(
                ak1, 2, ELEMENT_BAD_CODE, f"no group {data['group_control']} was sent to you"
            )
        now = fields.Datetime.now()
        listed = Document
        for answered in data["sets"]:
            document = sent.filtered(
                lambda d, a=answered: (
                    d.set_type == a["set_id"]
                    and d.set_control.lstrip("0") == a["control"].lstrip("0")
                )
            )
            listed |= document
            document.write(
                {
                    "state": "accepted" if answered.get("status") in ("A", "E") else "rejected",
                    "acknowledged_at": now,
                    "error": (
                        _("997 codes: %s", ", ".join(answered["codes"]))
                        if answered.get("codes")
                        else False
                    ),
                }
            )
        # an AK9 without AK2s answers every set of the group at once
        (sent - listed if not data["sets"] else Document).write(
            {
                "state": "accepted" if data["status"] in ("A", "E") else "rejected",
                "acknowledged_at": now,
            }
        )
        return {"purchase_id": sent.purchase_id[:1].id}

    # canonical messages ----------------------------------------------------

    @api.model
    def _canonical_message(self, message, group, transaction, code, payload):
        """One inbound message of type ``code`` for this set, in the interchange's trace."""
        message_type = (
            self.env["integration.message.type"]
            .sudo()
            .search([("code", "=", code), ("direction", "=", "inbound")], limit=1)
        )
        try:
            payload_schema.validate(message_type.schema or "", payload)
        except payload_schema.PayloadError as error:
            raise ElementError(
                transaction.segments[0],
                0,
                "",
                f"the set does not make a valid {code}: {error.field}: {error}",
            ) from None
        external_id = f"{message.external_id}/{group.control}/{transaction.control}"
        Message = self.env["integration.message"].sudo()
        existing = Message.search(
            [
                ("partner_id", "=", message.partner_id.id),
                ("direction", "=", "inbound"),
                ("external_id", "=", external_id),
            ],
            limit=1,
        )
        if existing:
            return existing
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        ordering_field = message_type.ordering_key_field
        with registry.write_guard():
            child = Message.create(
                {
                    "partner_id": message.partner_id.id,
                    "company_id": message.company_id.id,
                    "direction": "inbound",
                    "message_type_id": message_type.id,
                    "message_type": code,
                    "external_id": external_id,
                    "correlation_id": message.correlation_id,
                    "received_at": fields.Datetime.now(),
                    "payload": body,
                    "payload_sha256": hashlib.sha256(body.encode()).hexdigest(),
                    "ordering_key": scoped_ordering_key(
                        message.partner_id.id,
                        message.company_id.id,
                        ordering_field
                        and payload.get(ordering_field)
                        and f"{ordering_field}={payload[ordering_field]}",
                    )
                    or False,
                }
            )
        child._enqueue()
        message._link_records(child)
        return child

    # answers -------------------------------------------------------------

    @api.model
    def _send_acknowledgements(self, message, partner, interchange):
        """One 997 per functional group received, in one interchange (with a TA1 when
        the envelope failed or the partner asked for one). Return its ISA13 and text."""
        leading = []
        if interchange.ack_requested or not interchange.accepted:
            leading.append(ack.ta1_segment(interchange))
        groups = []
        if interchange.accepted and interchange.groups:
            groups.append(
                {
                    "functional_id": "FA",
                    "sets": [
                        {"set_id": "997", "segments": ack.functional_ack_segments(group)}
                        for group in interchange.groups
                    ],
                }
            )
        if not leading and not groups:
            return None
        return self._send_interchange(partner, groups, leading=leading, records=message)

    @api.model
    def _send_interchange(self, partner, groups, leading=(), records=None, purchase=None):
        """Number, write and queue an interchange to ``partner``; record its sets.

        ``groups``: dicts with functional_id and sets (set_id, segments). Return
        {interchange, text, message}.
        """
        Counter = self.env["x12.control.number"].sudo()
        version = partner.x12_version or "00401"
        isa_control = Counter._next(partner, "isa")
        for group in groups:
            group.update(
                control=Counter._next(partner, "gs"),
                sender=partner.x12_our_group_id or partner.x12_our_id,
                receiver=partner.x12_partner_group_id or partner.x12_partner_id,
                version=envelope.VERSIONS[version],
            )
            for transaction in group["sets"]:
                transaction["control"] = Counter._next(partner, "st")
        envelope_vals = dict(partner._x12_envelope(isa_control), leading=list(leading))
        text = envelope.write_interchange(envelope_vals, groups, when=fields.Datetime.now())
        outbound = self.env["integration.message"]
        if partner.outbound_url:
            outbound = self.env["integration.message"]._send_outbound(
                partner,
                OUTBOUND_TYPE,
                text,
                records=records,
                external_id=f"x12_{partner.code}_{isa_control:09d}",
                # one partner's interchanges arrive in control-number order
                ordering_key="x12_interchange",
            )
        self.env["x12.document"].sudo().create(
            [
                {
                    "direction": "outbound",
                    "partner_id": partner.id,
                    "company_id": partner.company_id.id,
                    "set_type": transaction["set_id"],
                    "interchange_control": f"{isa_control:09d}",
                    "group_control": str(group["control"]),
                    "set_control": f"{transaction['control']:04d}",
                    "state": "sent",
                    "message_id": outbound.id,
                    "purchase_id": purchase.id if purchase else False,
                    "correlation_id": outbound.correlation_id or get_correlation_id(self.env),
                }
                for group in groups
                for transaction in group["sets"]
            ]
        )
        return {
            "interchange": f"{isa_control:09d}",
            "message": outbound.external_id or None,
            "text": text,
        }

    @api.model
    def _report_rejections(self, message, interchange, rejected):
        """An activity for the integration team and an audit event naming each fault."""
        if not interchange.accepted:
            reason = _(
                "the interchange %(control)s was rejected (TA1 codes %(codes)s)",
                control=interchange.control,
                codes=", ".join(interchange.codes),
            )
        else:
            reason = "; ".join(
                f"{r['set']} {r['group']}/{r['control']}: {r['error']}" for r in rejected
            )
        message._schedule_exception_activity(reason, group_xmlid=PROCUREMENT)
        self.env["integration.audit.event"].sudo()._log(
            "business_exception",
            _("X12 interchange %(control)s: sets rejected", control=interchange.control),
            records=message,
            details={"ta1_codes": interchange.codes, "rejected": rejected},
            partner_code=message.partner_id.code,
            correlation_id=message.correlation_id,
        )
