"""An account in a chain of rapid hops: money passed on through several accounts within hours.

## What it flags
Accounts that sit inside a chain of at least `min_hops` account-to-account payments in which each
payment leaves its account within `hold_hours` of the previous one arriving, and carries at least
`min_ratio` of the first payment, which is at least `min_amount`. Every intermediary of such a
chain is flagged; its evidence is the payment in and the payment out, the whole chain is in the
details. The value is the number of chains through the account.

## Why it matters
Layering moves proceeds through several accounts quickly so the trail is long and each bank sees
only one hop. A single pass-through account can have innocent reasons; being one link of a chain
of fast pass-throughs rarely does.

## Typical false positives
Money moved through one's own accounts at several banks on the same day, family members relaying
a payment, brokers and payment agents. Check whether the accounts in the chain share an owner.

## Data needed
Only the accounts, `ts`, `amount` and `channel`: no parties table is needed.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class NET07(Indicator):
    id = "NET07"
    name = "rapid_layering_chain"
    title = "Link in a chain of rapid pass-through hops"
    family = "network"
    typologies = ("laundering_of_proceeds",)
    sources = ("FATF18(sec)", "FT16")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("min_hops", 3, Interval(int, 2, 6), "Payments in the chain"),
        Param("hold_hours", 48, Interval(int, 1, 24 * 31), "Longest stay in one account", "hours"),
        Param("min_amount", 1000.0, Interval(float, 0, None, closed="neither"),
              "Smallest first payment of a chain", "reporting currency"),
        Param("min_ratio", 0.8, Interval(float, 0, 1, closed="right"),
              "Share of the first payment every later payment must carry"),
    )
    role_hint = "mule"
    decisive = False
    score_doc = "0.4 for one chain, 0.45 for two or more: never alerts on its own."
    reason = "{value:.0f} chains of {min_hops}+ payments of {min_amount:,.0f}+ passed on within {hold_hours} h"
    # The walk stops at `min_hops` payments: a longer chain contains one of exactly that length.
    sql = """
    WITH RECURSIVE moves AS (
        SELECT account_key AS src, counterparty_key AS dst, ts_s, txn_idx, -amount AS paid
        FROM postings
        WHERE amount < 0 AND -amount >= $min_ratio * $min_amount AND counterparty_key IS NOT NULL
          AND counterparty_key <> account_key AND channel IN ('p2p', 'transfer', 'wire', 'crypto')
    ),
    walks AS (
        SELECT dst AS node, ts_s AS last_s, paid AS first_paid, 1 AS hops, [src, dst] AS path, [txn_idx] AS txns
        FROM moves WHERE paid >= $min_amount
        UNION ALL
        SELECT m.dst, m.ts_s, w.first_paid, w.hops + 1, list_append(w.path, m.dst), list_append(w.txns, m.txn_idx)
        FROM walks AS w JOIN moves AS m ON m.src = w.node
        WHERE w.hops < $min_hops AND m.ts_s >= w.last_s AND m.ts_s <= w.last_s + $hold_hours * 3600
          AND m.paid >= $min_ratio * w.first_paid AND NOT list_contains(w.path, m.dst)
    ),
    chains AS (SELECT path, txns FROM walks WHERE hops = $min_hops),
    links AS (
        SELECT path[pos] AS account_key, txns[pos - 1] AS txn_in, txns[pos] AS txn_out, txns
        FROM (SELECT path, txns, unnest(range(2, $min_hops + 1)) AS pos FROM chains)
    )
    SELECT l.account_key, min(least(pi.ts, po.ts)) AS window_start, max(greatest(pi.ts, po.ts)) AS window_end,
           CAST(count(*) AS DOUBLE) AS value,
           list_sort(list_distinct(flatten(list([l.txn_in, l.txn_out])))) AS evidence,
           list(l.txns ORDER BY l.txn_in) AS chain_txns
    FROM links AS l
    JOIN postings AS pi ON pi.txn_idx = l.txn_in AND pi.account_key = l.account_key
    JOIN postings AS po ON po.txn_idx = l.txn_out AND po.account_key = l.account_key
    GROUP BY l.account_key
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.4 for one chain, 0.45 for more."""
        return np.where(value >= 2, 0.45, 0.4)
