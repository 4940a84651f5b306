"""Travel tickets bought for several other people, or one-way tickets from THB source countries.

## What it flags
Accounts that, within `window_days` days, buy travel tickets (merchant groups airline 3000-3299
and 4511, rail 4112, bus 4131, travel agency 4722) with either

* at least `min_tickets` tickets of which at least `min_passengers` distinct passengers are not
  a party of the account (the holder, joint holders, authorised users), or
* at least `min_one_way` one-way tickets sold by a merchant in a country of the
  `thb_risk_countries` list.

Passenger and one-way flag come from the ticket's memo (the passenger addendum): a memo starting
with `PAX` or `PASSENGER` (optionally followed by `:`) names the passenger in the rest of the
memo; a memo ending in `ONE-WAY`, `ONE WAY` or ` OW` marks a one-way ticket (the mark is not part
of the name). Names are compared with the parties' `name` case-insensitively. The evidence is
the qualifying tickets; tickets closer than `window_days` form one hit. The value is the number
of tickets in the hit.

## Why it matters
FINTRAC (2016, 2021) and FinCEN (2014) report large or repeated airfare, bus and train purchases
for others, especially to or from the victims' source countries: the recruiter or controller
pays the victims' journey, and the debt it creates binds them.

## Typical false positives
Family holidays and relatives visiting (several passenger names, usually with a return); an
assistant booking colleagues' business travel; diaspora customers buying a relative's one-way
ticket to emigrate. Weak alone.

## Data needed
`mcc` of ticket purchases, the passenger addendum in `memo`, `beneficiary_country` of the ticket
seller (for the one-way arm) and the parties column `name`. Tickets without a passenger memo
count as tickets but name nobody.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class GEO06(Indicator):
    id = "GEO06"
    name = "travel_purchases_for_others"
    title = "Travel tickets for several other people, or one-way from source countries"
    family = "movement"
    typologies = ("sexual_exploitation", "labour_exploitation")
    sources = ("FT16", "FT21", "F14(sec)")
    requires = ("ts", "amount", "mcc", "memo", "beneficiary_country")
    requires_parties = ("name",)
    requires_lists = ("thb_risk_countries",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_tickets", 3, Interval(int, 1, None), "Tickets needed inside one window for the passenger arm"),
        Param("min_passengers", 2, Interval(int, 1, None), "Distinct passengers other than the account's parties"),
        Param("min_one_way", 2, Interval(int, 1, None),
              "One-way tickets from a THB-risk country inside one window that flag on their own"),
    )
    role_hint = "controller"
    score_doc = "0.25 at `min_tickets` tickets (and for a one-way hit), +0.05 per extra ticket, capped at 0.4."
    reason = ("{value:.0f} travel tickets within {window_days} days for {min_passengers}+ other passengers, "
              "or one-way from THB-risk countries")
    sql = """
    WITH risky AS (
        -- The list's values, matched per ticket below: no scan of every posting's country.
        SELECT DISTINCT value FROM lists WHERE list_name = 'thb_risk_countries'
    ),
    tickets AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.counterparty_country,
               lower(trim(p.memo)) AS memo_text
        FROM postings AS p JOIN accounts AS c ON c.account_key = p.account_key
        -- A semi join on a VALUES table is pushed into the scan (an IN list of strings is not): other
        -- postings are dropped before their columns are read.
        WHERE c.is_customer AND p.amount < 0
          AND p.merchant_group IN (SELECT merchant_group
                                   FROM (VALUES ('airline'), ('rail'), ('bus'), ('travel_agency')) AS t(merchant_group))
    ),
    holders AS (
        SELECT DISTINCT c.account_key, lower(trim(k.name)) AS holder
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        -- Only the holders of accounts that bought tickets: the others are never looked up.
        WHERE k.name IS NOT NULL AND c.account_key IN (SELECT account_key FROM tickets)
    ),
    flagged AS (
        SELECT *,
               CASE WHEN ends_with(memo_text, ' one-way') OR ends_with(memo_text, ' one way')
                         OR ends_with(memo_text, ' ow') THEN 1 ELSE 0 END AS one_way,
               CASE WHEN starts_with(memo_text, 'passenger ') OR starts_with(memo_text, 'passenger:')
                         THEN trim(substring(memo_text, 10))
                    WHEN starts_with(memo_text, 'pax ') OR starts_with(memo_text, 'pax:')
                         THEN trim(substring(memo_text, 4)) END AS pax_raw
        FROM tickets
    ),
    named AS (
        SELECT *,
               CASE WHEN starts_with(pax_raw, ':') THEN trim(substring(pax_raw, 2)) ELSE pax_raw END AS pax_colon
        FROM flagged
    ),
    passengers AS (
        -- The one-way mark is cut off the name: ' one-way' and ' one way' are 8 characters, ' ow' 3.
        SELECT n.account_key, n.txn_idx, n.ts, n.ts_s, n.amount,
               CASE WHEN n.one_way = 1 AND r.value IS NOT NULL THEN 1 ELSE 0 END AS risky_one_way,
               CASE WHEN n.pax_colon IS NULL OR n.pax_colon = '' THEN NULL
                    WHEN ends_with(n.pax_colon, ' one-way') OR ends_with(n.pax_colon, ' one way')
                         THEN trim(substring(n.pax_colon, 1, length(n.pax_colon) - 8))
                    WHEN ends_with(n.pax_colon, ' ow') THEN trim(substring(n.pax_colon, 1, length(n.pax_colon) - 3))
                    ELSE n.pax_colon END AS passenger
        FROM named AS n LEFT JOIN risky AS r ON r.value = lower(trim(n.counterparty_country))
    ),
    events AS (
        SELECT t.account_key, t.txn_idx, t.ts, t.ts_s, t.amount, t.risky_one_way,
               CASE WHEN h.holder IS NULL THEN t.passenger END AS other
        FROM passengers AS t LEFT JOIN holders AS h ON h.account_key = t.account_key AND h.holder = t.passenger
    ),
    win AS (
        SELECT a.account_key, a.ts_s AS end_s, count(*) AS n, count(DISTINCT e.other) AS n_other,
               sum(e.risky_one_way) AS n_one_way
        FROM events AS a
        JOIN events AS e ON e.account_key = a.account_key AND e.ts_s BETWEEN a.ts_s - $window_days * 86400 AND a.ts_s
        GROUP BY a.account_key, a.txn_idx, a.ts_s
    ),
    anchors AS (
        SELECT account_key, end_s,
               n >= $min_tickets AND n_other >= $min_passengers AS by_passengers,
               n_one_way >= $min_one_way AS by_one_way
        FROM win
        WHERE (n >= $min_tickets AND n_other >= $min_passengers) OR n_one_way >= $min_one_way
    ),
    evidence AS (
        -- Every ticket of a passenger-arm window; only the risky one-way tickets of a one-way window.
        SELECT DISTINCT e.account_key, e.txn_idx, e.ts, e.ts_s, e.other, e.risky_one_way
        FROM events AS e
        JOIN anchors AS a ON e.account_key = a.account_key AND e.ts_s BETWEEN a.end_s - $window_days * 86400 AND a.end_s
        WHERE a.by_passengers OR (a.by_one_way AND e.risky_one_way = 1)
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(count(*) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence,
           CAST(count(DISTINCT other) AS INTEGER) AS n_other_passengers,
           CAST(sum(risky_one_way) AS INTEGER) AS n_one_way_from_risk_countries
    FROM numbered
    GROUP BY account_key, episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_tickets` tickets, +0.05 per extra ticket, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_tickets"]), 0.25, 0.4)
