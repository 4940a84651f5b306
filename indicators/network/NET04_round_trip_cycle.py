"""Money that comes back to the account it left, through other accounts, within a window.

## What it flags
Time-respecting cycles: a payment of at least `min_amount` leaves an account and, through a chain
of account-to-account payments of at most `max_hops` legs in total, each later than the one
before, each at least `min_ratio` of the first, returns to the same account within `window_days`
days. Cycles of one account whose legs follow each other within `window_days` form one episode,
reported as one hit valued at the number of legs of its shortest cycle; the evidence is the leg
that leaves and the leg that returns of every cycle in the episode, the number of cycles and the
whole path of the shortest one (the earliest among equally short ones) are in the details.

## Why it matters
Round-tripping is a layering technique: proceeds are moved through nominee and front-business
accounts and come back looking like loans, wages or business income. A cycle that respects time
(each leg after the previous one) is money actually going round, not just a set of accounts that
happen to pay each other in some order.

## Typical false positives
Loans repaid through a family member, pooled household budgets, cash-management sweeps between a
company's own accounts. Check whether the accounts in the path share an owner.

## Data needed
Only the accounts, `ts`, `amount` and `channel`: no parties table is needed. Cash, card and ATM
legs have no counterparty account and never form a path.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import MAX_WALK_HOPS, payment_walks, walk_columns
from followmoney.params import Interval, Param


class NET04(Indicator):
    id = "NET04"
    name = "round_trip_cycle"
    title = "Money back to its origin through other accounts"
    family = "network"
    typologies = ("laundering_of_proceeds",)
    sources = ("FATF18(sec)", "F20")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("min_amount", 1000.0, Interval(float, 0, None, closed="neither"),
              "Smallest payment that can start a cycle", "reporting currency"),
        Param("max_hops", 6, Interval(int, 2, 6), "Most legs of a cycle, the returning leg included"),
        Param("window_days", 30, Interval(int, 1, 366), "Time from the first leg to the returning leg", "days"),
        Param("min_ratio", 0.7, Interval(float, 0, 1, closed="right"),
              "Share of the first payment every later leg must carry"),
    )
    role_hint = None
    decisive = False
    score_doc = "0.45 whatever the length: a strong layering signal that never alerts on its own."
    reason = "{value:.0f}-leg cycle of {min_amount:,.0f}+ back to the account within {window_days} days"
    # A walk over account-to-account payments, unrolled one join per leg (`payment_walks`) so that
    # it runs on Spark too; the time order and the amount floor keep the frontier small (background
    # transfers rarely chain in time at these amounts). A walk stops when it is back at its origin.
    sql = """
    WITH transfers AS (
        SELECT account_key AS src, counterparty_key AS dst, ts_s, txn_idx, -amount AS paid
        FROM postings
        WHERE amount < 0 AND -amount >= $min_ratio * $min_amount AND counterparty_key IS NOT NULL
          AND counterparty_key <> account_key AND channel IN ('p2p', 'transfer', 'wire', 'ach', 'cheque', 'crypto')
    ),
    -- Every leg of a cycle pays out of an account some transfer paid into and into an account that
    -- pays some transfer out: the other transfers start or end only dead-end walks, so they are
    -- dropped before the walks are joined.
    moves AS (
        SELECT src, dst, ts_s, txn_idx, paid FROM transfers
        WHERE src IN (SELECT dst FROM transfers) AND dst IN (SELECT src FROM transfers)
    )""" + payment_walks(
        "{last} <> w.n0 AND {k} < $max_hops AND m.ts_s >= w.last_s\n"
        "          AND m.ts_s <= w.start_s + $window_days * 86400 AND m.paid >= $min_ratio * w.first_paid\n"
        "          AND m.dst NOT IN ({visited})") + """,
    closed AS (""" + "\n        UNION ALL".join(f"""
        SELECT n0 AS origin, t1 AS first_txn, t{k} AS last_txn, {k} AS hops, [{walk_columns("t", 1, k)}] AS txns,
               [{walk_columns("n", 0, k)}] AS path
        FROM walk{k} WHERE n{k} = n0""" for k in range(2, MAX_WALK_HOPS + 1)) + """
    ),
    -- The shortest cycle started by each payment (ties: the earliest payments, by txn_idx, leg by leg).
    cycles AS (
        SELECT origin, first_txn, last_txn, hops, txns, path
        FROM (SELECT *, row_number() OVER (PARTITION BY origin, first_txn ORDER BY hops, txns) AS r FROM closed)
        WHERE r = 1
    ),
    legs AS (
        SELECT DISTINCT c.origin AS account_key, p.txn_idx, p.ts, p.ts_s
        FROM cycles AS c
        JOIN postings AS p ON p.account_key = c.origin AND (p.txn_idx = c.first_txn OR p.txn_idx = c.last_txn)
    ),
    -- Legs closer than the window form one episode: cycles of one account in a burst are one hit.
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM legs)
    ),
    episode_cycles AS (
        SELECT n.episode, c.origin, c.hops, c.txns, c.path,
               row_number() OVER (PARTITION BY c.origin, n.episode ORDER BY c.hops, n.ts_s, c.txns) AS r,
               count(*) OVER (PARTITION BY c.origin, n.episode) AS n_cycles
        FROM cycles AS c JOIN numbered AS n ON n.account_key = c.origin AND n.txn_idx = c.first_txn
    ),
    episodes AS (
        SELECT account_key, episode, min(ts) AS window_start, max(ts) AS window_end,
               list(txn_idx ORDER BY ts_s, txn_idx) AS evidence
        FROM numbered GROUP BY account_key, episode
    )
    SELECT e.account_key, e.window_start, e.window_end, CAST(c.hops AS DOUBLE) AS value, e.evidence,
           c.n_cycles, c.txns AS path_txns, c.path AS path_accounts
    FROM episodes AS e JOIN episode_cycles AS c ON c.origin = e.account_key AND c.episode = e.episode AND c.r = 1
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.45 for every cycle."""
        return np.full(len(value), 0.45)
