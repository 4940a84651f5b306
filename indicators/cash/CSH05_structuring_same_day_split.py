"""Cash deposits split within one day so each stays under the reporting threshold while the day's total exceeds it, on several days.

## What it flags
Accounts with at least `min_days` "split days" within `window_days` days. A split day is a local
calendar day on which the account receives at least `min_count` cash deposits, each below
`threshold`, that together exceed `threshold`. Split days that belong to overlapping qualifying
windows form one episode, reported as one hit whose evidence is every deposit of its split days.

## Why it matters
This is the second form of structuring in the reference specification of
`structuring_below_threshold`: rather than deposits "just below" the limit on different days, one
day's cash is broken into several smaller deposits (often at different branches) so that no
single deposit looks reportable. FinCEN lists structuring among the financial red flags of human
trafficking; repeated on several days it is deliberate. CSH01 covers the near-threshold band.

## Typical false positives
Cash businesses that bank their takings twice a day (midday and closing); a customer depositing
a large sum of savings in two visits. Check whether deposits are spread over branches and whether
the business explains the volume.

## Data needed
`channel` must identify cash (`cash`); amounts are compared in the reporting currency, and the day
is the profile's local calendar day. The threshold is per jurisdiction (US and CA: 10,000).
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class CSH05(Indicator):
    id = "CSH05"
    name = "structuring_same_day_split"
    title = "Same-day cash deposits each under the threshold, together over it, on several days"
    family = "cash"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("F14(sec)", "F20")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("threshold", 10_000.0, Interval(float, 0, None, closed="neither"),
              "Reporting threshold for cash", "reporting currency"),
        Param("min_count", 2, Interval(int, 2, None), "Deposits a day's total must be split over"),
        Param("min_days", 2, Interval(int, 1, None), "Split days needed inside one window"),
        Param("window_days", 30, Interval(int, 0, 366), "Largest distance between split days of one window", "days"),
    )
    role_hint = None
    # Decisive like CSH01: several days of deliberately split cash are structuring, a reportable offence
    # in itself, whatever else the account shows; one split day alone (min_days 1) would not be.
    decisive = True
    score_doc = "0.6 at `min_days` split days in the episode, +0.1 per extra split day, capped at 1."
    reason = ("{value:.0f} days with {min_count}+ cash deposits each under {threshold:,.0f} adding up to more, "
              "within {window_days} days")
    # Days are integers (local_day), so the RANGE frame counts calendar days exactly in any engine.
    sql = """
    WITH split_days AS (
        -- Days are found from three columns; the evidence columns are read below for the few split days.
        SELECT account_key, local_day
        FROM postings
        WHERE channel = 'cash' AND amount > 0 AND amount < $threshold
        GROUP BY account_key, local_day
        HAVING count(*) >= $min_count AND sum(amount) > $threshold
    ),
    anchors AS (
        SELECT account_key, local_day AS end_day
        FROM (
            SELECT account_key, local_day,
                   count(*) OVER (PARTITION BY account_key ORDER BY local_day
                                  RANGE BETWEEN $window_days PRECEDING AND CURRENT ROW) AS n_days
            FROM split_days
        )
        WHERE n_days >= $min_days
    ),
    evidence_days AS (
        SELECT DISTINCT s.account_key, s.local_day
        FROM split_days AS s
        JOIN anchors AS a
          ON s.account_key = a.account_key
         AND s.local_day BETWEEN a.end_day - $window_days AND a.end_day
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_day IS NULL OR local_day - prev_day > $window_days THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY local_day ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(local_day) OVER (PARTITION BY account_key ORDER BY local_day) AS prev_day
              FROM evidence_days)
    )
    SELECT d.account_key,
           min(d.ts) AS window_start,
           max(d.ts) AS window_end,
           CAST(count(DISTINCT d.local_day) AS DOUBLE) AS value,
           list(d.txn_idx ORDER BY d.ts_s, d.txn_idx) AS evidence,
           round(sum(d.amount), 2) AS total_amount
    FROM postings AS d
    JOIN numbered AS n ON n.account_key = d.account_key AND n.local_day = d.local_day
    WHERE d.channel = 'cash' AND d.amount > 0 AND d.amount < $threshold
    GROUP BY d.account_key, n.episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.6 at `min_days`, +0.1 per extra split day, capped at 1."""
        return np.clip(0.6 + 0.1 * (value - params["min_days"]), 0.0, 1.0)
