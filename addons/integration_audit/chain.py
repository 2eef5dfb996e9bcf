"""Hash chain of audit events: canonical content, event hashes, link checks.

Plain Python, no ORM: the server's verifier and the offline verifier of exported
files share these functions, so both agree on every byte that is hashed.

Each sealed event has:

* ``event_hash`` = SHA-256 of the event's canonical content;
* ``event_timestamp``, the event's time, copied into the link;
* ``chain_hash`` = SHA-256 of ``prev_chain_hash + event_hash + event_timestamp``
  (hex strings and the normalised timestamp), where the first link's
  predecessor is :data:`GENESIS`. Links sealed before timestamps were chained
  have none and hash ``prev_chain_hash + event_hash``.

A purged event keeps its seal (its hashes and its time), so the chain still
verifies after retention; the purge itself is recorded in a checkpoint event
that lists the purged event ids as ranges, with the cutoff and the retention in
force. A checkpoint vouches for a deleted event only when it is itself sealed
after that event, its cutoff lies at least its retention before its own time,
and the deleted event's chained time is older than the cutoff
(:func:`checkpoint_problem`, :class:`ChainVerifier`).

The chain head (:func:`anchor`) can be kept outside the database; checking the
chain against it (:meth:`ChainVerifier.check_anchor`) finds a chain rewritten
or cut back by someone who can write to the database.
"""

import bisect
import hashlib
import json
from collections import namedtuple
from datetime import datetime, timedelta, timezone

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


def chain_hash(prev_chain_hash, ev_hash, timestamp=None):
    """The chain hash of a link, given its predecessor's chain hash.

    ``timestamp`` is the event's time (None only for links sealed before event
    times were chained).
    """
    if timestamp is None:
        return sha256_hex((prev_chain_hash or GENESIS) + ev_hash)
    return sha256_hex((prev_chain_hash or GENESIS) + ev_hash + normalise_timestamp(timestamp))


