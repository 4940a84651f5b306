"""Luxury spending beyond the declared income, or across several luxury categories.

## What it flags
Accounts whose spending at luxury merchants (MCC groups jewellery, car_dealer, nightlife,
medical_cosmetic, or a name on the `luxury_merchants` list) within `window_days` days reaches
`income_share` of the holder's declared income for the same period
(`declared_income * window_days / 365`), or spans at least `min_categories` of those categories.
The value is the episode's luxury spend.

## Why it matters
Controllers spend the proceeds on cars, limousines, jewellery, nightclubs, fine dining and
cosmetic surgery (FINTRAC 2021; FinCEN 2020). Spending far beyond declared means, combined with
cash or many-sender inflows, points to the beneficiary of the exploitation.

## Typical false positives
Wealthy customers with an understated or stale declared income; a one-off purchase (a car, an
engagement ring) funded by savings or a loan. Weak alone.

## Data needed
`mcc` or `counterparty_name` of payments, and the parties column `declared_income` (annual, in
the reporting currency). Accounts without a declared income are judged on the categories arm only.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class LUX01(Indicator):
    id = "LUX01"
    name = "lavish_spend_vs_income"
    title = "Luxury spending beyond declared income"
    family = "lifestyle"
    typologies = ("sexual_exploitation", "labour_exploitation", "laundering_of_proceeds")
    sources = ("FT21", "F20")
    requires = ("ts", "amount", "counterparty_name")
    requires_parties = ("declared_income",)
    requires_lists = ("luxury_merchants",)
    params = (
        Param("window_days", 90, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("income_share", 0.5, Interval(float, 0, None, closed="neither"),
              "Luxury spend, as a share of the declared income of the same period, that flags"),
        Param("min_categories", 3, Interval(int, 1, None), "Distinct luxury categories that flag on their own"),
    )
    # The reference's role hypothesis names lavish spending as a controller/beneficiary signal.
    role_hint = "controller"
    score_doc = "0.3 for every hit: the spend is only meaningful against each holder's own income."
    reason = "luxury spend of {value:,.0f} within {window_days} days"
    sql = "WITH " + name_matches("counterparty_name", "luxury_merchants") + """,
    income AS (
        SELECT c.account_key, max(k.declared_income) AS declared_income
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        GROUP BY c.account_key
    ),
    luxury_groups AS (
        SELECT merchant_group
        FROM (VALUES ('jewellery'), ('car_dealer'), ('nightlife'), ('medical_cosmetic')) AS t(merchant_group)
    ),
    luxury AS (
        -- Two disjoint scans DuckDB pushes into postings (by MCC group, then by matched name), not one OR;
        -- the groups are a semi join, which is pushed into the scan, where an IN list is not.
        SELECT account_key, txn_idx, ts, ts_s, amount, merchant_group AS k FROM postings
        WHERE amount < 0 AND merchant_group IN (SELECT merchant_group FROM luxury_groups)
        UNION ALL
        SELECT account_key, txn_idx, ts, ts_s, amount, 'luxury_brand' AS k FROM postings
        WHERE amount < 0 AND counterparty_name IN (SELECT raw FROM matched)
          AND merchant_group IS DISTINCT FROM 'jewellery' AND merchant_group IS DISTINCT FROM 'car_dealer'
          AND merchant_group IS DISTINCT FROM 'nightlife'
          AND merchant_group IS DISTINCT FROM 'medical_cosmetic'
    ),
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.k,
               -- The spend that flags in one window; null (never reached) without a declared income.
               CASE WHEN i.declared_income > 0 THEN $income_share * i.declared_income * $window_days / 365.0 END AS ref
        FROM luxury AS p JOIN accounts AS c ON c.account_key = p.account_key
        LEFT JOIN income AS i ON i.account_key = p.account_key
        WHERE c.is_customer
    )""" + window_episodes("total >= ref OR n_distinct >= $min_categories", "$window_days * 86400",
                           value="sum(-amount)", ref=True,
                           extra=", CAST(count(DISTINCT k) AS INTEGER) AS n_categories")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 flat: the raw spend is not comparable across customers without their income."""
        return np.full(np.shape(value), 0.3)
