"""Repeated cash deposits just under the reporting threshold within a short window.

## What it flags
Accounts that receive at least `min_count` cash deposits, each in
`[threshold * (1 - margin), threshold)`, inside any window of `window_days` days. Deposits that
belong to overlapping qualifying windows form one episode, reported as one hit.

## Why it matters
Traffickers running cash businesses (sexual services, storefronts) must place large amounts of
cash. Splitting it into deposits kept just below the currency-transaction reporting threshold
("structuring") avoids the report that would bring the money to the FIU's attention. FinCEN lists
it among the financial red flags of human trafficking.

## Typical false positives
Businesses with fixed-price cash takings close to the limit; rent or wages collected in cash;
deposits that happen to fall in the band. Check the source of the cash and the account's profile.

## Data needed
`channel` must identify cash (`cash`) after the profile's code mapping; amounts are compared in the
reporting currency, so mixed-currency data needs a rates file. The threshold is per jurisdiction
(US and CA: 10,000).
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class CSH01(Indicator):
    id = "CSH01"
    name = "structuring_below_threshold"
    title = "Cash deposits just below the reporting threshold"
    family = "cash"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("F14(sec)", "F20")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("threshold", 10_000.0, Interval(float, 0, None, closed="neither"),
              "Reporting threshold for cash", "reporting currency"),
        Param("margin", 0.2, Interval(float, 0, 1, closed="neither"),
              "Fraction below the threshold that still counts as 'just below'"),
        Param("window_days", 7, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 3, Interval(int, 2, None), "Deposits needed inside one window"),
    )
    role_hint = None
    decisive = True
    score_doc = "0.6 at `min_count` deposits in the episode, +0.1 per extra deposit, capped at 1."
    reason = "{value:.0f} cash deposits in [{threshold:,.0f} x (1 - {margin}), {threshold:,.0f}) within {window_days} days"
    # Numeric RANGE frames over epoch seconds transpile cleanly to Spark (platform notes).
    sql = """
    WITH deposits AS (
        SELECT account_key, txn_idx, ts, ts_s, amount
        FROM postings
        WHERE channel = 'cash'
          AND amount >= $threshold * (1 - $margin) AND amount < $threshold
    ),
    anchors AS (
        SELECT account_key, ts_s AS end_s
        FROM (
            SELECT account_key, ts_s,
                   count(*) OVER (PARTITION BY account_key ORDER BY ts_s
                                  RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW) AS n_in_window
            FROM deposits
        )
        WHERE n_in_window >= $min_count
    ),
    evidence AS (
        SELECT DISTINCT d.account_key, d.txn_idx, d.ts, d.ts_s, d.amount
        FROM deposits AS d
        JOIN anchors AS a
          ON d.account_key = a.account_key
         AND d.ts_s BETWEEN a.end_s - $window_days * 86400 AND a.end_s
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    )
    SELECT account_key,
           min(ts) AS window_start,
           max(ts) AS window_end,
           CAST(count(*) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence,
           round(sum(amount), 2) AS total_amount
    FROM numbered
    GROUP BY account_key, episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.6 at `min_count`, +0.1 per extra deposit, capped at 1."""
        return np.clip(0.6 + 0.1 * (value - params["min_count"]), 0.0, 1.0)
