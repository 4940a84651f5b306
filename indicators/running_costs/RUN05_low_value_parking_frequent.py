"""Many small parking payments.

## What it flags
Accounts that make at least `min_count` parking payments (MCC 7523) of at most `max_amount`
each within `window_days` days. The value is the number of such payments in the episode.

## Why it matters
FINTRAC (2021) reports frequent low-value parking payments in sexual-exploitation cases: drivers
wait outside hotels and residences during outcalls, or move victims between locations, and pay
short parking sessions each time.

## Typical false positives
Delivery drivers, home-care workers and sales staff who park many times a day; city commuters
paying per session. Weak alone.

## Data needed
`mcc` of card payments (parking is recognised by MCC 7523 through the merchant-group dictionary).
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.kernels.episodes import count_episodes
from followmoney.kernels.inputs import one_of
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def parking_kernel(offsets, ts_s, ts, amount, is_customer, is_parking, window_days, min_count,
                   max_amount):  # pragma: no cover - jitted
    """Customers' parking payments of at most `max_amount`, `min_count` within the window."""
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if is_parking[r] == 1 and amount[r] < 0 and -amount[r] <= max_amount and is_customer[r] == 1:
            events[m] = r
            m += 1
    events = events[:m]
    return count_episodes(offsets, ts_s, ts, amount, events, window_days * 86400, min_count)


class RUN05(Indicator):
    id = "RUN05"
    name = "low_value_parking_frequent"
    title = "Frequent low-value parking payments"
    family = "running_costs"
    typologies = ("sexual_exploitation",)
    sources = ("FT21",)
    requires = ("ts", "amount", "mcc")
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 10, Interval(int, 1, None), "Parking payments needed inside one window"),
        Param("max_amount", 20.0, Interval(float, 0, None, closed="neither"),
              "Largest payment that counts as low-value", "reporting currency"),
    )
    role_hint = None
    score_doc = "0.25 at `min_count` payments, +0.02 per extra payment, capped at 0.4."
    reason = "{value:.0f} parking payments <= {max_amount:,.0f} within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/RUN05.sql).
    kernel = parking_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "is_customer": "int8", "is_parking": "int8"}
    kernel_expressions = {"is_parking": one_of("merchant_group", ("parking",))}
    kernel_details = {"total_amount": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.02 per extra payment, capped at 0.4."""
        return np.clip(0.25 + 0.02 * (value - params["min_count"]), 0.0, 0.4)
