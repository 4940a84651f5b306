"""Salary credited and moved on at once to someone else or taken out in cash, pay after pay.

## What it flags
Accounts where at least `min_swept` of `cycles` consecutive payroll credits are swept. A payroll
credit is an ACH credit whose memo or payer name contains a `payroll_terms` entry (payroll,
salary, wages, payroll providers). It is swept when, from the credit to `window_hours` hours
after it, cash or ATM withdrawals and transfers to counterparties that are not the holder's own
accounts (another party id, or an account the bank knows no party of) add up to at least
`min_share` of it; card purchases are spending, not sweeping, and a debit counts for the latest
pay credit before it only. Runs of qualifying pay cycles form one hit whose evidence is the swept
payroll credits and their sweeping debits. The value is the number of swept pay cycles, plus 0.5
when the same recipient took the largest part in two or more of them.

## Why it matters
Victims of labour exploitation are often paid through an account the employer or a third party
controls: wages arrive and are taken at once, by cash or by transfer to the same person, leaving
the worker nothing. FinCEN (2020) and FATF (2018, p. 28) list salaries withdrawn or moved
immediately after being credited, often to the same recipient.

## Typical false positives
People who move their pay to a partner's or a family member's account, pay rent or a loan on
payday, or hold their savings at another bank under an account the bank does not know is theirs.
Check the recipient; a recipient shared by several workers is the strongest sign. Never alerts
on its own.

## Data needed
`channel`, `memo` and `counterparty_name` of credits, the accounts of debits, and the
`payroll_terms` list. Parties (party ids) tell the holder's own accounts apart; without them
every counterparty counts as a third party.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class FLW03(Indicator):
    id = "FLW03"
    name = "salary_sweep_to_third_party"
    title = "Salary moved on to a third party or taken in cash within hours, pay after pay"
    family = "flow_structure"
    typologies = ("labour_exploitation",)
    sources = ("F20", "FATF18")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account", "memo", "counterparty_name")
    requires_lists = ("payroll_terms",)
    params = (
        Param("window_hours", 48, Interval(int, 1, 24 * 14), "Time allowed for the salary to leave", "hours"),
        Param("min_share", 0.8, Interval(float, 0, 1, closed="right"), "Share of a pay credit that must leave"),
        Param("cycles", 3, Interval(int, 1, 24), "Consecutive pay cycles judged together"),
        Param("min_swept", 2, Interval(int, 1, 24), "Swept pay cycles needed among them"),
    )
    role_hint = "victim"
    decisive = False
    score_doc = ("0.3 at `min_swept` swept pay cycles, +0.05 per extra one, +0.1 when the same recipient took "
                 "the largest part in two or more, capped at 0.45: never alerts alone.")
    reason = ("{value:.1f}: pay swept out at >= {min_share:.0%} within {window_hours} h in {min_swept}+ of "
              "{cycles} pay cycles (.5 = same recipient)")
    sql = """WITH ach AS (
        -- ACH credits are read once; the payroll terms are matched on their few distinct memos and
        -- payer names (semi joins, not a LEFT JOIN per posting filtered by an OR).
        SELECT account_key, txn_idx, ts, ts_s, amount, memo, counterparty_name
        FROM postings WHERE amount > 0 AND channel = 'ach'
    ),
    payroll_memo AS (
        SELECT n.raw FROM (SELECT DISTINCT memo AS raw FROM ach WHERE memo IS NOT NULL) AS n
        JOIN lists AS l ON l.list_name = 'payroll_terms' AND contains(lower(trim(n.raw)), l.value)
        GROUP BY n.raw
    ),
    payroll_payer AS (
        SELECT n.raw FROM (SELECT DISTINCT counterparty_name AS raw FROM ach WHERE counterparty_name IS NOT NULL) AS n
        JOIN lists AS l ON l.list_name = 'payroll_terms' AND contains(lower(trim(n.raw)), l.value)
        GROUP BY n.raw
    ),
    pay AS (
        SELECT account_key, txn_idx, ts, ts_s, amount,
               row_number() OVER w AS cycle, lead(ts_s) OVER w AS next_s
        FROM ach
        WHERE memo IN (SELECT raw FROM payroll_memo) OR counterparty_name IN (SELECT raw FROM payroll_payer)
        WINDOW w AS (PARTITION BY account_key ORDER BY ts_s, txn_idx)
    ),
    earners AS (
        SELECT a.account_key, a.party_id
        FROM (SELECT DISTINCT account_key FROM pay) AS e JOIN accounts AS a ON a.account_key = e.account_key
    ),
    debits AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, -p.amount AS amount, p.counterparty_key, p.channel, w.party_id
        FROM postings AS p JOIN earners AS w ON w.account_key = p.account_key
        WHERE p.amount < 0 AND p.channel <> 'card' AND (p.channel IN ('cash', 'atm') OR p.counterparty_key IS NOT NULL)
    ),
    sweeps AS (
        -- A debit answers the latest pay credit before it only (one rent payment is not two sweeps):
        -- a credit's span ends at the next credit, so a debit matches one credit and needs no ranking.
        -- The holder's own accounts are told apart after this join, on the few debits it keeps.
        SELECT y.account_key, y.cycle, o.txn_idx, o.ts, o.ts_s, o.amount, o.counterparty_key
        FROM pay AS y JOIN debits AS o
          ON o.account_key = y.account_key AND o.ts_s >= y.ts_s AND o.ts_s <= y.ts_s + $window_hours * 3600
         AND (y.next_s IS NULL OR o.ts_s < y.next_s)
        LEFT JOIN accounts AS c ON c.account_key = o.counterparty_key
        WHERE o.channel IN ('cash', 'atm') OR o.party_id IS NULL OR c.party_id IS NULL OR o.party_id <> c.party_id
    ),
    swept AS (
        SELECT y.account_key, y.cycle, y.txn_idx, y.ts, y.ts_s
        FROM pay AS y
        LEFT JOIN (SELECT account_key, cycle, sum(amount) AS out_amount FROM sweeps GROUP BY account_key, cycle) AS s
          ON s.account_key = y.account_key AND s.cycle = y.cycle
        WHERE coalesce(s.out_amount, 0) >= $min_share * y.amount - 1e-6
    ),
    anchors AS (
        -- Only swept cycles can end a window worth reporting: the last swept cycle of a qualifying
        -- window is itself an anchor whose window holds the same swept cycles.
        SELECT k.account_key, k.cycle
        FROM swept AS k
        JOIN swept AS j ON j.account_key = k.account_key AND j.cycle BETWEEN k.cycle - $cycles + 1 AND k.cycle
        GROUP BY k.account_key, k.cycle
        HAVING count(*) >= $min_swept
    ),
    evidence AS (
        SELECT DISTINCT j.account_key, j.cycle, j.txn_idx, j.ts, j.ts_s
        FROM anchors AS k
        JOIN swept AS j ON j.account_key = k.account_key AND j.cycle BETWEEN k.cycle - $cycles + 1 AND k.cycle
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_cycle IS NULL OR cycle - prev_cycle >= $cycles THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY cycle ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(cycle) OVER (PARTITION BY account_key ORDER BY cycle) AS prev_cycle FROM evidence)
    ),
    evsweeps AS (
        SELECT n.account_key, n.episode, n.cycle, s.txn_idx, s.ts, s.ts_s, s.amount, s.counterparty_key
        FROM numbered AS n JOIN sweeps AS s ON s.account_key = n.account_key AND s.cycle = n.cycle
    ),
    top AS (
        SELECT account_key, cycle, counterparty_key
        FROM (SELECT account_key, cycle, counterparty_key,
                     row_number() OVER (PARTITION BY account_key, cycle ORDER BY -sum(amount), counterparty_key) AS r
              FROM evsweeps GROUP BY account_key, cycle, counterparty_key)
        WHERE r = 1 AND counterparty_key IS NOT NULL
    ),
    episodes AS (
        SELECT n.account_key, n.episode, count(*) AS n_swept,
               count(t.counterparty_key) > count(DISTINCT t.counterparty_key) AS same_recipient
        FROM numbered AS n LEFT JOIN top AS t ON t.account_key = n.account_key AND t.cycle = n.cycle
        GROUP BY n.account_key, n.episode
    ),
    ev AS (
        SELECT account_key, episode, txn_idx, ts, ts_s FROM numbered
        UNION
        SELECT account_key, episode, txn_idx, ts, ts_s FROM evsweeps
    )
    SELECT ep.account_key, min(ev.ts) AS window_start, max(ev.ts) AS window_end,
           CAST(any_value(ep.n_swept) + CASE WHEN any_value(ep.same_recipient) THEN 0.5 ELSE 0 END AS DOUBLE) AS value,
           list(ev.txn_idx ORDER BY ev.ts_s, ev.txn_idx) AS evidence, any_value(ep.same_recipient) AS same_recipient
    FROM episodes AS ep JOIN ev ON ev.account_key = ep.account_key AND ev.episode = ep.episode
    GROUP BY ep.account_key, ep.episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_swept`, +0.05 per extra swept cycle, +0.1 for a repeated recipient, capped at 0.45."""
        cycles = np.floor(value)
        return np.clip(0.3 + 0.05 * (cycles - params["min_swept"]) + 0.2 * (value - cycles), 0.3, 0.45)
