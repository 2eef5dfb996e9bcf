"""Retry delays: exponential backoff with full jitter. Plain Python."""

import random

BASE_SECONDS = 10
CAP_SECONDS = 3600


def retry_delay(attempt, base=BASE_SECONDS, cap=CAP_SECONDS, rng=random):
    """Seconds to wait before retry number ``attempt`` (1 for the first retry).

    Full jitter: a uniform draw between half and all of ``base * 2**(attempt-1)``,
    capped, so that retries of many jobs failing together spread out.
    """
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)
