"""Cash taken out or paid in, in the city of a hotel booked just before, in several cities.

## What it flags
Accounts with at least `min_pairs` booking-cash pairs in at least `min_cities` distinct cities
within `period_days` days. A pair is a cash event of the account (ATM withdrawal or deposit, cash
paid in or out at a branch) in the same city as a lodging charge of the account made 0 to
`window_hours` hours before it; a cash event paired with several bookings counts once. Every
paired cash event anchors the period that ends at it; qualifying periods closer than
`period_days` form one hit whose evidence is its cash events and the lodging charges they pair
with, and whose value is the number of paired cash events.

## Why it matters
In the short-stay model of sexual exploitation a room is booked in a new city and, within hours,
cash is taken out for the trip or the first clients' cash is paid in there. FINTRAC (2021) names
ATM and cash activity in the city of a recent hotel booking, repeated across cities, as an
indicator of a victim moved on a circuit.

## Typical false positives
Business travellers and tourists who check in and withdraw cash on arrival; truck drivers. Check
the occupation and whether the trips are the holder's own. Never alerts on its own.

## Data needed
`mcc` (lodging merchant group) and `city` on the lodging charges, `channel` and `city` on cash
and ATM events. Online bookings without a city are not pairs.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class CSH08(Indicator):
    id = "CSH08"
    name = "atm_near_booking"
    title = "Cash events in the city of a lodging charge made hours before, in several cities"
    family = "cash"
    typologies = ("sexual_exploitation",)
    sources = ("FT21",)
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account", "mcc", "city")
    params = (
        Param("window_hours", 48, Interval(int, 1, 24 * 14), "Longest delay from the booking to the cash event",
              "hours"),
        Param("min_pairs", 3, Interval(int, 1, None), "Booking-cash pairs needed within the period"),
        Param("min_cities", 2, Interval(int, 1, None), "Distinct cities of those pairs"),
        Param("period_days", 30, Interval(int, 1, 366), "Period the pairs must fall in", "days"),
    )
    role_hint = "victim"
    decisive = False
    score_doc = ("0.25 at `min_pairs` paired cash events in the hit, +0.03 per extra one, capped at 0.35: "
                 "never alerts alone.")
    reason = ("{value:.0f} cash events within {window_hours} h of a lodging charge in the same city, "
              "in {min_cities}+ cities within {period_days} days")
    sql = """
    WITH lodging AS (
        SELECT account_key, txn_idx, ts, ts_s, city FROM postings
        WHERE merchant_group = 'lodging' AND amount < 0 AND city IS NOT NULL
    ),
    -- Only the withdrawals of accounts with a lodging charge: a semi join DuckDB pushes into the scan,
    -- so the million cash postings of everybody else are never joined.
    cash AS (
        SELECT account_key, txn_idx, ts, ts_s, city FROM postings
        WHERE channel IN ('cash', 'atm') AND city IS NOT NULL AND account_key IN (SELECT account_key FROM lodging)
    ),
    pairs AS (
        SELECT c.account_key, c.txn_idx, c.ts, c.ts_s, c.city, l.txn_idx AS lodge_idx, l.ts AS lodge_ts,
               l.ts_s AS lodge_s
        FROM cash AS c JOIN lodging AS l
          ON l.account_key = c.account_key AND l.city = c.city
         AND c.ts_s BETWEEN l.ts_s AND l.ts_s + $window_hours * 3600
    ),
    events AS (SELECT DISTINCT account_key, txn_idx, ts, ts_s, city FROM pairs),
    anchors AS (
        SELECT DISTINCT a.account_key, a.ts_s AS end_s
        FROM events AS a
        JOIN events AS e ON e.account_key = a.account_key AND e.ts_s BETWEEN a.ts_s - $period_days * 86400 AND a.ts_s
        GROUP BY a.account_key, a.txn_idx, a.ts_s
        HAVING count(*) >= $min_pairs AND count(DISTINCT e.city) >= $min_cities
    ),
    evidence AS (
        SELECT DISTINCT e.account_key, e.txn_idx, e.ts, e.ts_s, e.city
        FROM events AS e
        JOIN anchors AS a ON e.account_key = a.account_key AND e.ts_s BETWEEN a.end_s - $period_days * 86400 AND a.end_s
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $period_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    ),
    episodes AS (
        SELECT account_key, episode, count(*) AS n_pairs, count(DISTINCT city) AS n_cities
        FROM numbered GROUP BY account_key, episode
    ),
    ev AS (
        SELECT account_key, episode, txn_idx, ts, ts_s FROM numbered
        UNION
        SELECT n.account_key, n.episode, p.lodge_idx, p.lodge_ts, p.lodge_s
        FROM numbered AS n JOIN pairs AS p ON p.account_key = n.account_key AND p.txn_idx = n.txn_idx
    )
    SELECT ep.account_key, min(ev.ts) AS window_start, max(ev.ts) AS window_end,
           CAST(any_value(ep.n_pairs) AS DOUBLE) AS value, list(ev.txn_idx ORDER BY ev.ts_s, ev.txn_idx) AS evidence,
           any_value(ep.n_cities) AS cities
    FROM episodes AS ep JOIN ev ON ev.account_key = ep.account_key AND ev.episode = ep.episode
    GROUP BY ep.account_key, ep.episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_pairs`, +0.03 per extra pair, capped at 0.35."""
        return np.clip(0.25 + 0.03 * (value - params["min_pairs"]), 0.25, 0.35)
