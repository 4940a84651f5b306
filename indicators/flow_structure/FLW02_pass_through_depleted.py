"""An account that money only passes through: swept out within days, kept near zero, no living costs.

## What it flags
Accounts with a period of `period_days` days (counted from the account's first posting; only
periods the data covers completely are judged) in which all of these hold:

* credits add up to at least `min_inflow` and debits to at least `min_out_ratio` of them;
* the median hold time of the credits is at most `max_hold_hours`: money leaves first in, first
  out, and a credit's hold time runs until the debits have taken half of it (never, if they do
  not), so at least half the credits must be half gone within that time;
* the end-of-day balance is below `max_balance_share` of the credits of the trailing
  `inflow_days` days on at least `min_low_days_share` of the period's days (from its first
  posting; a day without postings keeps the previous day's balance);
* groceries, utilities and rent (merchant groups grocery, utilities and property_rental, or a
  memo with the word "rent") take less than `max_living_share` of the debits.

The balance is rebuilt from the postings, starting from the smallest opening balance that never
goes negative. The value is the share of low-balance days; the evidence is the period's largest
credits and debits (up to 20 each).

## Why it matters
Accounts of victims and nominees are controlled by someone else: what comes in is moved out
within hours or days, nothing stays, and the holder's own living costs are paid from nowhere
because someone else pays them or nobody does. FINTRAC (2016) describes deposits followed
quickly by cash-outs or transfers, an account kept near zero with no normal living spend.

## Typical false positives
Secondary accounts used only to forward money (to savings, to a partner); students whose rent is
paid by their parents; accounts whose living costs are paid by card from another bank. Never
alerts on its own.

## Data needed
`ts`, `amount` and the accounts; `mcc` (merchant groups) and `memo` to see living costs. A period
is judged on all of the account's postings, so partial extracts understate balances.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class FLW02(Indicator):
    id = "FLW02"
    name = "pass_through_depleted"
    title = "Inflows swept out, balance kept near zero, no living costs"
    family = "flow_structure"
    typologies = ("sexual_exploitation", "labour_exploitation", "laundering_of_proceeds")
    sources = ("FT16",)
    requires = ("ts", "amount", "payer_account", "beneficiary_account", "mcc", "memo")
    params = (
        Param("period_days", 60, Interval(int, 7, 366), "Length of each period judged", "days"),
        Param("min_inflow", 1_000.0, Interval(float, 0, None), "Smallest total of the period's credits",
              "reporting currency"),
        Param("min_out_ratio", 0.9, Interval(float, 0, None, closed="neither"), "Debits over credits in the period"),
        Param("max_hold_hours", 72, Interval(int, 1, 24 * 60), "Largest median hold time of the credits", "hours"),
        Param("max_balance_share", 0.05, Interval(float, 0, 1), "End-of-day balance counted as near zero, as a "
              "share of the trailing credits"),
        Param("inflow_days", 30, Interval(int, 1, 366), "Days of credits the balance is compared to", "days"),
        Param("min_low_days_share", 0.8, Interval(float, 0, 1, closed="right"),
              "Share of the period's days with a near-zero balance"),
        Param("max_living_share", 0.05, Interval(float, 0, 1, closed="right"),
              "Largest share of debits spent on groceries, utilities and rent"),
    )
    role_hint = "victim"
    decisive = False
    score_doc = ("0.3 at `min_low_days_share` of days near zero, rising linearly to 0.4 when every day is: "
                 "never alerts alone.")
    reason = ("balance near zero on {value:.0%} of days in {period_days} days, debits >= {min_out_ratio:.0%} of "
              "credits held <= {max_hold_hours} h, living costs < {max_living_share:.0%}")
    sql = """
    WITH firsts AS (
        SELECT account_key, CAST(floor(min(ts_s) / 86400) AS BIGINT) AS first_day FROM postings GROUP BY account_key
    ),
    data_end AS (SELECT CAST(floor(max(ts_s) / 86400) AS BIGINT) AS end_day FROM postings),
    candidates AS (
        -- One cheap pass first: only accounts with a complete period whose flows pass (enough in, nearly all
        -- out, almost no living costs) get the balance and hold-time work below.
        SELECT DISTINCT account_key FROM (
            SELECT p.account_key,
                   CAST(floor((floor(p.ts_s / 86400) - f.first_day) / $period_days) AS BIGINT) AS period,
                   any_value(f.first_day) AS first_day,
                   sum(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END) AS inflow,
                   sum(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END) AS outflow,
                   sum(CASE WHEN p.amount < 0 AND (coalesce(p.merchant_group IN ('grocery', 'utilities', 'property_rental'), false)
                                                   OR contains(' ' || lower(coalesce(p.memo, '')) || ' ', ' rent '))
                            THEN -p.amount ELSE 0 END) AS living
            FROM postings AS p JOIN firsts AS f ON f.account_key = p.account_key
            GROUP BY p.account_key, period
        ) AS q CROSS JOIN data_end AS d
        WHERE q.first_day + (q.period + 1) * $period_days <= d.end_day + 1
          AND q.inflow >= $min_inflow AND q.outflow >= $min_out_ratio * q.inflow - 1e-6
          AND q.living < $max_living_share * q.outflow
    ),
    legs AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, CAST(floor(p.ts_s / 86400) AS BIGINT) AS day,
               (p.amount < 0 AND (coalesce(p.merchant_group IN ('grocery', 'utilities', 'property_rental'), false)
                                  OR contains(' ' || lower(coalesce(p.memo, '')) || ' ', ' rent '))) AS is_living,
               round(sum(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END)
                     OVER (PARTITION BY p.account_key ORDER BY p.ts_s, p.txn_idx ROWS UNBOUNDED PRECEDING), 2) AS cum_in,
               round(sum(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END)
                     OVER (PARTITION BY p.account_key ORDER BY p.ts_s, p.txn_idx ROWS UNBOUNDED PRECEDING), 2) AS cum_out
        FROM postings AS p JOIN candidates AS c ON c.account_key = p.account_key
    ),
    accts AS (
        SELECT account_key, greatest(0, max(cum_out - cum_in)) AS opening, min(day) AS first_day
        FROM legs GROUP BY account_key
    ),
    levels AS (
        SELECT l.account_key, l.txn_idx, l.ts_s, round(a.opening + l.cum_in - l.amount / 2, 2) AS level, 0 AS kind
        FROM legs AS l JOIN accts AS a ON a.account_key = l.account_key WHERE l.amount > 0
        UNION ALL
        SELECT account_key, txn_idx, ts_s, cum_out, 1 FROM legs WHERE amount < 0
    ),
    holds AS (
        -- First in, first out: half of a credit is gone at the first debit whose running total of
        -- debits reaches the running total of credits before it plus half of it.
        SELECT account_key, txn_idx, out_s - ts_s AS hold_s
        FROM (SELECT *, min(CASE WHEN kind = 1 THEN ts_s END)
                        OVER (PARTITION BY account_key ORDER BY level, kind, ts_s, txn_idx
                              ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS out_s
              FROM levels)
        WHERE kind = 0
    ),
    periods AS (
        SELECT l.account_key, l.txn_idx, l.ts, l.ts_s, l.amount, l.day, l.is_living, l.cum_in, l.cum_out,
               a.opening, CAST(floor((l.day - a.first_day) / $period_days) AS BIGINT) AS period, a.first_day
        FROM legs AS l JOIN accts AS a ON a.account_key = l.account_key
    ),
    flows AS (
        SELECT p.account_key, p.period,
               sum(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END) AS inflow,
               sum(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END) AS outflow,
               sum(CASE WHEN p.is_living THEN -p.amount ELSE 0 END) AS living,
               sum(CASE WHEN p.amount > 0 THEN 1 ELSE 0 END) AS n_credits,
               sum(CASE WHEN p.amount > 0 AND h.hold_s <= $max_hold_hours * 3600 THEN 1 ELSE 0 END) AS n_quick
        FROM periods AS p
        LEFT JOIN holds AS h ON h.account_key = p.account_key AND h.txn_idx = p.txn_idx
        CROSS JOIN data_end AS d
        GROUP BY p.account_key, p.period, p.first_day, d.end_day
        HAVING p.first_day + (p.period + 1) * $period_days <= d.end_day + 1
    ),
    days AS (
        SELECT account_key, period, day, first_day,
               sum(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS day_in,
               max(CASE WHEN day_rank = 1 THEN opening + cum_in - cum_out END) AS eod_balance
        FROM (SELECT *, row_number() OVER (PARTITION BY account_key, day ORDER BY ts_s DESC, txn_idx DESC) AS day_rank
              FROM periods)
        GROUP BY account_key, period, day, first_day
    ),
    day_flags AS (
        SELECT account_key, period,
               least(coalesce(lead(day) OVER (PARTITION BY account_key ORDER BY day), day + 100000),
                     first_day + (period + 1) * $period_days) - day AS weight,
               eod_balance < $max_balance_share * sum(day_in) OVER (PARTITION BY account_key ORDER BY day
                                                        RANGE BETWEEN $inflow_days - 1 PRECEDING AND CURRENT ROW) - 1e-6
                   AS is_low
        FROM days
    ),
    low_days AS (
        SELECT account_key, period, sum(CASE WHEN is_low THEN weight ELSE 0 END) / sum(weight) AS low_share
        FROM day_flags GROUP BY account_key, period
    ),
    qualifying AS (
        SELECT f.account_key, f.period, d.low_share, f.inflow, f.outflow
        FROM flows AS f JOIN low_days AS d ON d.account_key = f.account_key AND d.period = f.period
        WHERE f.inflow >= $min_inflow AND f.outflow >= $min_out_ratio * f.inflow - 1e-6
          AND 2 * f.n_quick >= f.n_credits AND d.low_share >= $min_low_days_share - 1e-9
          AND f.living < $max_living_share * f.outflow
    ),
    ranked AS (
        SELECT p.account_key, p.period, p.txn_idx, p.ts, p.ts_s,
               row_number() OVER (PARTITION BY p.account_key, p.period, p.amount > 0 ORDER BY abs(p.amount) DESC, p.txn_idx) AS r
        FROM periods AS p JOIN qualifying AS q ON q.account_key = p.account_key AND q.period = p.period
    )
    SELECT r.account_key, min(r.ts) AS window_start, max(r.ts) AS window_end, CAST(any_value(q.low_share) AS DOUBLE) AS value,
           list(r.txn_idx ORDER BY r.ts_s, r.txn_idx) AS evidence, round(any_value(q.inflow), 2) AS credits,
           round(any_value(q.outflow), 2) AS debits
    FROM ranked AS r JOIN qualifying AS q ON q.account_key = r.account_key AND q.period = r.period
    WHERE r.r <= 20
    GROUP BY r.account_key, r.period
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_low_days_share`, rising linearly to 0.4 when every day is near zero."""
        floor = params["min_low_days_share"]
        span = max(1.0 - floor, 1e-9)
        return np.clip(0.3 + 0.1 * (value - floor) / span, 0.3, 0.4)