def parse_timestamp(value):
    """A naive UTC datetime from a datetime or its text form; None if unreadable."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


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


# A retention checkpoint that passed :func:`checkpoint_problem`.
Checkpoint = namedtuple("Checkpoint", "event_id sequence cutoff retention_days ranges")


def checkpoint_problem(row, now=None):
    """Why a ``retention_purge`` event row cannot vouch for a purge, or None.

    The row's details must name the ``cutoff``, the ``retention_days`` in force
    and the ``purged_ranges`` (with their ``count``); the cutoff must lie at
    least that retention before the checkpoint's own time, the checkpoint must
    not be dated in the future, and it can only list events older than itself.
    """
    try:
        details = json.loads(row.get("details") or "{}")
    except ValueError:
        return "retention checkpoint details are not JSON"
    if not isinstance(details, dict):
        return "retention checkpoint details are not an object"
    cutoff = parse_timestamp(details.get("cutoff"))
    stamp = parse_timestamp(row.get("timestamp"))
    days = details.get("retention_days")
    ranges = details.get("purged_ranges")
    if cutoff is None or stamp is None:
        return "retention checkpoint has no readable cutoff"
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        return "retention checkpoint does not state the retention it applied"
    if cutoff > stamp - timedelta(days=days):
        return "retention checkpoint's cutoff is not past its retention of %s days" % days
    if now is not None and stamp > now + timedelta(minutes=5):
        return "retention checkpoint is dated in the future"
    try:
        pairs = [(int(first), int(last)) for first, last in ranges]
    except (TypeError, ValueError):
        return "retention checkpoint's purged ranges are not pairs of ids"
    if any(first > last or last >= row["id"] for first, last in pairs):
        return "retention checkpoint lists events newer than itself"
    if sum(last - first + 1 for first, last in pairs) != details.get("count"):
        return "retention checkpoint's count does not match its ranges"
    return None


def anchor(head_sequence, head_event_id, head_chain_hash, timestamp, retention_days=None):
    """The chain head as a JSON-able dict, to be stored outside the database."""
    return {
        "sequence": head_sequence,
        "count": head_sequence,
        "event_id": head_event_id,
        "chain_hash": head_chain_hash,
        "timestamp": normalise_timestamp(timestamp),
        "retention_days": retention_days,
    }


class _CheckpointIndex:
    """Find the checkpoints whose ranges hold an event id, in logarithmic time."""

    def __init__(self, checkpoints):
        entries = sorted(
            (
                (int(first), int(last), checkpoint)
                for checkpoint in checkpoints
                for first, last in checkpoint.ranges
            ),
            key=lambda entry: entry[:2],
        )
        self._firsts = [first for first, _last, _cp in entries]
        self._entries = entries
        # running maximum of range ends: where to stop scanning backwards
        self._reach = []
        for _first, last, _cp in entries:
            self._reach.append(max(last, self._reach[-1]) if self._reach else last)

    def covering(self, event_id):
        index = bisect.bisect_right(self._firsts, event_id) - 1
        found = []
        while index >= 0 and self._reach[index] >= event_id:
            first, last, checkpoint = self._entries[index]
            if first <= event_id <= last:
                found.append(checkpoint)
            index -= 1
        return sorted(found, key=lambda cp: cp.sequence)


class ChainVerifier:
    """Walk seal links in sequence order and report the first broken one.

    Feed it links with :meth:`check`, in ascending sequence order. A link is a
    mapping with ``sequence``, ``event_id``, ``event_hash``, ``chain_hash``,
    ``event_timestamp`` (None for links sealed before times were chained) and
    ``event`` (the event row, or None when the event is gone).

    ``checkpoints`` are the sealed retention checkpoints that passed
    :func:`checkpoint_problem`; ``rejected`` maps the sequence of a sealed
    checkpoint that did not to the reason. With an ``anchor`` (see
    :func:`anchor`), the chain must still pass through the anchored head.
    """

    def __init__(
        self,
        checkpoints=(),
        rejected=None,
        anchor=None,
        prev_sequence=0,
        prev_chain_hash=GENESIS,
    ):
        self.checkpoints = _CheckpointIndex(checkpoints)
        self.rejected = rejected or {}
        self.anchor = anchor
        self.prev_sequence = prev_sequence
        self.prev_chain_hash = prev_chain_hash
        self.timed = False
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
        stamp = link.get("event_timestamp")
        if stamp is None and self.timed:
            return self._fail(link, "link lost the event time its predecessors carry")
        self.timed = self.timed or stamp is not None
        event = link.get("event")
        if event is None:
            reason = self._unvouched_deletion(link)
            if reason:
                return self._fail(link, reason)
        elif event_hash(event) != link["event_hash"]:
            return self._fail(link, "event content does not match its sealed hash")
        elif stamp is not None and normalise_timestamp(event["timestamp"]) != (
            normalise_timestamp(stamp)
        ):
            return self._fail(link, "event time does not match its sealed time")
        elif sequence in self.rejected:
            return self._fail(link, self.rejected[sequence])
        expected = chain_hash(self.prev_chain_hash, link["event_hash"], stamp)
        if expected != link["chain_hash"]:
            return self._fail(link, "chain hash does not follow from its predecessor")
        if self.anchor and sequence == self.anchor["sequence"]:
            if link["chain_hash"] != self.anchor["chain_hash"] or (
                link["event_id"] != self.anchor.get("event_id", link["event_id"])
            ):
                return self._fail(link, "chain differs from the anchor at its head")
        self.prev_sequence = sequence
        self.prev_chain_hash = link["chain_hash"]
        self.checked += 1
        return True

    def _unvouched_deletion(self, link):
        """None when a sealed checkpoint vouches for the deleted event, else why not."""
        found = None
        for checkpoint in self.checkpoints.covering(link["event_id"]):
            if checkpoint.sequence <= link["sequence"]:
                continue
            found = checkpoint
            stamp = parse_timestamp(link.get("event_timestamp"))
            if stamp is None or stamp < checkpoint.cutoff:
                if self._below_anchor_floor(checkpoint):
                    continue
                return None
        if found is None:
            return "event was deleted outside a sealed retention purge"
        if self._below_anchor_floor(found):
            return "event was purged with a shorter retention than the anchor's"
        return "event was purged by checkpoint %s although newer than its cutoff" % (found.event_id)

    def _below_anchor_floor(self, checkpoint):
        """True when a checkpoint sealed after the anchor applied a shorter retention."""
        if not self.anchor or not self.anchor.get("retention_days"):
            return False
        return (
            checkpoint.sequence > self.anchor["sequence"]
            and checkpoint.retention_days < self.anchor["retention_days"]
        )

    def check_anchor_reached(self):
        """After the last link: fail when the chain ends before the anchored head."""
        if self.error or not self.anchor:
            return self.error is None
        if self.prev_sequence < self.anchor["sequence"]:
            self.error = {
                "sequence": self.prev_sequence + 1,
                "event_id": self.anchor.get("event_id"),
                "reason": "chain ends at %s, before the anchored head %s (cut back)"
                % (self.prev_sequence, self.anchor["sequence"]),
            }
            return False
        return True

    def _fail(self, link, reason):
        self.error = {
            "sequence": link["sequence"],
            "event_id": link["event_id"],
            "reason": reason,
        }
        return False
