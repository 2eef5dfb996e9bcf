"""Hash chain of audit events: canonical content, event hashes, link checks.

Plain Python, no ORM: the server's verifier and the offline verifier of exported
files share these functions, so both agree on every byte that is hashed.

Each sealed event has:

* ``event_hash`` = SHA-256 of the event's canonical content;
* ``chain_hash`` = SHA-256 of ``prev_chain_hash + event_hash`` (hex strings),
  where the first link's predecessor is :data:`GENESIS`.

A purged event keeps its seal (its hashes), so the chain still verifies after
retention; the purge itself is recorded in a checkpoint event that lists the
purged event ids as ranges.
"""

import bisect
import hashlib
import json

GENESIS = "0" * 64

# The fields an event hash covers, in this order.
HASHED_FIELDS = (
    "id",
    "timestamp",
    "correlation_id",
    "event_type",
    "user_id",
    "partner_code",
    "res_model",
    "res_id",
    "res_name",
    "summary",
    "details",
    "payload_sha256",
    "company_id",
)


def canonical_json(value):
    """Serialise ``value`` the one way this module hashes and stores JSON."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_hex(data):
    """SHA-256 hex digest of ``data`` (str is encoded as UTF-8)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def normalise_timestamp(value):
    """Timestamp as text with microseconds, whatever form it came in."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def event_content(row):
    """The canonical content of an event row (a mapping) as a JSON string."""
    values = []
    for name in HASHED_FIELDS:
        value = row.get(name)
        if name == "timestamp":
            value = normalise_timestamp(value)
        values.append(value if value not in (False, "") else None)
    return canonical_json(values)


def event_hash(row):
    """SHA-256 of an event's canonical content."""
    return sha256_hex(event_content(row))


def chain_hash(prev_chain_hash, ev_hash):
    """The chain hash of a link, given its predecessor's chain hash."""
    return sha256_hex((prev_chain_hash or GENESIS) + ev_hash)


def compress_ranges(ids):
    """Turn a collection of integers into sorted ``[[first, last], ...]`` ranges."""
    ranges = []
    for value in sorted(set(ids)):
        if ranges and value == ranges[-1][1] + 1:
            ranges[-1][1] = value
        else:
            ranges.append([value, value])
    return ranges


class RangeSet:
    """Membership test over ``[[first, last], ...]`` ranges (possibly overlapping)."""

    def __init__(self, ranges=()):
        self._pending = [(int(first), int(last)) for first, last in ranges]
        self._starts = []
        self._ends = []

    def add(self, first, last):
        self._pending.append((int(first), int(last)))

    def _merge(self):
        merged = list(zip(self._starts, self._ends, strict=True)) + self._pending
        merged.sort()
        self._starts, self._ends, self._pending = [], [], []
        for first, last in merged:
            if self._ends and first <= self._ends[-1] + 1:
                self._ends[-1] = max(self._ends[-1], last)
            else:
                self._starts.append(first)
                self._ends.append(last)

    def __contains__(self, value):
        if self._pending:
            self._merge()
        index = bisect.bisect_right(self._starts, value) - 1
        return index >= 0 and value <= self._ends[index]


class ChainVerifier:
    """Walk seal links in sequence order and report the first broken one.

    Feed it links with :meth:`check`, in ascending sequence order. A link is a
    mapping with ``sequence``, ``event_id``, ``event_hash``, ``chain_hash`` and
    ``event`` (the event row, or None when the event is gone).
    """

    def __init__(self, purged=None, prev_sequence=0, prev_chain_hash=GENESIS):
        self.purged = purged if purged is not None else RangeSet()
        self.prev_sequence = prev_sequence
        self.prev_chain_hash = prev_chain_hash
        self.checked = 0
        self.error = None

    def check(self, link):
        """Check one link; return False (and set :attr:`error`) if it is broken."""
        if self.error:
            return False
        sequence = link["sequence"]
        if sequence != self.prev_sequence + 1:
            return self._fail(
                link, "missing link(s) %s..%s" % (self.prev_sequence + 1, sequence - 1)
            )
        event = link.get("event")
        if event is None:
            if link["event_id"] not in self.purged:
                return self._fail(link, "event was deleted outside a retention purge")
        elif event_hash(event) != link["event_hash"]:
            return self._fail(link, "event content does not match its sealed hash")
        expected = chain_hash(self.prev_chain_hash, link["event_hash"])
        if expected != link["chain_hash"]:
            return self._fail(link, "chain hash does not follow from its predecessor")
        self.prev_sequence = sequence
        self.prev_chain_hash = link["chain_hash"]
        self.checked += 1
        return True

    def _fail(self, link, reason):
        self.error = {
            "sequence": link["sequence"],
            "event_id": link["event_id"],
            "reason": reason,
        }
        return False
