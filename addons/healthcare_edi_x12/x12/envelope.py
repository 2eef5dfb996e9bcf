"""X12 interchanges: separators read from the ISA, segments, groups and sets.

The ISA is fixed-width: the element separator is its 4th character, the
sub-element separator is ISA16 and the segment terminator the character after
it; ISA11 is the repetition separator from version 00501 (``U`` before).
:func:`parse` never raises on bad content: every fault is recorded on the
interchange (TA1 note codes), the group (AK9 codes, X12 716) or the set (AK5
codes, X12 718; AK3/AK4 details) it belongs to, so that a 997 can answer it.
Only text that is not an interchange at all raises :class:`X12Error`.
"""

import re
from dataclasses import dataclass, field

ISA_LENGTH = 106
TAG = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
# functional identifier code (GS01) of each transaction set we read or write
FUNCTIONAL_IDS = {"850": "PO", "855": "PR", "856": "SH", "810": "IN", "997": "FA", "860": "PC"}
VERSIONS = {"00401": "004010", "00501": "005010"}

# TA1 note codes (X12 element 886)
TA1_CONTROL_MISMATCH = "001"
TA1_BAD_CONTROL_NUMBER = "018"
TA1_BAD_VERSION = "017"
TA1_GROUP_COUNT = "021"
TA1_NO_TRAILER = "023"
TA1_BAD_CONTENT = "024"
# AK9 functional group error codes (X12 716)
GROUP_NOT_SUPPORTED = "1"
GROUP_VERSION = "2"
GROUP_NO_TRAILER = "3"
GROUP_CONTROL_MISMATCH = "4"
GROUP_SET_COUNT = "5"
GROUP_BAD_CONTROL = "6"
# AK5 transaction set error codes (X12 718)
SET_NOT_SUPPORTED = "1"
SET_NO_TRAILER = "2"
SET_CONTROL_MISMATCH = "3"
SET_SEGMENT_COUNT = "4"
SET_SEGMENT_ERRORS = "5"
SET_BAD_ID = "6"
SET_BAD_CONTROL = "7"
SET_CONTROL_NOT_UNIQUE = "23"
# AK3 segment error codes (X12 720)
SEGMENT_UNRECOGNIZED = "1"
SEGMENT_MANDATORY_MISSING = "3"
SEGMENT_ELEMENT_ERRORS = "8"
# AK4 element error codes (X12 723)
ELEMENT_MISSING = "1"
ELEMENT_TOO_LONG = "5"
ELEMENT_BAD_CHARACTER = "6"
ELEMENT_BAD_CODE = "7"
ELEMENT_BAD_DATE = "8"


class X12Error(ValueError):
    """Text that is not an X12 interchange (no readable ISA)."""


class ElementError(ValueError):
    """A segment or element at fault inside a transaction set (AK3/AK4 of a 997).

    ``element`` is the 1-based element position, 0 when the segment itself is at
    fault (``segment_code`` then says how); ``code`` is an X12 723 element code.
    """

    def __init__(
        self,
        segment,
        element,
        code,
        reason,
        segment_code=SEGMENT_ELEMENT_ERRORS,
        component=None,
        position=None,
    ):
        super().__init__(reason)
        self.tag = segment.tag if segment is not None else ""
        self.position = position if position is not None else getattr(segment, "position", 0)
        self.element = element
        self.component = component
        self.code = code
        self.segment_code = segment_code
        self.reason = reason
        self.data = segment.get(element) if segment is not None and element else ""

    def describe(self):
        """``N1 (segment 4), element 4: unknown GLN 0614141000012`` for people."""
        where = f"{self.tag} (segment {self.position})"
        if self.element:
            where += f", element {self.tag}{self.element:02d}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    sub_element: str = ">"
    segment: str = "~"
    repetition: str | None = None

    def specials(self):
        return {c for c in (self.element, self.sub_element, self.segment, self.repetition) if c}


@dataclass
class Segment:
    """One segment: its tag, its elements (``get(1)`` is the first) and its position
    in its transaction set (ST is 1) or, outside sets, in the interchange."""

    tag: str
    elements: list
    position: int = 0

    def get(self, index, default=""):
        if 1 <= index <= len(self.elements):
            return self.elements[index - 1]
        return default

    def components(self, index, delimiters):
        return self.get(index).split(delimiters.sub_element)


@dataclass
class TransactionSet:
    set_id: str
    control: str
    segments: list = field(default_factory=list)
    codes: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # ElementError

    @property
    def accepted(self):
        return not self.codes and not self.errors

    def reject(self, error):
        """Record ``error`` (an :class:`ElementError`): the set is rejected."""
        self.errors.append(error)
        if SET_SEGMENT_ERRORS not in self.codes:
            self.codes.append(SET_SEGMENT_ERRORS)

    def body(self):
        """The segments between ST and SE."""
        return [s for s in self.segments if s.tag not in ("ST", "SE")]


@dataclass
class FunctionalGroup:
    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control: str
    version: str
    sets: list = field(default_factory=list)
    codes: list = field(default_factory=list)
    declared_sets: int | None = None


