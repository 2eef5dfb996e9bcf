"""Property-based tests of contract_procurement/three_way_match.py (plain Python, no Odoo)."""

from hypothesis import given
from hypothesis import strategies as st

from .plain_modules import load

twm = load("contract_procurement", "three_way_match")

quantities = st.floats(min_value=0, max_value=10_000, allow_nan=False).map(lambda q: round(q, 2))
prices = st.floats(min_value=0, max_value=10_000, allow_nan=False).map(lambda p: round(p, 4))
percentages = st.floats(min_value=0, max_value=50, allow_nan=False)


def line(qty, price, received, order_price, elsewhere=0.0):
    order_line = twm.OrderLine(1, order_price, ordered=received, received=received)
    return twm.BillLine(2, order_line, qty, price, billed_elsewhere=elsewhere)


@given(received=quantities, order_price=prices, qty_pct=percentages, price_pct=percentages)
def test_a_bill_within_its_tolerances_never_raises_a_finding(
    received, order_price, qty_pct, price_pct
):
    tolerances = twm.Tolerances(qty_pct=qty_pct, price_pct=price_pct)
    result = twm.match_line(line(received, order_price, received, order_price), tolerances)
    assert result.state == twm.MATCHED


@given(qty=quantities, received=quantities, price=prices, order_price=prices)
def test_findings_follow_the_comparisons(qty, received, price, order_price):
    result = twm.match_line(line(qty, price, received, order_price), twm.Tolerances())
    kinds = {finding.kind for finding in result.findings}
    if qty > 0:
        assert (twm.QTY_NOT_RECEIVED in kinds) == (twm.compare(qty, received, 0.01) > 0)
        assert (twm.PRICE_VARIANCE in kinds) == (twm.compare(price, order_price, 1e-6) > 0)
    else:
        assert not kinds


@given(qty=quantities, received=quantities, price=prices)
def test_a_refund_never_raises_a_finding(qty, received, price):
    result = twm.match_line(line(-qty, price, received, 0.0, elsewhere=qty), twm.Tolerances())
    assert result.findings == ()


kinds_ = st.sampled_from([twm.QTY_NOT_RECEIVED, twm.PRICE_VARIANCE, twm.NO_ORDER])
findings = st.lists(
    st.builds(twm.Finding, kinds_, st.integers(0, 3), st.integers(0, 3)), max_size=12
)
keys = st.lists(st.tuples(kinds_, st.integers(1, 3), st.integers(1, 3)), unique=True, max_size=8)


@given(found=findings, open_keys=keys)
def test_plan_touches_every_key_once(found, open_keys):
    changes = twm.plan(found, open_keys)
    created = [f.key for f in changes.create]
    updated = [f.key for f in changes.update]
    touched = created + updated + list(changes.resolve)
    assert len(touched) == len(set(touched))
    assert set(created) | set(updated) == {f.key for f in found}
    assert set(updated) | set(changes.resolve) == set(open_keys)
    assert not set(created) & set(open_keys)
