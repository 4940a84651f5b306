"""Frequent prepaid-card loads or gift-card purchases, or round oversized grocery buys that hide them.

## What it flags
Accounts that, within `window_days` days, make either

* at least `min_count` prepaid or stored-value loads (MCC 6540) or gift-card purchases (a
  merchant name on the `giftcard_merchants` list), each of at least `min_amount`, or
* at least `min_rounded` grocery or convenience purchases (MCC 5411, 5499) that are multiples of
  `round_to` and at least `basket_multiple` times the customer's median grocery and convenience
  basket (nearest-rank median over all of the customer's such purchases): gift or prepaid cards
  bought over the counter, which the statement shows only as a round grocery bill.

Each arm's purchases are its evidence; purchases closer than `window_days` form one hit. The
value is the number of purchases in the hit.

## Why it matters
Prepaid and gift cards move value out of the banking system without naming the recipient:
FinCEN (2020) and FINTRAC (2021) report frequent purchases and loads, especially onto several
prepaid cards, used to pay for ads, to give victims spending money under control, or to move
proceeds; FINTRAC (2021) adds rounded and atypically large purchases at grocery and convenience
stores that sell such cards.

## Typical false positives
Gift buying before holidays; people without a credit card who top up a prepaid card for online
shopping; employers that pay small bonuses as gift cards; a large round grocery bill for a party
paid as cash-back. Weak alone.

## Data needed
`counterparty_name` of payments; `mcc` improves recall for loads and is needed for the
grocery arm.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches
from followmoney.params import Interval, Param


class PAY06(Indicator):
    id = "PAY06"
    name = "prepaid_giftcard_loading"
    title = "Frequent prepaid loads or gift-card purchases, or round oversized grocery buys"
    family = "payment_instruments"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("F20", "FT21")
    requires = ("ts", "amount", "counterparty_name")
    requires_lists = ("giftcard_merchants",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 4, Interval(int, 1, None), "Loads or purchases needed inside one window"),
        Param("min_amount", 25.0, Interval(float, 0, None), "Smallest load that counts", "reporting currency"),
        Param("min_rounded", 3, Interval(int, 1, None), "Round, oversized grocery or convenience buys needed inside one window"),
        Param("round_to", 50.0, Interval(float, 0, None, closed="neither"),
              "A purchase that is a multiple of this is a round amount", "reporting currency"),
        Param("basket_multiple", 3.0, Interval(float, 0, None, closed="neither"),
              "How many times the customer's median grocery basket a round buy must reach"),
    )
    role_hint = None
    score_doc = ("0.25 at `min_count` loads, +0.05 per extra posting in the hit, capped at 0.4 (a round-buy hit has at "
                 "least `min_rounded` postings and scores at least 0.25).")
    reason = ("{value:.0f} prepaid loads, gift-card purchases or round oversized grocery buys within "
              "{window_days} days")
    sql = "WITH " + name_matches("counterparty_name", "giftcard_merchants") + """,
    loads AS (
        -- Two scans DuckDB can push down (stored-value merchants; listed names) rather than one OR
        -- over a LEFT JOIN; customers are picked after the selective filters.
        SELECT l.account_key, l.txn_idx, l.ts, l.ts_s
        FROM (SELECT account_key, txn_idx, ts, ts_s FROM postings
              WHERE amount < 0 AND amount <= -$min_amount AND merchant_group = 'stored_value'
              UNION ALL
              SELECT account_key, txn_idx, ts, ts_s FROM postings
              WHERE amount < 0 AND amount <= -$min_amount AND counterparty_name IN (SELECT raw FROM matched)
                AND merchant_group IS DISTINCT FROM 'stored_value') AS l
        JOIN accounts AS c ON c.account_key = l.account_key
        WHERE c.is_customer
    ),
    round_buys AS (
        -- Two disjoint amount ranges DuckDB applies in the scan, before the costly rounding test: a round
        -- basket is 0 (amount above -0.005) or at least `round_to` (amount at most 0.005 - `round_to`).
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, round(-p.amount, 2) AS basket
        FROM (SELECT account_key, txn_idx, ts, ts_s, amount, merchant_group FROM postings
              WHERE amount < 0 AND amount > -0.01
              UNION ALL
              SELECT account_key, txn_idx, ts, ts_s, amount, merchant_group FROM postings
              WHERE amount <= -0.01 AND amount < 0.01 - $round_to) AS p
        JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer AND p.merchant_group IN ('grocery', 'convenience')
          AND round(-p.amount, 2) = $round_to * floor(round(-p.amount, 2) / $round_to)
    ),
    median AS (
        -- Nearest-rank median of the customer's grocery and convenience baskets, for the few
        -- customers with a round buy only (ranking every customer's baskets is the costly part).
        SELECT account_key, min(basket) AS median_basket
        FROM (SELECT account_key, round(-amount, 2) AS basket,
                     row_number() OVER (PARTITION BY account_key ORDER BY -amount, txn_idx) AS r,
                     count(*) OVER (PARTITION BY account_key) AS n
              FROM postings
              WHERE amount < 0 AND merchant_group IN ('grocery', 'convenience')
                AND account_key IN (SELECT account_key FROM round_buys))
        WHERE r >= ceil(0.5 * n)
        GROUP BY account_key
    ),
    rounded AS (
        SELECT b.account_key, b.txn_idx, b.ts, b.ts_s
        FROM round_buys AS b JOIN median AS md ON md.account_key = b.account_key
        WHERE b.basket >= $basket_multiple * md.median_basket
    ),
    events AS (
        SELECT account_key, txn_idx, ts, ts_s, 1 AS is_load, 0 AS is_rounded FROM loads
        UNION ALL SELECT account_key, txn_idx, ts, ts_s, 0, 1 FROM rounded
    ),
    win AS (
        SELECT a.account_key, a.ts_s AS end_s, sum(e.is_load) AS n_loads, sum(e.is_rounded) AS n_rounded
        FROM events AS a
        JOIN events AS e ON e.account_key = a.account_key AND e.ts_s BETWEEN a.ts_s - $window_days * 86400 AND a.ts_s
        GROUP BY a.account_key, a.txn_idx, a.ts_s
    ),
    anchors AS (
        SELECT DISTINCT account_key, end_s, n_loads >= $min_count AS by_loads, n_rounded >= $min_rounded AS by_rounding
        FROM win WHERE n_loads >= $min_count OR n_rounded >= $min_rounded
    ),
    evidence AS (
        -- Each arm's own postings: round grocery buys do not make a load window, nor the reverse.
        SELECT DISTINCT e.account_key, e.txn_idx, e.ts, e.ts_s, e.is_load
        FROM events AS e
        JOIN anchors AS a ON e.account_key = a.account_key AND e.ts_s BETWEEN a.end_s - $window_days * 86400 AND a.end_s
        WHERE (a.by_loads AND e.is_load = 1) OR (a.by_rounding AND e.is_rounded = 1)
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(count(*) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence, CAST(sum(is_load) AS INTEGER) AS n_loads
    FROM numbered
    GROUP BY account_key, episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra posting, capped at 0.4; never below 0.25 for a hit."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.25, 0.4)
