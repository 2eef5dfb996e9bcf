"""Property-based tests of healthcare_inventory_sync/gs1.py (plain Python, no Odoo)."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .plain_modules import load

gs1 = load("healthcare_inventory_sync", "gs1")


def with_check_digit(digits13):
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits13)))
    return digits13 + str((10 - total % 10) % 10)


gtins = st.text(alphabet="0123456789", min_size=13, max_size=13).map(with_check_digit)
lots = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
expiries = st.dates(min_value=date(2000, 1, 1), max_value=date(2049, 12, 28))


@settings(max_examples=150)
@given(gtin=gtins, lot=lots, expiry=expiries, raw=st.booleans())
def test_element_strings_round_trip(gtin, lot, expiry, raw):
    stamp = expiry.strftime("%y%m%d")
    if raw:
        text = f"]C101{gtin}17{stamp}10{lot}"
    else:
        text = f"(01){gtin}(17){stamp}(10){lot}"
    data = gs1.parse(text)
    assert (data.gtin, data.lot, data.expiry) == (gtin, lot, expiry)


@settings(max_examples=200)
@given(text=st.text(max_size=80))
def test_any_text_parses_or_raises_gs1_error(text):
    try:
        data = gs1.parse(text)
    except gs1.GS1Error:
        return
    assert data.gtin


@given(value=st.text(max_size=20) | st.integers(min_value=0, max_value=10**15))
def test_normalise_gtin_gives_14_digits_or_none(value):
    result = gs1.normalise_gtin(value)
    assert result is None or (len(result) == 14 and result.isdigit())
    if result is not None:
        assert result.lstrip("0") == str(value).strip().lstrip("0")


@pytest.mark.parametrize("value", ["", None, "(01)", "(17)261100"])
def test_no_gtin_is_refused(value):
    with pytest.raises(gs1.GS1Error):
        gs1.parse(value)
