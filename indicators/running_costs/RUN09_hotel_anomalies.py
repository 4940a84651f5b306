"""Lodging anomalies: two rooms the same night, or a lodging charge refunded in full.

## What it flags
Accounts with at least `min_count` anomalous lodging charges (MCC 7011 and 3501-3999, or a name
on the `short_stay_lodging` list) within `window_days` days, where a charge is anomalous when

* another charge of the same account at the same merchant falls on the same local day (two rooms
  the same night), or
* money of exactly the same amount comes back from the same merchant within `refund_days` days
  (a charge then an equal refund).

The value is the number of anomalous charges (and refunds) in the episode.

## Why it matters
FINTRAC (2016 and 2021) describes one person booking two rooms on the same dates (one for the
victim, one for the controller), and hotel charges followed by equal refunds when the booking is
settled in cash to leave no card trail.

## Typical false positives
Families and colleagues travelling together on one card; cancelled bookings. Weak alone. The
reference's other arms (rounded amounts; card pre-authorisation settled in cash) are not
implemented: the second needs a pre-authorisation flag the transactions contract does not carry.

## Data needed
`counterparty_name` (merchant name on both the charge and the refund) and `mcc`; refunds are
matched by merchant name and exact amount.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class RUN09(Indicator):
    id = "RUN09"
    name = "hotel_anomalies"
    title = "Two rooms the same night, or lodging charges refunded"
    family = "running_costs"
    typologies = ("sexual_exploitation",)
    sources = ("FT16", "FT21")
    requires = ("ts", "amount", "counterparty_name")
    requires_lists = ("short_stay_lodging",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 2, Interval(int, 1, None), "Anomalous lodging postings needed inside one window"),
        Param("refund_days", 7, Interval(int, 0, 90), "Days within which an equal refund counts", "days"),
    )
    role_hint = None
    score_doc = "0.25 at `min_count` anomalous postings, +0.05 per extra one, capped at 0.4."
    reason = "{value:.0f} anomalous lodging charges or refunds within {window_days} days"
    sql = "WITH " + name_matches("counterparty_name", "short_stay_lodging") + """,
    lodging AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.counterparty_name AS merchant,
               CAST(floor((p.ts_s + ((p.local_hour - hour(p.ts) + 36) % 24 - 12) * 3600) / 86400) AS BIGINT) AS day
        FROM postings AS p LEFT JOIN matched AS m ON m.raw = p.counterparty_name
        JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer AND p.counterparty_name IS NOT NULL
          AND (p.merchant_group = 'lodging' OR m.raw IS NOT NULL)
    ),
    doubled AS (
        -- Two or more charges at one merchant on one local day: every one of them is evidence.
        SELECT account_key, txn_idx, ts, ts_s, amount
        FROM (SELECT *, count(*) OVER (PARTITION BY account_key, merchant, day) AS same_night
              FROM lodging WHERE amount < 0)
        WHERE same_night >= 2
    ),
    refunded AS (
        -- A charge and the credit of the same amount from the same merchant within refund_days.
        SELECT d.account_key, d.txn_idx, d.ts, d.ts_s, d.amount, r.txn_idx AS refund_idx, r.ts AS refund_ts,
               r.ts_s AS refund_s, r.amount AS refund_amount
        FROM lodging AS d JOIN lodging AS r
          ON r.account_key = d.account_key AND r.merchant = d.merchant AND r.amount = -d.amount
         AND r.ts_s BETWEEN d.ts_s AND d.ts_s + $refund_days * 86400
        WHERE d.amount < 0
    ),
    events AS (
        SELECT account_key, txn_idx, ts, ts_s, amount, txn_idx AS k FROM doubled
        UNION
        SELECT account_key, txn_idx, ts, ts_s, amount, txn_idx AS k FROM refunded
        UNION
        SELECT account_key, refund_idx, refund_ts, refund_s, refund_amount, refund_idx AS k FROM refunded
    )""" + window_episodes("n >= $min_count", "$window_days * 86400")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra anomalous posting, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
