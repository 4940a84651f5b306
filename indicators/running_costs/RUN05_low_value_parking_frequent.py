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

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import window_episodes
from followmoney.params import Interval, Param


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
    sql = """
    WITH events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.txn_idx AS k
        FROM postings AS p JOIN accounts AS c ON c.account_key = p.account_key
        WHERE p.amount < 0 AND c.is_customer AND p.merchant_group = 'parking' AND -p.amount <= $max_amount
    )""" + window_episodes("n >= $min_count", "$window_days * 86400")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.02 per extra payment, capped at 0.4."""
        return np.clip(0.25 + 0.02 * (value - params["min_count"]), 0.0, 0.4)
