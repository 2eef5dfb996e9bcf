"""The 997 functional acknowledgment of a received group, and the TA1 of an
interchange. Plain Python over :mod:`.envelope` objects.

A set is accepted (AK5 ``A``) when it has no fault, rejected (``R``) with its
718 codes otherwise, each segment fault listed by an AK3 (and its element by an
AK4). The group's AK9 says ``A`` (all accepted), ``P`` (some) or ``R`` (none,
or the group envelope itself is at fault).
"""


def set_status(transaction):
    return "A" if transaction.accepted else "R"


def group_status(group):
    accepted = sum(1 for t in group.sets if t.accepted)
    if group.codes or not accepted:
        return "R"
    return "A" if accepted == len(group.sets) else "P"


def functional_ack_segments(group):
    """The segments (lists, tag first) of the 997 answering ``group``, without ST/SE."""
    segments = [["AK1", group.functional_id, group.control]]
    if group.version >= "005010":
        segments[0].append(group.version)
    for transaction in group.sets:
        segments.append(["AK2", transaction.set_id, transaction.control])
        for error in transaction.errors:
            segments.append(["AK3", error.tag, str(error.position), "", error.segment_code])
            if error.element:
                segments.append(["AK4", str(error.element), "", error.code, error.data[:99]])
        segments.append(["AK5", set_status(transaction), *transaction.codes[:5]])
    accepted = sum(1 for t in group.sets if t.accepted and not group.codes)
    declared = group.declared_sets if group.declared_sets not in (None, "") else len(group.sets)
    counts = [str(declared), str(len(group.sets)), str(accepted)]
    segments.append(["AK9", group_status(group), *counts, *group.codes[:5]])
    return segments


def ta1_segment(interchange):
    """The TA1 of ``interchange``: ``A`` with note 000, or ``R`` with its first fault."""
    accepted = interchange.accepted
    return [
        "TA1",
        interchange.control,
        interchange.date,
        interchange.time,
        "A" if accepted else "R",
        "000" if accepted else interchange.codes[0],
    ]
