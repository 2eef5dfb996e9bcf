"""GS1 element strings on medical supplies, parsed with the ``biip`` library.

Human-readable ``(01)09506000134352(17)261100(10)LOT-A1`` and raw scans with the
FNC1 separator (``\\x1d``, with or without a ``]C1``/``]d2`` symbology prefix) are
understood. AIs (01) GTIN, (10) lot, (17) expiry and (21) serial are kept; a
(17) day of 00 means the last day of that month. Plain Python.
"""

from dataclasses import dataclass
from datetime import date

from biip import ParseError
from biip.gs1_messages import GS1Message

SYMBOLOGY_PREFIXES = ("]C1", "]d2", "]Q3", "]e0", "]J1")


class GS1Error(ValueError):
    """Not a GS1 element string this module can read."""


@dataclass(frozen=True)
class GS1Data:
    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None


def parse(value):
    """Parse a GS1 element string into :class:`GS1Data`, or raise :class:`GS1Error`."""
    if not value or not isinstance(value, str):
        raise GS1Error("empty GS1 element string")
    text = value.strip()
    for prefix in SYMBOLOGY_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    try:
        message = GS1Message.parse_hri(text) if text.startswith("(") else GS1Message.parse(text)
    except (ParseError, ValueError) as error:
        raise GS1Error(f"not a valid GS1 element string: {error}") from None
    found = {}
    for element in message.element_strings:
        if element.ai.ai == "01":
            found["gtin"] = element.value
        elif element.ai.ai == "10":
            found["lot"] = element.value
        elif element.ai.ai == "17":
            found["expiry"] = element.date
        elif element.ai.ai == "21":
            found["serial"] = element.value
    if not found.get("gtin"):
        raise GS1Error("the GS1 element string has no (01) GTIN")
    return GS1Data(**found)


def normalise_gtin(value):
    """A GTIN as 14 digits (GTIN-8/12/13 are left-padded), or None if not digits."""
    if not value:
        return None
    digits = str(value).strip()
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        return None
    return digits.zfill(14)
