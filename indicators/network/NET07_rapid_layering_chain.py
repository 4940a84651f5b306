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
from followmoney.indicators._sql import MAX_WALK_HOPS, payment_walks, walk_columns
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
    # The walk stops at `min_hops` payments: a longer chain contains one of exactly that length. It is
    # unrolled one join per level (`payment_walks`), so it runs on Spark as it runs on DuckDB.
    sql = """
    WITH moves AS (
        SELECT account_key AS src, counterparty_key AS dst, ts_s, txn_idx, -amount AS paid
        FROM postings
        WHERE amount < 0 AND -amount >= $min_ratio * $min_amount AND counterparty_key IS NOT NULL
          AND counterparty_key <> account_key AND channel IN ('p2p', 'transfer', 'wire', 'crypto')
    )""" + payment_walks(
        "{k} < $min_hops AND m.ts_s >= w.last_s AND m.ts_s <= w.last_s + $hold_hours * 3600\n"
        "          AND m.paid >= $min_ratio * w.first_paid AND m.dst NOT IN ({nodes})") + """,
    chains AS (""" + "\n        UNION ALL".join(f"""
        SELECT {walk_columns("n", 0, k, MAX_WALK_HOPS)}, {walk_columns("t", 1, k, MAX_WALK_HOPS)}, {k} AS hops,
               [{walk_columns("t", 1, k)}] AS txns
        FROM walk{k} WHERE {k} = $min_hops""" for k in range(2, MAX_WALK_HOPS + 1)) + """
    ),
    -- Every intermediary of a chain (account n_p, 0 < p < hops) with its payment in and out.
    links AS (
        SELECT CASE p.pos """ + " ".join(f"WHEN {i} THEN c.n{i}" for i in range(1, MAX_WALK_HOPS)) + """ END AS account_key,
               CASE p.pos """ + " ".join(f"WHEN {i} THEN c.t{i}" for i in range(1, MAX_WALK_HOPS)) + """ END AS txn_in,
               CASE p.pos """ + " ".join(f"WHEN {i} THEN c.t{i + 1}" for i in range(1, MAX_WALK_HOPS)) + """ END AS txn_out,
               c.txns
        FROM chains AS c
        JOIN (""" + " UNION ALL ".join(f"SELECT {i} AS pos" for i in range(1, MAX_WALK_HOPS)) + """) AS p ON p.pos < c.hops
    ),
    link_txns AS (
        SELECT account_key, txn_in AS txn_idx FROM links
        UNION
        SELECT account_key, txn_out AS txn_idx FROM links
    ),
    per_account AS (
        SELECT l.account_key, min(p.ts) AS window_start, max(p.ts) AS window_end,
               list(l.txn_idx ORDER BY l.txn_idx) AS evidence
        FROM link_txns AS l JOIN postings AS p ON p.txn_idx = l.txn_idx AND p.account_key = l.account_key
        GROUP BY l.account_key
    ),
    chains_per_account AS (
        SELECT account_key, count(*) AS n_chains, list(txns ORDER BY txn_in, txns) AS chain_txns
        FROM links GROUP BY account_key
    )
    SELECT a.account_key, a.window_start, a.window_end, CAST(c.n_chains AS DOUBLE) AS value, a.evidence,
           c.chain_txns
    FROM per_account AS a JOIN chains_per_account AS c ON c.account_key = a.account_key
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.4 for one chain, 0.45 for more."""
        return np.where(value >= 2, 0.45, 0.4)
