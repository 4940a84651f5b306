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
from followmoney.indicators._sql import name_matches
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
    sql = ("WITH " + name_matches("memo", "payroll_terms", cte="payroll_memo") + ",\n"
           + name_matches("counterparty_name", "payroll_terms", cte="payroll_payer") + """,
    pay AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount,
               row_number() OVER (PARTITION BY p.account_key ORDER BY p.ts_s, p.txn_idx) AS cycle
        FROM postings AS p
        LEFT JOIN payroll_memo AS pm ON pm.raw = p.memo
        LEFT JOIN payroll_payer AS pp ON pp.raw = p.counterparty_name
        WHERE p.amount > 0 AND p.channel = 'ach' AND (pm.raw IS NOT NULL OR pp.raw IS NOT NULL)
    ),
    earners AS (SELECT DISTINCT account_key FROM pay),
    outs AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, -p.amount AS amount, p.counterparty_key
        FROM postings AS p
        JOIN earners AS w ON w.account_key = p.account_key
        JOIN accounts AS a ON a.account_key = p.account_key
        LEFT JOIN accounts AS c ON c.account_key = p.counterparty_key
        WHERE p.amount < 0
          AND (p.channel IN ('cash', 'atm')
               OR (p.channel <> 'card' AND p.counterparty_key IS NOT NULL
                   AND (a.party_id IS NULL OR c.party_id IS NULL OR a.party_id <> c.party_id)))
    ),
    sweeps AS (
        -- A debit answers the latest pay credit before it only: one rent payment is not two sweeps.
        SELECT account_key, cycle, txn_idx, ts, ts_s, amount, counterparty_key
        FROM (SELECT y.account_key, y.cycle, o.txn_idx, o.ts, o.ts_s, o.amount, o.counterparty_key,
                     row_number() OVER (PARTITION BY o.account_key, o.txn_idx ORDER BY -y.cycle) AS latest
              FROM pay AS y JOIN outs AS o
                ON o.account_key = y.account_key AND o.ts_s BETWEEN y.ts_s AND y.ts_s + $window_hours * 3600)
        WHERE latest = 1
    ),
    cycles AS (
        SELECT y.account_key, y.cycle, y.txn_idx, y.ts, y.ts_s,
               coalesce(s.out_amount, 0) >= $min_share * y.amount - 1e-6 AS swept
        FROM pay AS y
        LEFT JOIN (SELECT account_key, cycle, sum(amount) AS out_amount FROM sweeps GROUP BY account_key, cycle) AS s
          ON s.account_key = y.account_key AND s.cycle = y.cycle
    ),
    top AS (
        SELECT account_key, cycle, counterparty_key
        FROM (SELECT account_key, cycle, counterparty_key,
                     row_number() OVER (PARTITION BY account_key, cycle ORDER BY -sum(amount), counterparty_key) AS r
              FROM sweeps GROUP BY account_key, cycle, counterparty_key)
        WHERE r = 1 AND counterparty_key IS NOT NULL
    ),
    anchors AS (
        SELECT k.account_key, k.cycle
        FROM cycles AS k
        JOIN cycles AS j ON j.account_key = k.account_key AND j.cycle BETWEEN k.cycle - $cycles + 1 AND k.cycle
        GROUP BY k.account_key, k.cycle
        HAVING sum(CASE WHEN j.swept THEN 1 ELSE 0 END) >= $min_swept
    ),
    evidence AS (
        SELECT DISTINCT j.account_key, j.cycle, j.txn_idx, j.ts, j.ts_s
        FROM anchors AS k
        JOIN cycles AS j ON j.account_key = k.account_key AND j.cycle BETWEEN k.cycle - $cycles + 1 AND k.cycle
        WHERE j.swept
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_cycle IS NULL OR cycle - prev_cycle >= $cycles THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY cycle ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(cycle) OVER (PARTITION BY account_key ORDER BY cycle) AS prev_cycle FROM evidence)
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
        SELECT n.account_key, n.episode, s.txn_idx, s.ts, s.ts_s
        FROM numbered AS n JOIN sweeps AS s ON s.account_key = n.account_key AND s.cycle = n.cycle
    )
    SELECT ep.account_key, min(ev.ts) AS window_start, max(ev.ts) AS window_end,
           CAST(any_value(ep.n_swept) + CASE WHEN any_value(ep.same_recipient) THEN 0.5 ELSE 0 END AS DOUBLE) AS value,
           list(ev.txn_idx ORDER BY ev.ts_s, ev.txn_idx) AS evidence, any_value(ep.same_recipient) AS same_recipient
    FROM episodes AS ep JOIN ev ON ev.account_key = ep.account_key AND ev.episode = ep.episode
    GROUP BY ep.account_key, ep.episode
    """)

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_swept`, +0.05 per extra swept cycle, +0.1 for a repeated recipient, capped at 0.45."""
        cycles = np.floor(value)
        return np.clip(0.3 + 0.05 * (cycles - params["min_swept"]) + 0.2 * (value - cycles), 0.3, 0.45)
