"""Three-way match decisions: order, receipt and bill, without the ORM.

The ``account.move`` model gathers plain values (what was ordered and received, what is
billed, the tolerances, the bill-without-order policy) and this module decides: which
findings a bill has, per line and for the bill as a whole, which findings are new, still
open or gone, and what the bill's match state is. Descriptions are the model's (they are
translated there); a finding carries the numbers they are written from.

Plain Python: no Odoo import, so it is unit-tested on its own.
"""

import math
from dataclasses import dataclass, field

QTY_NOT_RECEIVED = "qty_not_received"
PRICE_VARIANCE = "price_variance"
DUPLICATE_INVOICE = "duplicate_invoice"
NO_ORDER = "no_order"

REQUIRED = "required"
THRESHOLD = "threshold"
NOT_REQUIRED = "not_required"
# how lenient a bill-without-order policy is: the strictest of several applies
POLICY_RANK = {REQUIRED: 0, THRESHOLD: 1, NOT_REQUIRED: 2}

# prices are compared to 6 decimals, as Odoo's "Product Price" precision allows
PRICE_ROUNDING = 1e-6
AMOUNT_ROUNDING = 0.01

MATCHED = "matched"
EXCEPTION = "exception"
OVERRIDDEN = "overridden"
NOT_A_BILL = "none"

WAITING_RECEIPT = "receipt"
WAITING_APPROVAL = "approval"


def _invert(value):
    """1 / ``value`` without the binary error of a plain division (0.01 -> 100.0)."""
    coefficient, exponent = f"{value:.15e}".split("e")
    return float(f"{coefficient}e{-int(exponent)}") / float(coefficient) ** 2


def _round(value, rounding):
    """``value`` rounded half-up (away from zero) to a multiple of ``rounding``."""
    if not value:
        return 0.0
    if rounding < 1:
        factor = _invert(rounding)
        normalized = value * factor
    else:
        normalized = value / rounding
    epsilon = 2 ** (math.log2(abs(normalized)) - 50)
    steps = round(normalized + math.copysign(epsilon, normalized))
    return steps / factor if rounding < 1 else steps * rounding


def compare(value, other, rounding):
    """-1, 0 or 1 as ``value`` is below, equal to or above ``other`` at ``rounding``.

    The arithmetic of Odoo's ``float_compare(precision_rounding=...)``: both values are
    rounded half-up first, then their difference is rounded (so 0.1 + 0.2 equals 0.3).
    Reproduced here so that this module runs without Odoo.
    """
    if value == other:
        return 0
    delta = _round(value, rounding) - _round(other, rounding)
    if abs(_round(delta, rounding)) < rounding:
        return 0
    return -1 if delta < 0 else 1


@dataclass(frozen=True)
class Tolerances:
    """How far a bill may go beyond the receipt and the order price (company settings)."""

    qty_pct: float = 0.0
    price_pct: float = 0.0
    price_abs: float = 0.0

    def allowed_quantity(self, received):
        return received * (1 + self.qty_pct / 100.0)

    def allowed_price(self, ordered_price):
        return max(ordered_price * (1 + self.price_pct / 100.0), ordered_price + self.price_abs)


@dataclass(frozen=True)
class OrderLine:
    """An order line as the match sees it, quantities in the order line's unit."""

    id: int
    price_unit: float
    ordered: float
    received: float
    rounding: float = 0.01


@dataclass(frozen=True)
class BillLine:
    """A bill line on an order line: ``quantity`` in the order line's unit, negative on a
    refund; ``billed_elsewhere`` is what posted bills (net of refunds) already billed of it."""

    id: int
    order_line: OrderLine
    quantity: float
    price_unit: float
    billed_elsewhere: float = 0.0
    label: str = ""


@dataclass(frozen=True)
class Finding:
    """A reason a bill does not match. ``key`` identifies it across re-matches."""

    kind: str
    bill_line_id: int = 0
    order_line_id: int = 0
    expected: float = 0.0
    billed: float = 0.0
    label: str = ""
    # what a person may expect to clear it: a receipt to come, or a Finance Manager
    waiting_for: str = WAITING_APPROVAL

    @property
    def key(self):
        return (self.kind, self.bill_line_id or False, self.order_line_id or False)


@dataclass(frozen=True)
class LineResult:
    """The match of one bill line: ``matched``, or ``exception`` with its findings."""

    bill_line_id: int
    findings: tuple = field(default_factory=tuple)

    @property
    def state(self):
        return EXCEPTION if self.findings else MATCHED


