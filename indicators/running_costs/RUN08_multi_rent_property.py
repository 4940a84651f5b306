"""Rent paid to several landlords or property managers in the same month.

## What it flags
Accounts that pay rent to at least `min_landlords` distinct payees within `window_days` days.
A debit is rent when its merchant group is real-estate rental / property management (MCC 6513)
or its memo contains the word "rent" or "lease". Payees are told apart by their normalised name
(or account when the name is missing). The value is the number of distinct payees in the episode.

## Why it matters
Controllers rent several apartments or rooms at once to house victims or run incall locations;
FINTRAC (2021 and 2016) names rent paid to several landlords or property managers, often monthly.
The reference's role hypothesis counts it among the controller/beneficiary signals.

## Typical false positives
Moving house (old and new landlord in the same month), landlords who pay their own property
managers, parents paying a student's rent besides their own. Weak alone.

## Data needed
`memo` and `counterparty_name` of payments; `mcc` improves recall.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import window_episodes
from followmoney.params import Interval, Param


class RUN08(Indicator):
    id = "RUN08"
    name = "multi_rent_property"
    title = "Rent paid to several landlords"
    family = "running_costs"
    typologies = ("sexual_exploitation", "labour_exploitation")
    sources = ("FT21", "FT16")
    requires = ("ts", "amount", "memo", "counterparty_name")
    params = (
        Param("window_days", 31, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_landlords", 2, Interval(int, 2, None), "Distinct rent payees needed inside one window"),
    )
    # The reference's role hypothesis names multiple rents as a controller/beneficiary signal.
    role_hint = "controller"
    score_doc = "0.25 at `min_landlords` payees, +0.05 per extra payee, capped at 0.4."
    reason = "rent paid to {value:.0f} landlords within {window_days} days"
    # Memos are classified once per distinct memo text, then joined back to the debits. The count keeps
    # DuckDB from moving the regex below the grouping (it would then run once per posting, not per memo).
    sql = r"""
    WITH memos AS (SELECT memo AS raw, count(*) AS n FROM postings GROUP BY memo),
    rent_memo AS (SELECT raw FROM memos WHERE n > 0 AND regexp_matches(lower(raw), '\b(rent|lease)\b')),
    rent AS (
        -- Two disjoint scans DuckDB pushes into postings (by MCC group, then by rent memo), not one OR.
        SELECT account_key, txn_idx, ts, ts_s, amount, counterparty_name, counterparty_key FROM postings
        WHERE amount < 0 AND merchant_group = 'property_rental'
        UNION ALL
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.counterparty_name, p.counterparty_key
        FROM postings AS p JOIN rent_memo AS r ON r.raw = p.memo
        WHERE p.amount < 0 AND p.merchant_group IS DISTINCT FROM 'property_rental'
    ),
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount,
               coalesce(lower(trim(p.counterparty_name)), CAST(p.counterparty_key AS VARCHAR)) AS k
        FROM rent AS p JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer
    )""" + window_episodes("n_distinct >= $min_landlords", "$window_days * 86400", value="count(DISTINCT k)")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_landlords`, +0.05 per extra payee, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_landlords"]), 0.0, 0.4)
