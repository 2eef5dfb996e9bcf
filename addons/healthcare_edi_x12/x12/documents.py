"""The business content of 850/855/856/810/997 sets, read into canonical dicts,
and the 850 written from one. Plain Python.

Readers raise :class:`~.envelope.ElementError` naming the segment and element
at fault; the caller rejects that set only. Items are identified by qualified
pairs (PO1/IT1 from element 6, LIN from element 2, ACK from element 7):
``VN`` vendor part, ``VC`` vendor catalogue, ``BP``/``IN`` buyer part or item,
``UK`` GTIN-14, ``UP``/``EN`` UPC/EAN; ``LT`` is a lot and ``SN`` a serial.
"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from .envelope import (
    ELEMENT_BAD_CHARACTER,
    ELEMENT_BAD_CODE,
    ELEMENT_BAD_DATE,
    ELEMENT_MISSING,
    SEGMENT_MANDATORY_MISSING,
    ElementError,
)

ITEM_QUALIFIERS = ("VN", "VC", "BP", "IN", "UK", "UP", "EN")
GLN_QUALIFIER = "UL"
# ACK01 line status → the canonical acknowledgement's line status
ACK_LINE_STATUS = {
    "IA": "accepted",
    "AC": "accepted",
    "IC": "changed",
    "IP": "changed",
    "IQ": "changed",
    "DR": "changed",
    "IR": "rejected",
    "R2": "rejected",
    "IB": "backordered",
    "BP": "backordered",
}
# BAK02 → the acknowledgement's status
ACK_STATUS = {
    "AT": "accepted",
    "AK": "accepted",
    "AD": "accepted",
    "AC": "changed",
    "RJ": "rejected",
}
UOM_CODES = {
    "units": "EA",
    "unit": "EA",
    "dozens": "DZ",
    "kg": "KG",
    "lb": "LB",
    "box": "BX",
    "case": "CA",
    "pack": "PK",
    "l": "LT",
    "m": "MR",
}


def _require(segment, index, reason=None):
    value = segment.get(index).strip()
    if not value:
        raise ElementError(
            segment, index, ELEMENT_MISSING, reason or f"{segment.tag}{index:02d} is required"
        )
    return value


def _number(segment, index, required=True):
    text = segment.get(index).strip()
    if not text and not required:
        return None
    if not text:
        _require(segment, index)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ElementError(
            segment, index, ELEMENT_BAD_CHARACTER, f"{text!r} is not a number"
        ) from None
    if value < 0:
        raise ElementError(segment, index, ELEMENT_BAD_CHARACTER, "a negative amount")
    return float(value)


def _date(segment, index, required=True):
    text = segment.get(index).strip()
    if not text and not required:
        return None
    try:
        if not re.fullmatch(r"\d{8}", text):
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    except ValueError:
        raise ElementError(
            segment, index, ELEMENT_BAD_DATE, f"{text!r} is not a date (CCYYMMDD)"
        ) from None


def _code(segment, index, allowed):
    value = _require(segment, index)
    if value not in allowed:
        raise ElementError(
            segment,
            index,
            ELEMENT_BAD_CODE,
            f"{value!r} is not one of {', '.join(sorted(allowed))}",
        )
    return value


def item_ids(segment, start):
    """The qualified item identifiers of ``segment`` from element ``start`` on."""
    ids = {}
    index = start
    while index < len(segment.elements):
        qualifier, value = segment.get(index).strip(), segment.get(index + 1).strip()
        if qualifier and value:
            ids.setdefault(qualifier, value)
        index += 2
    return ids


class _MissingSegment(ElementError):
    def __init__(self, tag, position):
        super().__init__(
            None,
            0,
            "",
            f"a {tag} segment is required",
            segment_code=SEGMENT_MANDATORY_MISSING,
            position=position,
        )
        self.tag = tag


def _first(transaction, tag):
    for segment in transaction.body():
        if segment.tag == tag:
            return segment
    raise _MissingSegment(tag, transaction.segments[-1].position)


def _item_segment_ids(segment, start):
    ids = item_ids(segment, start)
    if not any(q in ids for q in ITEM_QUALIFIERS):
        raise ElementError(
            segment,
            start,
            ELEMENT_MISSING,
            "no item identifier (VN, VC, BP, IN, UK, UP or EN)",
        )
    return ids


# ----------------------------------------------------------------------
# 850 purchase order (written by us; read back for the round trip)
# ----------------------------------------------------------------------


def write_850(order):
    """The segments (tag first, no ST/SE) of an 850 for a canonical ``order`` dict.

    ``order``: purchase_order, order_version, purpose (``original``/``replace``),
    date_order (ISO date), currency, contract, account_number, ship_to_gln,
    bill_to_gln, supplier_gln, ship_to_name, bill_to_name, supplier_name, and
    lines: line (int), quantity, uom, price, ids ({qualifier: value}),
    description, date_planned (ISO date).
    """
    purpose = "05" if order.get("purpose") == "replace" else "00"
    segments = [
        ["BEG", purpose, "SA", order["purchase_order"], "", order["date_order"].replace("-", "")],
        ["CUR", "BY", order["currency"]],
        ["REF", "PP", str(order["order_version"])],
    ]
    if order.get("contract"):
        segments.append(["REF", "CT", order["contract"]])
    if order.get("account_number"):
        segments.append(["REF", "11", order["account_number"]])
    for code, key in (("ST", "ship_to"), ("BT", "bill_to"), ("SU", "supplier")):
        if order.get(f"{key}_gln"):
            segments.append(
                ["N1", code, order.get(f"{key}_name") or "", GLN_QUALIFIER, order[f"{key}_gln"]]
            )
    total = 0.0
    for line in order["lines"]:
        ids = []
        for qualifier in ITEM_QUALIFIERS:
            if line["ids"].get(qualifier):
                ids += [qualifier, line["ids"][qualifier]]
        segments.append(
            [
                "PO1",
                str(line["line"]),
                _format_number(line["quantity"]),
                uom_code(line["uom"]),
                _format_number(line["price"]),
                "PE",
                *ids,
            ]
        )
        if line.get("description"):
            segments.append(["PID", "F", "", "", "", line["description"][:80]])
        if line.get("date_planned"):
            segments.append(["DTM", "002", line["date_planned"].replace("-", "")])
        total += line["quantity"]
    segments.append(["CTT", str(len(order["lines"])), _format_number(total)])
    return segments


def read_850(transaction):
    """The canonical order dict of an 850 (the inverse of :func:`write_850`)."""
    beg = _first(transaction, "BEG")
    order = {
        "purchase_order": _require(beg, 3),
        "purpose": "replace" if _code(beg, 1, {"00", "05"}) == "05" else "original",
        "date_order": _date(beg, 5),
        "lines": [],
    }
    line = None
    for segment in transaction.body():
        tag = segment.tag
        if tag == "CUR":
            order["currency"] = _require(segment, 2)
        elif tag == "REF":
            key = {"PP": "order_version", "CT": "contract", "11": "account_number"}.get(
                segment.get(1)
            )
            if key == "order_version":
                order[key] = int(_number(segment, 2))
            elif key:
                order[key] = _require(segment, 2)
        elif tag == "N1":
            key = {"ST": "ship_to", "BT": "bill_to", "SU": "supplier"}.get(segment.get(1))
            if key and segment.get(3) == GLN_QUALIFIER:
                order[f"{key}_gln"] = _require(segment, 4)
                order[f"{key}_name"] = segment.get(2)
        elif tag == "PO1":
            line = {
                "line": int(_number(segment, 1)),
                "quantity": _number(segment, 2),
                "uom": _require(segment, 3),
                "price": _number(segment, 4),
                "ids": _item_segment_ids(segment, 6),
            }
            order["lines"].append(line)
        elif tag == "PID" and line is not None:
            line["description"] = segment.get(5)
        elif tag == "DTM" and line is not None and segment.get(1) == "002":
            line["date_planned"] = _date(segment, 2)
    if not order["lines"]:
        raise _MissingSegment("PO1", transaction.segments[-1].position)
    return order


def uom_code(name):
    """The X12 unit of measure code (355) of an Odoo unit name."""
    text = (name or "").strip()
    return UOM_CODES.get(text.lower()) or (text.upper()[:2] if text else "EA")


def _format_number(value):
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


# ----------------------------------------------------------------------
# 855 acknowledgment
# ----------------------------------------------------------------------


def read_855(transaction):
    """{purchase_order, order_version (or None), status, lines: [{ids, quantity, price,
    promised_date, status, segment}]}."""
    bak = _first(transaction, "BAK")
    ack = {
        "purchase_order": _require(bak, 3),
        "status": ACK_STATUS[_code(bak, 2, set(ACK_STATUS))],
        "order_version": None,
        "lines": [],
    }
    line = None
    for segment in transaction.body():
        if segment.tag == "REF" and segment.get(1) == "PP":
            ack["order_version"] = int(_number(segment, 2))
        elif segment.tag == "PO1":
            line = {
                "ids": _item_segment_ids(segment, 6),
                "quantity": _number(segment, 2, required=False),
                "price": _number(segment, 4, required=False),
                "segment": segment,
            }
            ack["lines"].append(line)
        elif segment.tag == "ACK" and line is not None:
            line["status"] = ACK_LINE_STATUS[_code(segment, 1, set(ACK_LINE_STATUS))]
            quantity = _number(segment, 2, required=False)
            if quantity is not None:
                line["quantity"] = quantity
            if segment.get(4) in ("067", "068", "069", "017") and segment.get(5):
                line["promised_date"] = _date(segment, 5)
    return ack


# ----------------------------------------------------------------------
# 810 invoice
# ----------------------------------------------------------------------


def read_810(transaction):
    """{invoice_number, invoice_date, purchase_order, total, lines: [{ids, quantity,
    price, segment}]}."""
    big = _first(transaction, "BIG")
    invoice = {
        "invoice_date": _date(big, 1),
        "invoice_number": _require(big, 2),
        "purchase_order": _require(big, 4, "BIG04 (the purchase order number) is required"),
        "lines": [],
        "total": None,
    }
    for segment in transaction.body():
        if segment.tag == "IT1":
            invoice["lines"].append(
                {
                    "ids": _item_segment_ids(segment, 6),
                    "quantity": _number(segment, 2),
                    "price": _number(segment, 4),
                    "segment": segment,
                }
            )
        elif segment.tag == "TDS":
            # TDS01 carries two implied decimals
            invoice["total"] = _number(segment, 1) / 100
            invoice["total_segment"] = segment
    if not invoice["lines"]:
        raise _MissingSegment("IT1", transaction.segments[-1].position)
    if invoice["total"] is not None:
        lines_total = sum(ln["quantity"] * ln["price"] for ln in invoice["lines"])
        if abs(lines_total - invoice["total"]) > 0.005:
            raise ElementError(
                invoice["total_segment"],
                1,
                ELEMENT_BAD_CODE,
                f"total {invoice['total']:.2f} is not the sum of the lines ({lines_total:.2f})",
            )
    return invoice


# ----------------------------------------------------------------------
# 856 ship notice
# ----------------------------------------------------------------------


def read_856(transaction):
    """{shipment_id, ship_date, items: [{purchase_order, line, ids, quantity, lot,
    expiry, serials, segment}]}: one item per HL of level I (pack levels are read
    through: a lot or serial on an item's LIN or REF belongs to it)."""
    bsn = _first(transaction, "BSN")
    notice = {"shipment_id": _require(bsn, 2), "ship_date": _date(bsn, 3), "items": []}
    order = order_segment = None
    item = None
    hl_count = 0
    for segment in transaction.body():
        tag = segment.tag
        if tag == "HL":
            hl_count += 1
            _require(segment, 3, "HL03 (the hierarchical level code) is required")
            item = None
        elif tag == "PRF":
            order, order_segment = _require(segment, 1), segment
        elif tag == "LIN":
            ids = _item_segment_ids(segment, 2)
            if order is None:
                raise ElementError(
                    segment,
                    0,
                    "",
                    "an item before any PRF (purchase order) segment",
                    segment_code="2",
                )
            item = {
                "purchase_order": order,
                "order_segment": order_segment,
                "line": segment.get(1).strip() or None,
                "ids": {q: v for q, v in ids.items() if q not in ("LT", "SN")},
                "lot": ids.get("LT"),
                "serials": [ids["SN"]] if ids.get("SN") else [],
                "expiry": None,
                "quantity": None,
                "segment": segment,
            }
            notice["items"].append(item)
        elif item is None:
            continue
        elif tag == "SN1":
            item["quantity"] = _number(segment, 2)
        elif tag == "DTM" and segment.get(1) == "036":
            item["expiry"] = _date(segment, 2)
        elif tag == "REF" and segment.get(1) in ("LT", "SE", "SN"):
            if segment.get(1) == "LT":
                item["lot"] = _require(segment, 2)
            else:
                item["serials"].append(_require(segment, 2))
    if not hl_count:
        raise _MissingSegment("HL", transaction.segments[-1].position)
    for item in notice["items"]:
        if item["quantity"] is None:
            raise ElementError(
                item["segment"],
                0,
                "",
                "the item has no SN1 (quantity shipped)",
                segment_code=SEGMENT_MANDATORY_MISSING,
            )
    return notice


# ----------------------------------------------------------------------
# 997 functional acknowledgment (received)
# ----------------------------------------------------------------------


def read_997(transaction):
    """{functional_id, group_control, status, sets: [{set_id, control, status}]}."""
    ak1 = _first(transaction, "AK1")
    ack = {
        "functional_id": _require(ak1, 1),
        "group_control": _require(ak1, 2),
        "status": None,
        "sets": [],
    }
    current = None
    for segment in transaction.body():
        if segment.tag == "AK2":
            current = {"set_id": _require(segment, 1), "control": _require(segment, 2)}
            ack["sets"].append(current)
        elif segment.tag == "AK5" and current is not None:
            current["status"] = _code(segment, 1, {"A", "E", "M", "R", "W", "X"})
            current["codes"] = [c for c in segment.elements[1:] if c]
        elif segment.tag == "AK9":
            ack["status"] = _code(segment, 1, {"A", "E", "M", "P", "R", "W", "X"})
    if ack["status"] is None:
        raise _MissingSegment("AK9", transaction.segments[-1].position)
    return ack


READERS = {"850": read_850, "855": read_855, "856": read_856, "810": read_810, "997": read_997}