def match_line(line, tolerances):
    """The findings of one bill line against its order line and receipt."""
    order_line = line.order_line
    findings = []
    if line.quantity > 0:
        # a refund only lowers what is billed: it never bills more than received
        billed = line.billed_elsewhere + line.quantity
        allowed = tolerances.allowed_quantity(order_line.received)
        if compare(billed, allowed, order_line.rounding) > 0:
            # billed within the order: the goods may still come, and the receipt clears it
            within_order = compare(billed, order_line.ordered, order_line.rounding) <= 0
            findings.append(
                Finding(
                    QTY_NOT_RECEIVED,
                    line.id,
                    order_line.id,
                    expected=order_line.received,
                    billed=billed,
                    label=line.label,
                    waiting_for=WAITING_RECEIPT if within_order else WAITING_APPROVAL,
                )
            )
        limit = tolerances.allowed_price(order_line.price_unit)
        if compare(line.price_unit, limit, PRICE_ROUNDING) > 0:
            findings.append(
                Finding(
                    PRICE_VARIANCE,
                    line.id,
                    order_line.id,
                    expected=order_line.price_unit,
                    billed=line.price_unit,
                    label=line.label,
                )
            )
    return LineResult(line.id, tuple(findings))


def match_lines(lines, tolerances):
    """One :class:`LineResult` per bill line on an order, in the order given."""
    return [match_line(line, tolerances) for line in lines]


def resolve_bill_po_policy(vendor=None, journal=None, categories=None, all_lines_categorised=True):
    """The bill-without-order policy and its threshold, as ``(policy, threshold)``.

    ``vendor`` and ``journal`` are ``(policy, threshold)`` or None (unset); the vendor's
    wins, then the journal's. Otherwise the strictest of the lines' product categories
    (``categories``: one ``(policy, threshold)`` per category, policy None when unset):
    a bill with no lines, a line without a product or a category without a policy
    requires an order, the default.
    """
    for source in (vendor, journal):
        if source and source[0]:
            return source[0], source[1] or 0.0
    categories = list(categories or ())
    if not categories or not all_lines_categorised:
        return REQUIRED, 0.0
    if any(not policy for policy, _threshold in categories):
        return REQUIRED, 0.0
    policy, threshold = min(categories, key=lambda c: (POLICY_RANK[c[0]], c[1] or 0.0))
    return policy, threshold or 0.0


def no_order_finding(policy, threshold, amount_untaxed):
    """The finding of a bill with product lines and no order line, or None when allowed."""
    if policy == NOT_REQUIRED:
        return None
    if policy == THRESHOLD:
        if compare(amount_untaxed, threshold, AMOUNT_ROUNDING) <= 0:
            return None
        return Finding(NO_ORDER, expected=threshold, billed=amount_untaxed)
    return Finding(NO_ORDER)


def duplicate_finding(other_bill_name):
    """The finding of a bill whose supplier invoice number is already on another bill."""
    if not other_bill_name:
        return None
    return Finding(DUPLICATE_INVOICE, label=other_bill_name)


@dataclass(frozen=True)
class Plan:
    """What a re-match changes: findings to raise, open exceptions to update (by key, with
    the new finding) and open exceptions no longer found (keys), which are resolved."""

    create: tuple
    update: tuple
    resolve: tuple


def plan(findings, open_keys):
    """Compare the findings of a match with the keys of the bill's open exceptions.

    An open exception still found is updated in place (its activity stays with it), one no
    longer found is resolved, a new finding is raised. A finding found twice counts once.
    """
    open_keys = list(open_keys)
    seen = set()
    create, update = [], []
    for finding in findings:
        if finding.key in seen:
            continue
        seen.add(finding.key)
        (update if finding.key in open_keys else create).append(finding)
    resolve = tuple(key for key in open_keys if key not in seen)
    return Plan(tuple(create), tuple(update), resolve)


def bill_state(is_bill, exception_states, override_holds):
    """The match state of a bill from its exceptions' states.

    Open exceptions make it ``exception`` unless an override covers the bill as it is;
    a bill posted over its exceptions stays ``overridden`` (never ``matched``).
    """
    states = set(exception_states)
    if not is_bill:
        return NOT_A_BILL
    if "open" in states:
        return OVERRIDDEN if override_holds else EXCEPTION
    if "overridden" in states:
        return OVERRIDDEN
    return MATCHED


def waiting_for(open_findings):
    """Who a blocked bill waits for: ``receipt`` when every open finding is goods billed
    within the order and not yet received, else ``approval`` (a Finance Manager), or
    None when nothing is open."""
    open_findings = list(open_findings)
    if not open_findings:
        return None
    if all(f.waiting_for == WAITING_RECEIPT for f in open_findings):
        return WAITING_RECEIPT
    return WAITING_APPROVAL