@dataclass
class Interchange:
    delimiters: Delimiters
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    version: str
    control: str
    usage: str
    ack_requested: bool = False
    groups: list = field(default_factory=list)
    codes: list = field(default_factory=list)  # TA1 note codes

    @property
    def accepted(self):
        return not self.codes


def read_delimiters(text):
    """The :class:`Delimiters` declared by the ISA at the start of ``text``."""
    if not text.startswith("ISA") or len(text) < ISA_LENGTH:
        raise X12Error("an X12 interchange starts with a 106-character ISA segment")
    element = text[3]
    if element.isalnum() or element.isspace():
        raise X12Error(f"ISA: {element!r} cannot be the element separator")
    fields = text[:ISA_LENGTH].split(element)
    if len(fields) != 17:
        raise X12Error("ISA: 16 elements of fixed width expected")
    sub_element = text[ISA_LENGTH - 2]
    segment = text[ISA_LENGTH - 1]
    repetition = fields[11] if fields[12] >= "00501" else None
    delimiters = Delimiters(element, sub_element, segment, repetition)
    chars = [element, sub_element, segment] + ([repetition] if repetition else [])
    if len(set(chars)) != len(chars) or any(c.isalnum() or c == " " for c in chars[1:]):
        raise X12Error("ISA: the separators must be distinct and not letters, digits or spaces")
    return delimiters


def interchange_key(text):
    """``sender qualifier:sender id:ISA13`` of an interchange, or None if unreadable:
    a re-sent interchange has the same key."""
    text = text.lstrip() if isinstance(text, str) else ""
    try:
        delimiters = read_delimiters(text)
    except X12Error:
        return None
    fields = text[:ISA_LENGTH].split(delimiters.element)
    return f"{fields[5].strip()}:{fields[6].strip()}:{fields[13].strip()}"


def tokenize(text, delimiters):
    """The segments of ``text`` (line breaks after a terminator are ignored)."""
    segments = []
    for raw in text.split(delimiters.segment):
        raw = raw.strip("\r\n")
        if not raw.strip():
            continue
        parts = raw.split(delimiters.element)
        segments.append(Segment(parts[0].strip(), parts[1:]))
    return segments


