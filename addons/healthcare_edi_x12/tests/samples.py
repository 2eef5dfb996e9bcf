"""Sample interchanges written to common supplier implementation guides (004010
and 005010), built with the separators a test asks for."""


def isa(control=1, version="00401", sep="*", sub=">", rep="^", term="~", sender="SUPPLIERX12"):
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        sender.ljust(15),
        "ZZ",
        "HCSCHOSPITAL".ljust(15),
        "261120",
        "1005",
        rep if version >= "00501" else "U",
        version,
        f"{control:09d}",
        "0",
        "T",
        sub,
    ]
    return sep.join(fields) + term


def interchange(
    groups,
    control=1,
    version="00401",
    sep="*",
    sub=">",
    rep="^",
    term="~",
    iea_count=None,
    iea_control=None,
    sender="SUPPLIERX12",
):
    """``groups``: (functional id, control, [(set id, control, [segment texts])]) or
    raw text. Segment texts use ``*`` and are rewritten with ``sep``."""
    gs_version = "004010" if version == "00401" else "005010"
    out = [isa(control, version, sep, sub, rep, term, sender)]
    for group in groups:
        if isinstance(group, str):
            out.append(group.replace("*", sep).replace("~", term))
            continue
        functional_id, group_control, sets = group
        out.append(
            sep.join(
                [
                    "GS",
                    functional_id,
                    sender,
                    "HCSCHOSPITAL",
                    "20261120",
                    "1005",
                    str(group_control),
                    "X",
                    gs_version,
                ]
            )
            + term
        )
        for set_id, set_control, segments in sets:
            body = [
                f"ST*{set_id}*{set_control}",
                *segments,
                f"SE*{len(segments) + 2}*{set_control}",
            ]
            out.extend(s.replace("*", sep) + term for s in body)
        out.append(sep.join(["GE", str(len(sets)), str(group_control)]) + term)
    out.append(
        sep.join(
            [
                "IEA",
                str(len(groups) if iea_count is None else iea_count),
                f"{control if iea_control is None else iea_control:09d}",
            ]
        )
        + term
    )
    return "\n".join(out) + "\n"


def item_pair(item):
    """``VN:ABC`` → ``VN*ABC``; a bare item is our own part number (``BP``)."""
    qualifier, _sep, value = item.rpartition(":")
    return f"{qualifier or 'BP'}*{value}"


def ack_855(order="P00001", status="AC", lines=(("C-GLV", 10, 2.5, "IA"),), version=None):
    segments = [f"BAK*00*{status}*{order}*20261120"]
    if version:
        segments.append(f"REF*PP*{version}")
    for index, (item, quantity, price, line_status) in enumerate(lines, 1):
        segments.append(f"PO1*{index}*{quantity}*EA*{price}*PE*{item_pair(item)}")
        segments.append(f"ACK*{line_status}*{quantity}*EA*068*20261125")
    return segments


def invoice_810(order="P00001", number="INV-1", lines=(("C-GLV", 10, 2.5),), total=None):
    segments = [f"BIG*20261121*{number}**{order}"]
    for index, (item, quantity, price) in enumerate(lines, 1):
        segments.append(f"IT1*{index}*{quantity}*EA*{price}*PE*{item_pair(item)}")
    amount = total if total is not None else sum(q * p for _i, q, p in lines)
    segments.append(f"TDS*{round(amount * 100)}")
    segments.append(f"CTT*{len(lines)}")
    return segments


def notice_856(order="P00001", shipment="SHIP-1", items=(("C-GLV", 10, "LOT-A", "20271130", ()),)):
    segments = [f"BSN*00*{shipment}*20261122*1200", "HL*1**S", "HL*2*1*O", f"PRF*{order}"]
    level = 2
    for index, (item, quantity, lot, expiry, serials) in enumerate(items, 1):
        level += 1
        lin = f"LIN*{index}*{item_pair(item)}" + (f"*LT*{lot}" if lot else "")
        segments += [f"HL*{level}*2*I", lin, f"SN1**{quantity}*EA"]
        if expiry:
            segments.append(f"DTM*036*{expiry}")
        segments += [f"REF*SE*{serial}" for serial in serials]
    segments.append(f"CTT*{len(items)}")
    return segments


def fa_997(group_control, set_control, set_id="850", functional_id="PO", status="A"):
    return [
        f"AK1*{functional_id}*{group_control}",
        f"AK2*{set_id}*{set_control}",
        f"AK5*{status}",
        f"AK9*{status}*1*1*{1 if status == 'A' else 0}",
    ]
