"""A cluster of night-time rideshare, taxi or limousine rides.

## What it flags
Accounts that pay at least `min_count` rides (MCC 4121 or a merchant on the `rideshare` list)
at night, local hour in [`night_start`, `night_end`) wrapping past midnight, within
`window_days` days. The value is the number of night rides in the episode.

## Why it matters
Victims are driven to bookings, hotels and outcalls, mostly in the evening and at night, and the
controller pays; FINTRAC (2016) and AUSTRAC name frequent local transport in short timelines, and
FinCEN (2020) transport paid for others.

## Typical false positives
Night-shift workers without a car, hospitality staff, people who go out often. Compare with the
stated occupation; weak alone.

## Data needed
`counterparty_name` (and optionally `mcc`) of card payments; `local_hour` comes from the
profile's time zone, so set `timezone` for data that is not in UTC.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class RUN03(Indicator):
    id = "RUN03"
    name = "night_rideshare_cluster"
    title = "Cluster of night-time rides"
    family = "running_costs"
    typologies = ("sexual_exploitation",)
    sources = ("FT16", "F20", "AU22(sec)")
    requires = ("ts", "amount", "counterparty_name")
    requires_lists = ("rideshare",)
    params = (
        Param("window_days", 7, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 5, Interval(int, 1, None), "Night rides needed inside one window"),
        Param("night_start", 22, Interval(int, 0, 23), "First local hour that counts as night", "hour"),
        Param("night_end", 5, Interval(int, 0, 23), "Local hour at which the night ends (exclusive)", "hour"),
    )
    role_hint = None
    score_doc = "0.25 at `min_count` night rides, +0.05 per extra ride, capped at 0.4."
    reason = "{value:.0f} rides between {night_start}:00 and {night_end}:00 within {window_days} days"
    sql = "WITH " + name_matches("counterparty_name", "rideshare") + """,
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.txn_idx AS k
        FROM postings AS p LEFT JOIN matched AS m ON m.raw = p.counterparty_name
        JOIN accounts AS c ON c.account_key = p.account_key
        WHERE p.amount < 0 AND c.is_customer
          AND (p.merchant_group = 'rideshare' OR m.raw IS NOT NULL)
          -- A night that wraps past midnight (22-5) is two ranges; one that does not is one.
          AND CASE WHEN $night_start > $night_end THEN p.local_hour >= $night_start OR p.local_hour < $night_end
                   ELSE p.local_hour >= $night_start AND p.local_hour < $night_end END
    )""" + window_episodes("n >= $min_count", "$window_days * 86400")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra ride, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