def parse(text):
    """Read and validate an interchange; faults are recorded, not raised."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise X12Error("an X12 interchange is ASCII or UTF-8 text") from None
    text = text.lstrip()
    delimiters = read_delimiters(text)
    segments = tokenize(text, delimiters)
    isa = segments[0]
    interchange = Interchange(
        delimiters=delimiters,
        sender_qualifier=isa.get(5).strip(),
        sender_id=isa.get(6).strip(),
        receiver_qualifier=isa.get(7).strip(),
        receiver_id=isa.get(8).strip(),
        date=isa.get(9),
        time=isa.get(10),
        version=isa.get(12),
        control=isa.get(13),
        usage=isa.get(15),
        ack_requested=isa.get(14) == "1",
    )
    if not re.fullmatch(r"\d{9}", interchange.control):
        interchange.codes.append(TA1_BAD_CONTROL_NUMBER)
    if interchange.version not in VERSIONS:
        interchange.codes.append(TA1_BAD_VERSION)
    _read_groups(interchange, segments[1:])
    return interchange


def _read_groups(interchange, segments):
    group = current = trailer = None
    index = 0
    while index < len(segments):
        segment = segments[index]
        tag = segment.tag
        index += 1
        if trailer is not None:
            interchange.codes.append(TA1_BAD_CONTENT)  # segments after IEA
            break
        if current is not None:
            if tag in ("ST", "GE", "IEA"):
                # a set without its SE: close it, then read this segment again
                current.codes.append(SET_NO_TRAILER)
                current = None
                index -= 1
                continue
            segment.position = len(current.segments) + 1
            current.segments.append(segment)
            if tag == "SE":
                _close_set(current, segment)
                current = None
            continue
        if tag == "GS":
            if group is not None:
                group.codes.append(GROUP_NO_TRAILER)
            group = _open_group(segment)
            interchange.groups.append(group)
        elif tag == "ST" and group is not None:
            current = _open_set(group, segment)
        elif tag == "GE" and group is not None:
            _close_group(group, segment)
            group = None
        elif tag == "IEA":
            trailer = segment
        elif tag != "TA1":
            interchange.codes.append(TA1_BAD_CONTENT)
    if current is not None:
        current.codes.append(SET_NO_TRAILER)
    if group is not None:
        group.codes.append(GROUP_NO_TRAILER)
    if trailer is None:
        interchange.codes.append(TA1_NO_TRAILER)
        return
    if trailer.get(2) != interchange.control:
        interchange.codes.append(TA1_CONTROL_MISMATCH)
    if trailer.get(1) != str(len(interchange.groups)):
        interchange.codes.append(TA1_GROUP_COUNT)


def _open_group(segment):
    group = FunctionalGroup(
        functional_id=segment.get(1),
        sender=segment.get(2),
        receiver=segment.get(3),
        date=segment.get(4),
        time=segment.get(5),
        control=segment.get(6),
        version=segment.get(8),
    )
    if not re.fullmatch(r"\d{1,9}", group.control):
        group.codes.append(GROUP_BAD_CONTROL)
    if group.functional_id not in FUNCTIONAL_IDS.values():
        group.codes.append(GROUP_NOT_SUPPORTED)
    if group.version[:6] not in VERSIONS.values():
        group.codes.append(GROUP_VERSION)
    return group


def _open_set(group, segment):
    segment.position = 1
    transaction = TransactionSet(segment.get(1), segment.get(2), [segment])
    if FUNCTIONAL_IDS.get(transaction.set_id) != group.functional_id:
        transaction.codes.append(SET_NOT_SUPPORTED if transaction.set_id.isdigit() else SET_BAD_ID)
    if not re.fullmatch(r"[0-9A-Za-z]{4,9}", transaction.control):
        transaction.codes.append(SET_BAD_CONTROL)
    elif any(other.control == transaction.control for other in group.sets):
        transaction.codes.append(SET_CONTROL_NOT_UNIQUE)
    group.sets.append(transaction)
    return transaction


def _close_set(transaction, trailer):
    if trailer.get(2) != transaction.control:
        transaction.codes.append(SET_CONTROL_MISMATCH)
    if trailer.get(1) != str(len(transaction.segments)):
        transaction.codes.append(SET_SEGMENT_COUNT)
    for segment in transaction.segments:
        if not TAG.match(segment.tag):
            transaction.reject(
                ElementError(
                    segment,
                    0,
                    "",
                    f"{segment.tag!r} is not a segment identifier",
                    segment_code=SEGMENT_UNRECOGNIZED,
                )
            )


def _close_group(group, trailer):
    group.declared_sets = trailer.get(1)
    if trailer.get(2) != group.control:
        group.codes.append(GROUP_CONTROL_MISMATCH)
    if trailer.get(1) != str(len(group.sets)):
        group.codes.append(GROUP_SET_COUNT)


# ----------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------


def clean(value, delimiters):
    """``value`` as element text: separators and line breaks become spaces."""
    text = "" if value is None else str(value)
    for char in delimiters.specials() | {"\r", "\n"}:
        text = text.replace(char, " ")
    return text


def _segment_text(elements, delimiters):
    while len(elements) > 1 and elements[-1] in ("", None):
        elements = elements[:-1]
    return (
        delimiters.element.join([elements[0]] + [clean(e, delimiters) for e in elements[1:]])
        + delimiters.segment
    )


def write_interchange(envelope, groups, delimiters=None, when=None, newline=True):
    """The text of an interchange.

    ``envelope``: sender_qualifier, sender_id, receiver_qualifier, receiver_id,
    control (int), version (``00401``/``00501``), usage (``P``/``T``), ack
    (``0``/``1``: TA1 requested). ``groups``: dicts with functional_id, sender,
    receiver, control (int), version (``004010``...) and sets: dicts with
    set_id, control (int) and segments (lists of elements, tag first, without
    ST/SE). ``when`` is a datetime. Segment texts end with the terminator (and a
    line break when ``newline``).
    """
    delimiters = delimiters or Delimiters(
        repetition="^" if envelope["version"] >= "00501" else None
    )
    end = "\n" if newline else ""
    version = envelope["version"]
    isa = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        envelope["sender_qualifier"].ljust(2)[:2],
        envelope["sender_id"].ljust(15)[:15],
        envelope["receiver_qualifier"].ljust(2)[:2],
        envelope["receiver_id"].ljust(15)[:15],
        when.strftime("%y%m%d"),
        when.strftime("%H%M"),
        delimiters.repetition if version >= "00501" else "U",
        version,
        f"{envelope['control']:09d}",
        envelope.get("ack", "0"),
        envelope.get("usage", "P"),
        delimiters.sub_element,
    ]
    out = [delimiters.element.join(isa) + delimiters.segment + end]
    for segments in envelope.get("leading", ()):
        out.append(_segment_text(segments, delimiters) + end)
    for group in groups:
        gs = [
            "GS",
            group["functional_id"],
            group["sender"],
            group["receiver"],
            when.strftime("%Y%m%d"),
            when.strftime("%H%M"),
            str(group["control"]),
            "X",
            group["version"],
        ]
        out.append(_segment_text(gs, delimiters) + end)
        for transaction in group["sets"]:
            control = f"{transaction['control']:04d}"
            st = ["ST", transaction["set_id"], control]
            if group["version"] >= "005010" and transaction.get("convention"):
                st.append(transaction["convention"])
            body = [
                st,
                *transaction["segments"],
                ["SE", str(len(transaction["segments"]) + 2), control],
            ]
            out.extend(_segment_text(s, delimiters) + end for s in body)
        out.append(
            _segment_text(["GE", str(len(group["sets"])), str(group["control"])], delimiters) + end
        )
    out.append(
        _segment_text(["IEA", str(len(groups)), f"{envelope['control']:09d}"], delimiters) + end
    )
    return "".join(out)
