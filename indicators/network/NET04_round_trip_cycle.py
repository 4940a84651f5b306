"""Money that comes back to the account it left, through other accounts, within a window.

## What it flags
Time-respecting cycles: a payment of at least `min_amount` leaves an account and, through a chain
of account-to-account payments of at most `max_hops` legs in total, each later than the one
before, each at least `min_ratio` of the first, returns to the same account within `window_days`
days. One hit per payment that starts a cycle, valued at the number of legs of its shortest cycle;
the evidence is the leg that leaves and the leg that returns, the whole path is in the details.

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
    # A recursive walk over account-to-account payments; the time order and the amount floor
    # keep the frontier small (background transfers rarely chain in time at these amounts).
    sql = """
    WITH RECURSIVE moves AS (
        SELECT account_key AS src, counterparty_key AS dst, ts_s, txn_idx, -amount AS paid
        FROM postings
        WHERE amount < 0 AND -amount >= $min_ratio * $min_amount AND counterparty_key IS NOT NULL
          AND counterparty_key <> account_key AND channel IN ('p2p', 'transfer', 'wire', 'ach', 'cheque', 'crypto')
    ),
    walks AS (
        SELECT src AS origin, dst AS node, ts_s AS start_s, ts_s AS last_s, paid AS start_paid, 1 AS hops,
               [src, dst] AS path, [txn_idx] AS txns
        FROM moves WHERE paid >= $min_amount
        UNION ALL
        SELECT w.origin, m.dst, w.start_s, m.ts_s, w.start_paid, w.hops + 1, list_append(w.path, m.dst),
               list_append(w.txns, m.txn_idx)
        FROM walks AS w JOIN moves AS m ON m.src = w.node
        WHERE w.node <> w.origin AND w.hops < $max_hops
          AND m.ts_s >= w.last_s AND m.ts_s <= w.start_s + $window_days * 86400
          AND m.paid >= $min_ratio * w.start_paid
          AND (m.dst = w.origin OR NOT list_contains(w.path, m.dst))
    ),
    cycles AS (
        SELECT origin, txns[1] AS first_txn, arg_min(txns, hops) AS txns, arg_min(path, hops) AS path,
               min(hops) AS hops
        FROM walks WHERE node = origin AND hops >= 2
        GROUP BY origin, txns[1]
    )
    SELECT c.origin AS account_key, f.ts AS window_start, l.ts AS window_end, CAST(c.hops AS DOUBLE) AS value,
           [c.first_txn, c.txns[-1]] AS evidence, c.txns AS path_txns, c.path AS path_accounts
    FROM cycles AS c
    JOIN postings AS f ON f.txn_idx = c.first_txn AND f.account_key = c.origin
    JOIN postings AS l ON l.txn_idx = c.txns[-1] AND l.account_key = c.origin
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.45 for every cycle."""
        return np.full(len(value), 0.45)
