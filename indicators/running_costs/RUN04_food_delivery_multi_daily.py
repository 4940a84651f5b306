"""Several food-delivery orders on the same day, on many days.

## What it flags
Accounts that place at least `min_per_day` orders with food-delivery apps (the `food_delivery`
list) on the same local day, on at least `min_days` such days within `window_days` days. The
value is the number of such busy days in the episode; the evidence is their orders.

## Why it matters
Victims kept in a hotel room, apartment or storefront are fed by whoever controls them; FINTRAC
(2021) names frequent same-day food-delivery orders, feeding several people, as a running cost of
exploitation.

## Typical false positives
Large households, shared flats where one person orders for everyone, people who work from home
and order all meals. Weak alone.

## Data needed
`counterparty_name` of card payments. Days are local days in the profile's time zone.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class RUN04(Indicator):
    id = "RUN04"
    name = "food_delivery_multi_daily"
    title = "Several food-delivery orders a day, repeatedly"
    family = "running_costs"
    typologies = ("sexual_exploitation", "labour_exploitation")
    sources = ("FT21", "FT16")
    requires = ("ts", "amount", "counterparty_name")
    requires_lists = ("food_delivery",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_per_day", 3, Interval(int, 2, None), "Orders on one day that make it a busy day"),
        Param("min_days", 5, Interval(int, 1, None), "Busy days needed inside one window"),
    )
    role_hint = None
    score_doc = "0.25 at `min_days` busy days, +0.05 per extra day, capped at 0.4."
    reason = "{value:.0f} days with >= {min_per_day} food-delivery orders within {window_days} days"
    sql = "WITH " + name_matches("counterparty_name", "food_delivery") + """,
    orders AS (
        -- The local day: shift UTC seconds by the local offset (local_hour - UTC hour, in [-12, 11]).
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount,
               CAST(floor((p.ts_s + ((p.local_hour - hour(p.ts) + 36) % 24 - 12) * 3600) / 86400) AS BIGINT) AS day
        FROM postings AS p JOIN matched AS m ON m.raw = p.counterparty_name
        JOIN accounts AS c ON c.account_key = p.account_key
        WHERE p.amount < 0 AND c.is_customer
    ),
    events AS (
        SELECT account_key, txn_idx, ts, ts_s, amount, day AS k
        FROM (SELECT *, count(*) OVER (PARTITION BY account_key, day) AS per_day FROM orders)
        WHERE per_day >= $min_per_day
    )""" + window_episodes("n_distinct >= $min_days", "$window_days * 86400", value="count(DISTINCT k)",
                           extra=", CAST(count(*) AS INTEGER) AS n_orders")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_days`, +0.05 per extra busy day, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_days"]), 0.0, 0.4)
