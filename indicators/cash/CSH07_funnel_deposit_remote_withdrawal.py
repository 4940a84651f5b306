"""Cash paid in away from home and taken out or spent in another city within a day and a half.

## What it flags
Accounts with at least `min_pairs` funnel pairs within `period_days` days, where those days'
withdrawals take out at least `min_withdrawn_share` of what was paid in. A funnel pair is a cash
or ATM credit in a city A other than the holder's `home_city`, followed within `window_hours`
hours by cash or ATM debits or card purchases in a city B other than A. The share withdrawn is
the total of the distinct remote debits of the period's funnel pairs (a debit answering two
deposits counts once) over every away-from-home cash credit of the period, paired or not. Every paired deposit anchors the period that ends at it; qualifying periods closer
than `period_days` form one hit whose evidence is the paired deposits and their remote debits,
and whose value is the number of paired deposits.

## Why it matters
Funnel accounts collect cash in one place for use in another: proceeds are paid in where the
victims work and drawn out where the controller lives, the same or the next day. FINTRAC (2016)
and FinCEN (2014, 2020) describe deposits in one city followed by withdrawals or purchases in
another, and deposits where the client does not live.

## Typical false positives
Commuters and travellers who deposit on the road and spend at home; students funded by family
elsewhere. Accounts whose holder has no `home_city` are judged on the two cities alone. Never
alerts on its own.

## Data needed
`channel` and `city` on cash, ATM and card rows, and the parties column `home_city` (the rule is
skipped without it: deposits "where the client does not live" need the client's home).
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class CSH07(Indicator):
    id = "CSH07"
    name = "funnel_deposit_remote_withdrawal"
    title = "Cash deposits away from home withdrawn or spent in another city within 36 hours"
    family = "cash"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("FT16", "F20", "F14(sec)")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account", "city")
    requires_parties = ("home_city",)
    params = (
        Param("window_hours", 36, Interval(int, 1, 24 * 14), "Longest delay from a deposit to its remote debits",
              "hours"),
        Param("min_pairs", 3, Interval(int, 1, None), "Funnel pairs needed within the period"),
        Param("period_days", 30, Interval(int, 1, 366), "Period the pairs must fall in", "days"),
        Param("min_withdrawn_share", 0.5, Interval(float, 0, 1, closed="right"),
              "Share of the period's away-from-home deposits taken out remotely"),
    )
    role_hint = "mule"
    decisive = False
    score_doc = ("0.3 at `min_pairs` paired deposits in the hit, +0.03 per extra one, capped at 0.4: "
                 "never alerts alone.")
    reason = ("{value:.0f} cash deposits away from home taken out in another city within {window_hours} h "
              "(>= {min_withdrawn_share:.0%} of deposits), within {period_days} days")
    sql = """
    WITH home AS (
        SELECT c.account_key, min(lower(trim(k.home_city))) AS home_city
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        WHERE k.home_city IS NOT NULL
        GROUP BY c.account_key
    ),
    credits AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.city
        FROM postings AS p LEFT JOIN home AS h ON h.account_key = p.account_key
        -- Semi joins on VALUES tables are pushed into the scan (an IN list of strings is not).
        WHERE p.amount > 0 AND p.city IS NOT NULL
          AND p.channel IN (SELECT channel FROM (VALUES ('cash'), ('atm')) AS t(channel))
          AND (h.home_city IS NULL OR lower(trim(p.city)) <> h.home_city)
    ),
    debits AS (
        SELECT account_key, txn_idx, ts, ts_s, -amount AS amount, city
        FROM postings
        WHERE amount < 0 AND city IS NOT NULL
          AND channel IN (SELECT channel FROM (VALUES ('cash'), ('atm'), ('card')) AS t(channel))
    ),
    pairs AS (
        SELECT c.account_key, c.txn_idx, d.txn_idx AS debit_idx, d.ts AS debit_ts, d.ts_s AS debit_s, d.amount
        FROM credits AS c JOIN debits AS d
          ON d.account_key = c.account_key AND d.city <> c.city
         AND d.ts_s BETWEEN c.ts_s AND c.ts_s + $window_hours * 3600
    ),
    events AS (
        SELECT c.account_key, c.txn_idx, c.ts, c.ts_s, c.amount, q.txn_idx IS NOT NULL AS paired
        FROM credits AS c
        LEFT JOIN (SELECT DISTINCT account_key, txn_idx FROM pairs) AS q
          ON q.account_key = c.account_key AND q.txn_idx = c.txn_idx
    ),
    windows AS (
        SELECT a.account_key, a.txn_idx, a.ts_s AS end_s, sum(e.amount) AS credited,
               sum(CASE WHEN e.paired THEN 1 ELSE 0 END) AS n_pairs
        FROM events AS a
        JOIN events AS e ON e.account_key = a.account_key AND e.ts_s BETWEEN a.ts_s - $period_days * 86400 AND a.ts_s
        WHERE a.paired
        GROUP BY a.account_key, a.txn_idx, a.ts_s
    ),
    withdrawn AS (
        -- Each remote debit counts once per window, however many of the window's deposits it answers.
        SELECT account_key, txn_idx, sum(amount) AS out_amount
        FROM (SELECT DISTINCT w.account_key, w.txn_idx, p.debit_idx, p.amount
              FROM windows AS w
              JOIN events AS e ON e.account_key = w.account_key AND e.paired
                              AND e.ts_s BETWEEN w.end_s - $period_days * 86400 AND w.end_s
              JOIN pairs AS p ON p.account_key = e.account_key AND p.txn_idx = e.txn_idx)
        GROUP BY account_key, txn_idx
    ),
    anchors AS (
        SELECT DISTINCT w.account_key, w.end_s
        FROM windows AS w JOIN withdrawn AS o ON o.account_key = w.account_key AND o.txn_idx = w.txn_idx
        WHERE w.n_pairs >= $min_pairs AND o.out_amount >= $min_withdrawn_share * w.credited - 1e-6
    ),
    evidence AS (
        SELECT DISTINCT e.account_key, e.txn_idx, e.ts, e.ts_s
        FROM events AS e
        JOIN anchors AS a ON e.account_key = a.account_key AND e.ts_s BETWEEN a.end_s - $period_days * 86400 AND a.end_s
        WHERE e.paired
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $period_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    ),
    episodes AS (SELECT account_key, episode, count(*) AS n_pairs FROM numbered GROUP BY account_key, episode),
    ev AS (
        SELECT account_key, episode, txn_idx, ts, ts_s FROM numbered
        UNION
        SELECT n.account_key, n.episode, p.debit_idx, p.debit_ts, p.debit_s
        FROM numbered AS n JOIN pairs AS p ON p.account_key = n.account_key AND p.txn_idx = n.txn_idx
    )
    SELECT ep.account_key, min(ev.ts) AS window_start, max(ev.ts) AS window_end,
           CAST(any_value(ep.n_pairs) AS DOUBLE) AS value, list(ev.txn_idx ORDER BY ev.ts_s, ev.txn_idx) AS evidence
    FROM episodes AS ep JOIN ev ON ev.account_key = ep.account_key AND ev.episode = ep.episode
    GROUP BY ep.account_key, ep.episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_pairs`, +0.03 per extra paired deposit, capped at 0.4."""
        return np.clip(0.3 + 0.03 * (value - params["min_pairs"]), 0.3, 0.4)
