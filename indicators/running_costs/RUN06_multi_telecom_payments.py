"""Payments to several phone or internet providers within a month.

## What it flags
Accounts that pay at least `min_providers` distinct telecom payees (MCC 4814/4899 or a name on
the `telecom_providers` list) within `window_days` days. Payees are told apart by their
normalised name. The value is the number of distinct payees in the episode.

## Why it matters
Controllers run several phone lines: one per ad, per victim or per city, and replace them often.
FINTRAC (2021) names excessive payments to several phone and internet providers.

## Typical false positives
Families paying each member's plan with different carriers; small businesses with separate
landline, mobile and internet contracts; switching providers (two payees in one month). Weak
alone.

## Data needed
`counterparty_name` of payments; `mcc` improves recall.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class RUN06(Indicator):
    id = "RUN06"
    name = "multi_telecom_payments"
    title = "Payments to several telecom providers"
    family = "running_costs"
    typologies = ("sexual_exploitation",)
    sources = ("FT21",)
    requires = ("ts", "amount", "counterparty_name")
    requires_lists = ("telecom_providers",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_providers", 3, Interval(int, 1, None), "Distinct telecom payees needed inside one window"),
    )
    role_hint = None
    score_doc = "0.25 at `min_providers` payees, +0.05 per extra payee, capped at 0.4."
    reason = "payments to {value:.0f} telecom providers within {window_days} days"
    sql = "WITH " + name_matches("counterparty_name", "telecom_providers") + """,
    telecom AS (
        -- Two disjoint scans DuckDB pushes into postings (by MCC group, then by matched name), not one OR.
        SELECT account_key, txn_idx, ts, ts_s, amount, counterparty_name FROM postings
        WHERE amount < 0 AND counterparty_name IS NOT NULL AND merchant_group = 'telecom'
        UNION ALL
        SELECT account_key, txn_idx, ts, ts_s, amount, counterparty_name FROM postings
        WHERE amount < 0 AND counterparty_name IN (SELECT raw FROM matched)
          AND merchant_group IS DISTINCT FROM 'telecom'
    ),
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, lower(trim(p.counterparty_name)) AS k
        FROM telecom AS p JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer
    )""" + window_episodes("n_distinct >= $min_providers", "$window_days * 86400", value="count(DISTINCT k)")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_providers`, +0.05 per extra payee, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_providers"]), 0.0, 0.4)
