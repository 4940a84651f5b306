"""Lodging anomalies: two rooms a night, equal refunds, round charges, or a hold paid in cash.

## What it flags
Lodging postings (MCC 7011 and 3501-3999, or a name on the `short_stay_lodging` list) of one
account within `window_days` days, in either arm:

* at least `min_count` anomalous postings, where a posting is anomalous when
  * another charge of the same account at the same merchant falls on the same local day (two
    rooms the same night), or
  * it is a charge and money of exactly the same amount comes back from the same merchant within
    `refund_days` days, or that refund (a charge then an equal refund), or
  * it is a card pre-authorisation (a lodging debit whose memo says `PRE-AUTH`, `PREAUTH` or
    `AUTH HOLD`) that no charge of the same merchant settles within `refund_days` days, or a cash
    or ATM withdrawal by the same account on the same local day as that pre-authorisation (the
    stay paid in cash, only the hold on the card);
* at least `min_rounded` lodging charges that are multiples of `round_to` (rounded hotel
  amounts).

Each arm's postings are its evidence; postings closer than `window_days` form one hit. The value
is the number of postings in the hit.

## Why it matters
FINTRAC (2016 and 2021) describes one person booking two rooms on the same dates (one for the
victim, one for the controller), rounded hotel amounts, hotel charges followed by equal refunds,
and card pre-authorisations settled in cash: the booking is paid in cash to leave no card trail.

## Typical false positives
Families and colleagues travelling together on one card; cancelled bookings; hotels with flat
round rates; a guest who prefers to settle in cash after a card hold. Weak alone.

## Data needed
`counterparty_name` (merchant name on both the charge and the refund) and `mcc`; refunds are
matched by merchant name and exact amount. A pre-authorisation is recognised by its `memo` (the
feed must carry authorisation holds as debits with such a descriptor), the withdrawal by
`channel` `atm` or `cash`.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches
from followmoney.params import Interval, Param


class RUN09(Indicator):
    id = "RUN09"
    name = "hotel_anomalies"
    title = "Two rooms a night, refunded or round lodging charges, or a pre-authorisation paid in cash"
    family = "running_costs"
    typologies = ("sexual_exploitation",)
    sources = ("FT16", "FT21")
    requires = ("ts", "amount", "channel", "counterparty_name", "memo")
    requires_lists = ("short_stay_lodging",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 2, Interval(int, 1, None), "Anomalous lodging postings needed inside one window"),
        Param("refund_days", 7, Interval(int, 0, 90),
              "Days within which an equal refund, or the settlement of a pre-authorisation, counts", "days"),
        Param("min_rounded", 3, Interval(int, 1, None), "Lodging charges in round amounts needed inside one window"),
        Param("round_to", 50.0, Interval(float, 0, None, closed="neither"),
              "A charge that is a multiple of this is a round amount", "reporting currency"),
    )
    role_hint = None
    score_doc = ("0.25 at `min_count` postings in the hit, +0.05 per extra one, capped at 0.4 (a rounding hit has at "
                 "least `min_rounded` postings).")
    reason = ("{value:.0f} anomalous or round-amount lodging postings within {window_days} days (two rooms a night, "
              "equal refunds, unsettled pre-authorisations with cash, or round charges)")
    sql = "WITH " + name_matches("counterparty_name", "short_stay_lodging") + """,
    -- Two disjoint scans whose filters DuckDB pushes into postings, not one OR over a left join:
    -- lodging merchants by category, then listed names in any other category (an inner join with
    -- the few listed names, which DuckDB builds its hash table on).
    lodging_rows AS (
        SELECT account_key, txn_idx, ts, ts_s, amount, local_day, local_hour, counterparty_name, memo
        FROM postings WHERE merchant_group = 'lodging' AND counterparty_name IS NOT NULL
        UNION ALL
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.local_day, p.local_hour, p.counterparty_name,
               p.memo
        FROM postings AS p JOIN matched AS m ON m.raw = p.counterparty_name
        WHERE p.merchant_group IS DISTINCT FROM 'lodging'
    ),
    lodging AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.local_day, p.counterparty_name AS merchant,
               CAST(floor((p.ts_s + ((p.local_hour - hour(p.ts) + 36) % 24 - 12) * 3600) / 86400) AS BIGINT) AS day,
               coalesce(contains(lower(p.memo), 'pre-auth') OR contains(lower(p.memo), 'preauth')
                        OR contains(lower(p.memo), 'auth hold'), false) AS is_preauth
        FROM lodging_rows AS p JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer
    ),
    doubled AS (
        -- Two or more charges at one merchant on one local day: every one of them is evidence.
        -- Pre-authorisations are holds, not rooms: they have their own arm.
        SELECT account_key, txn_idx, ts, ts_s
        FROM (SELECT *, count(*) OVER (PARTITION BY account_key, merchant, day) AS same_night
              FROM lodging WHERE amount < 0 AND NOT is_preauth)
        WHERE same_night >= 2
    ),
    refunded AS (
        -- A charge and the credit of the same amount from the same merchant within refund_days.
        SELECT d.account_key, d.txn_idx, d.ts, d.ts_s, r.txn_idx AS refund_idx, r.ts AS refund_ts,
               r.ts_s AS refund_s
        FROM lodging AS d JOIN lodging AS r
          ON r.account_key = d.account_key AND r.merchant = d.merchant AND r.amount = -d.amount
         AND r.ts_s BETWEEN d.ts_s AND d.ts_s + $refund_days * 86400
        WHERE d.amount < 0 AND NOT d.is_preauth
    ),
    unsettled AS (
        -- A pre-authorisation (memo PRE-AUTH, PREAUTH or AUTH HOLD) that no charge of the same
        -- merchant settles within refund_days; a release of the hold (a credit) is no settlement.
        SELECT h.account_key, h.txn_idx, h.ts, h.ts_s, h.local_day
        FROM lodging AS h LEFT JOIN lodging AS s
          ON s.account_key = h.account_key AND s.merchant = h.merchant AND s.amount < 0 AND NOT s.is_preauth
         AND s.ts_s BETWEEN h.ts_s AND h.ts_s + $refund_days * 86400
        WHERE h.amount < 0 AND h.is_preauth AND s.txn_idx IS NULL
    ),
    preauth_cash AS (
        -- ... and a cash or ATM withdrawal by the same account on the same local day: the stay
        -- was paid in cash, leaving only the hold on the card.
        SELECT u.account_key, u.txn_idx, u.ts, u.ts_s, w.txn_idx AS cash_idx, w.ts AS cash_ts, w.ts_s AS cash_s
        FROM unsettled AS u JOIN postings AS w
          ON w.account_key = u.account_key AND w.local_day = u.local_day
        WHERE w.amount < 0 AND w.channel IN ('atm', 'cash')
    ),
    rounded AS (
        SELECT account_key, txn_idx, ts, ts_s
        FROM lodging
        WHERE amount < 0 AND NOT is_preauth AND round(-amount, 2) = $round_to * floor(round(-amount, 2) / $round_to)
    ),
    flags AS (
        SELECT account_key, txn_idx, ts, ts_s, 1 AS anomalous, 0 AS is_rounded FROM doubled
        UNION ALL SELECT account_key, txn_idx, ts, ts_s, 1, 0 FROM refunded
        UNION ALL SELECT account_key, refund_idx, refund_ts, refund_s, 1, 0 FROM refunded
        UNION ALL SELECT account_key, txn_idx, ts, ts_s, 1, 0 FROM preauth_cash
        UNION ALL SELECT account_key, cash_idx, cash_ts, cash_s, 1, 0 FROM preauth_cash
        UNION ALL SELECT account_key, txn_idx, ts, ts_s, 0, 1 FROM rounded
    ),
    events AS (
        SELECT account_key, txn_idx, min(ts) AS ts, min(ts_s) AS ts_s, max(anomalous) AS anomalous,
               max(is_rounded) AS is_rounded
        FROM flags GROUP BY account_key, txn_idx
    ),
    win AS (
        SELECT a.account_key, a.ts_s AS end_s, sum(e.anomalous) AS n_anomalous, sum(e.is_rounded) AS n_rounded
        FROM events AS a
        JOIN events AS e ON e.account_key = a.account_key AND e.ts_s BETWEEN a.ts_s - $window_days * 86400 AND a.ts_s
        GROUP BY a.account_key, a.txn_idx, a.ts_s
    ),
    anchors AS (
        SELECT DISTINCT account_key, end_s, n_anomalous >= $min_count AS by_anomalies,
               n_rounded >= $min_rounded AS by_rounding
        FROM win WHERE n_anomalous >= $min_count OR n_rounded >= $min_rounded
    ),
    evidence AS (
        -- Each arm's own postings: rounded charges do not make an anomaly window, nor the reverse.
        SELECT DISTINCT e.account_key, e.txn_idx, e.ts, e.ts_s
        FROM events AS e
        JOIN anchors AS a ON e.account_key = a.account_key AND e.ts_s BETWEEN a.end_s - $window_days * 86400 AND a.end_s
        WHERE (a.by_anomalies AND e.anomalous = 1) OR (a.by_rounding AND e.is_rounded = 1)
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(count(*) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence
    FROM numbered
    GROUP BY account_key, episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra anomalous posting, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
