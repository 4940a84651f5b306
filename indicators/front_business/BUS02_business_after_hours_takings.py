"""Card takings of a business mostly outside its declared opening hours, or round the clock.

## What it flags
Accounts with declared opening hours (parties `business_hours`, `HH-HH` in local time; `18-02`
crosses midnight, `00-24` or equal hours mean always open) whose card takings (credits on the
`card` channel: point-of-sale acquiring at transaction level) show either

* in some window of `window_days` days, at least `min_txns` takings of which at least
  `min_share` fall in local hours outside the declared hours (a daytime business taking money at
  night), or
* at least `min_long_days` days within `window_days` days on each of which takings arrive in at
  least `min_hours_per_day` distinct local hours (very long opening hours).

The evidence is every taking of the qualifying windows (or of the long days); takings closer
than `window_days` days form one hit. The value is the share of the hit's takings outside the
declared hours.

## Why it matters
FinCEN (2020) names transactions mostly outside normal business hours, such as card sales late
at night at massage parlours, salons, strip clubs and modelling agencies; FINTRAC (2016, 2021)
adds very long opening hours. A salon declared open 09-19 that takes card payments at 02:00 is
selling something else.

## Typical false positives
Stale or wrong declared hours (a restaurant that extended its hours); acquirers that timestamp
at batch time rather than at the sale; 24-hour businesses declared with day hours. Daily
settlement credits are not takings here (they arrive by ACH, not per card sale). Weak alone.

## Data needed
`channel` marking card credits at transaction level, and the parties column `business_hours`.
Without declared hours the indicator is skipped, including the long-hours arm (it judges the
account against its own declaration). Hours that are not `HH-HH` are ignored.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class BUS02(Indicator):
    id = "BUS02"
    name = "business_after_hours_takings"
    title = "Card takings outside declared opening hours, or round the clock"
    family = "front_business"
    typologies = ("sexual_exploitation", "labour_exploitation")
    sources = ("F20", "FT16", "FT21")
    requires = ("ts", "amount", "channel")
    requires_parties = ("business_hours",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_txns", 20, Interval(int, 1, None), "Card takings needed inside one window for the share arm"),
        Param("min_share", 0.4, Interval(float, 0, 1, closed="right"),
              "Share of the window's takings outside the declared hours that flags"),
        Param("min_hours_per_day", 18, Interval(int, 1, 24), "Distinct local hours with takings that make a long day"),
        Param("min_long_days", 10, Interval(int, 1, None), "Long days inside one window that flag"),
    )
    # The reference's role hypothesis names the front-business owner; the account is the business.
    role_hint = "front_business"
    score_doc = ("0.3 for a hit, rising linearly with the share of takings outside the declared hours to 0.45 "
                 "when all are: weak alone, a front-business corroboration.")
    reason = "{value:.0%} of card takings outside the declared opening hours, or takings round the clock"
    sql = """
    WITH declared AS (
        -- One declaration per account; malformed hours are ignored rather than guessed.
        SELECT account_key, open_h, close_h
        FROM (SELECT c.account_key,
                     TRY_CAST(substring(min(trim(k.business_hours)), 1, 2) AS INTEGER) AS open_h,
                     TRY_CAST(substring(min(trim(k.business_hours)), 4, 2) AS INTEGER) AS close_h
              FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
              WHERE length(trim(k.business_hours)) = 5 AND substring(trim(k.business_hours), 3, 1) = '-'
              GROUP BY c.account_key)
        WHERE open_h BETWEEN 0 AND 24 AND close_h BETWEEN 0 AND 24
    ),
    takings AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.local_hour, p.local_day,
               CASE WHEN d.open_h = d.close_h OR (d.open_h = 0 AND d.close_h = 24) THEN 0
                    WHEN d.open_h < d.close_h
                         THEN CASE WHEN p.local_hour >= d.open_h AND p.local_hour < d.close_h THEN 0 ELSE 1 END
                    ELSE CASE WHEN p.local_hour >= d.open_h OR p.local_hour < d.close_h THEN 0 ELSE 1 END
               END AS outside
        FROM postings AS p JOIN declared AS d ON d.account_key = p.account_key
        JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer AND p.amount > 0 AND p.channel = 'card'
    ),
    share_win AS (
        SELECT *,
               count(*) OVER (PARTITION BY account_key ORDER BY ts_s
                              RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW) AS n_win,
               sum(outside) OVER (PARTITION BY account_key ORDER BY ts_s
                                  RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW) AS n_out
        FROM takings
    ),
    share_anchor AS (
        SELECT *, min(CASE WHEN n_win >= $min_txns AND n_out >= $min_share * n_win THEN ts_s END)
                      OVER (PARTITION BY account_key ORDER BY ts_s
                            RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_anchor_s
        FROM share_win
    ),
    days AS (
        SELECT account_key, local_day, count(DISTINCT local_hour) AS n_hours
        FROM takings GROUP BY account_key, local_day
    ),
    long_days AS (
        SELECT account_key, local_day,
               count(*) OVER (PARTITION BY account_key ORDER BY local_day
                              RANGE BETWEEN $window_days - 1 PRECEDING AND CURRENT ROW) AS n_long
        FROM days WHERE n_hours >= $min_hours_per_day
    ),
    long_marked AS (
        -- A long day is evidence when a later long day, within the window, closes a qualifying run.
        SELECT account_key, local_day,
               min(CASE WHEN n_long >= $min_long_days THEN local_day END)
                   OVER (PARTITION BY account_key ORDER BY local_day
                         RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_anchor_day
        FROM long_days
    ),
    evidence AS (
        SELECT account_key, txn_idx, ts, ts_s, outside FROM share_anchor
        WHERE next_anchor_s - ts_s <= $window_days * 86400
        UNION
        SELECT t.account_key, t.txn_idx, t.ts, t.ts_s, t.outside
        FROM takings AS t JOIN long_marked AS l ON l.account_key = t.account_key AND l.local_day = t.local_day
        WHERE l.next_anchor_day - l.local_day < $window_days
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end,
           CAST(sum(outside) AS DOUBLE) / count(*) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence,
           CAST(count(*) AS INTEGER) AS n_takings, CAST(sum(outside) AS INTEGER) AS n_after_hours
    FROM numbered
    GROUP BY account_key, episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3, plus up to 0.15 as the share outside the declared hours goes from `min_share` to 1."""
        span = max(1.0 - params["min_share"], 1e-9)
        return np.clip(0.3 + 0.15 * (value - params["min_share"]) / span, 0.3, 0.45)
