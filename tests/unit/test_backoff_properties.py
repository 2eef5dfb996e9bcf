"""Property-based tests of integration_queue/backoff.py (plain Python, no Odoo)."""

import random

from hypothesis import given
from hypothesis import strategies as st

from .plain_modules import load

backoff = load("integration_queue", "backoff")


# attempts are bounded by a message type's max_attempts (tens); a float base beyond
# attempt ~1000 overflows float arithmetic (see test_integer_base_never_overflows)
@given(
    attempt=st.integers(min_value=-5, max_value=500),
    base=st.floats(min_value=0.01, max_value=1000),
    cap=st.floats(min_value=0.01, max_value=100_000),
    seed=st.integers(),
)
def test_delay_is_within_half_and_all_of_the_capped_ceiling(attempt, base, cap, seed):
    delay = backoff.retry_delay(attempt, base=base, cap=cap, rng=random.Random(seed))
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    assert ceiling / 2 <= delay <= ceiling + 1e-9
    assert delay <= cap + 1e-9


@given(attempt=st.integers(min_value=1, max_value=60), seed=st.integers())
def test_ceilings_never_shrink_with_attempts(attempt, seed):
    low = backoff.retry_delay(attempt, rng=random.Random(seed))
    high = backoff.retry_delay(attempt + 1, rng=random.Random(seed))
    assert high >= low or high >= backoff.CAP_SECONDS / 2


@given(attempt=st.integers(min_value=1, max_value=100_000), seed=st.integers())
def test_integer_base_never_overflows(attempt, seed):
    delay = backoff.retry_delay(attempt, rng=random.Random(seed))
    assert 0 < delay <= backoff.CAP_SECONDS
