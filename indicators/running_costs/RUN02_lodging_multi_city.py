"""Lodging charges in several cities within a short period.

## What it flags
Accounts that pay at least `min_count` lodging charges (MCC 7011 and 3501-3999, or a merchant
name on the `short_stay_lodging` list) in at least `min_cities` distinct cities within
`window_days` days. The value is the number of distinct cities of the episode.

## Why it matters
The short-stay / hotel model moves victims from city to city, booking rooms where the ads run;
FINTRAC (2016) and AUSTRAC report short stays in several cities within a short period, and FinCEN
(2020) lists accommodation paid for others among the running costs of exploitation.

## Typical false positives
Travelling sales staff, truck drivers, touring artists and consultants; holidays with several
stops. Compare with the stated occupation: the score is weak on purpose.

## Data needed
`city` of card payments and `counterparty_name`; `mcc` improves recall. The city is where the
charge was made, which for online bookings may be the booking platform's city.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class RUN02(Indicator):
    id = "RUN02"
    name = "lodging_multi_city"
    title = "Lodging charges in several cities within days"
    family = "running_costs"
    typologies = ("sexual_exploitation",)
    sources = ("FT16", "F20", "AU22(sec)")
    requires = ("ts", "amount", "city", "counterparty_name")
    requires_lists = ("short_stay_lodging",)
    params = (
        Param("window_days", 14, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 4, Interval(int, 1, None), "Lodging charges needed inside one window"),
        Param("min_cities", 2, Interval(int, 1, None), "Distinct cities needed inside one window"),
    )
    role_hint = None
    score_doc = "0.25 at `min_cities` cities, +0.05 per extra city, capped at 0.4."
    reason = "lodging charges in {value:.0f} cities within {window_days} days"
    sql = "WITH " + name_matches("counterparty_name", "short_stay_lodging") + """,
    lodging AS (
        -- Two disjoint scans DuckDB pushes into postings (by MCC group, then by matched name), not one OR.
        SELECT account_key, txn_idx, ts, ts_s, amount, city FROM postings
        WHERE amount < 0 AND city IS NOT NULL AND merchant_group = 'lodging'
        UNION ALL
        SELECT account_key, txn_idx, ts, ts_s, amount, city FROM postings
        WHERE amount < 0 AND city IS NOT NULL AND counterparty_name IN (SELECT raw FROM matched)
          AND merchant_group IS DISTINCT FROM 'lodging'
    ),
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, lower(trim(p.city)) AS k
        FROM lodging AS p JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer
    )""" + window_episodes("n >= $min_count AND n_distinct >= $min_cities", "$window_days * 86400",
                           value="count(DISTINCT k)", extra=", CAST(count(*) AS INTEGER) AS n_charges")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_cities`, +0.05 per extra city, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_cities"]), 0.0, 0.4)
