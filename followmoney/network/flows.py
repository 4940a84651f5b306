"""The flow graph: transactions aggregated in DuckDB into edges, and bounded candidate subgraphs.

At 10^7 transactions the whole graph is never materialised in Python objects. DuckDB aggregates
account-to-account transactions into `flow_edges`, one row per payer, beneficiary and day (count,
total, first and last time). Whole-graph work (components) runs on integer arrays with
`scipy.sparse.csgraph`; networkx only ever sees a small candidate subgraph, and raw transactions
are only read for the accounts of such a subgraph, up to `max_edges` of them (the platform notes
measured networkx at 22 s and ~1 GB just to build a 10^6-node graph).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from followmoney.errors import FollowMoneyError
from followmoney.workspace import Workspace

FLOW_CHANNELS = "('p2p', 'transfer', 'wire', 'ach', 'cheque', 'crypto', 'other')"
"""Channels that move money between accounts of people or firms; card, ATM and cash do not."""


class SubgraphTooLargeError(FollowMoneyError):
    """A candidate subgraph has more transactions than `link.max_edges` allows."""


def build_flow_edges(ws: Workspace) -> int:
    """Write `flow_edges(payer_key, beneficiary_key, day, n, total, first_ts, last_ts, n_person)`; return its rows.

    `n_person` counts the person-to-person payments (p2p, transfer) among the `n`: a controller is
    paid that way, an exchange, utility or landlord company by wire, ACH, cheque or crypto.

    Built from the debit legs of postings, so keys are the dense integers of `accounts` and cash
    (no counterparty) is left out.
    """
    ws.sql(f"""CREATE OR REPLACE TABLE flow_edges AS
               SELECT account_key AS payer_key, counterparty_key AS beneficiary_key, CAST(ts AS DATE) AS day,
                      count(*) AS n, round(sum(-amount), 2) AS total, min(ts) AS first_ts, max(ts) AS last_ts,
                      count(*) FILTER (WHERE channel IN ('p2p', 'transfer')) AS n_person
               FROM postings
               WHERE amount < 0 AND counterparty_key IS NOT NULL AND channel IN {FLOW_CHANNELS}
               GROUP BY ALL ORDER BY payer_key, beneficiary_key, day""")
    return ws.count("flow_edges")


def components(n_nodes: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Connected-component label per node of an undirected graph given as integer edge arrays."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n_nodes == 0:
        return np.zeros(0, dtype=np.int64)
    data = np.ones(len(src), dtype=np.int8)
    graph = coo_matrix((data, (src, dst)), shape=(n_nodes, n_nodes)).tocsr()
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def candidate_transactions(ws: Workspace, accounts_table: str, max_edges: int) -> pa.Table:
    """Raw transactions between accounts of `accounts_table` (column `account_key`), at most `max_edges`.

    Raises:
        SubgraphTooLargeError: when the candidate subgraph holds more transactions than `max_edges`,
            naming the profile setting to raise.
    """
    where = f"""FROM postings AS p
                WHERE p.amount < 0 AND p.account_key IN (SELECT account_key FROM {accounts_table})
                  AND p.counterparty_key IN (SELECT account_key FROM {accounts_table})"""
    n = ws.sql(f"SELECT count(*) {where}").fetchone()[0]
    if n > max_edges:
        raise SubgraphTooLargeError(
            f"The candidate subgraph has {n:,} transactions, more than link.max_edges = {max_edges:,}. "
            f"Raise it in the profile (link: {{max_edges: {n}}}) or with --set link.max_edges={n}, "
            "or select fewer indicators so fewer accounts alert.")
    return ws.arrow(f"""SELECT p.account_key AS payer_key, p.counterparty_key AS beneficiary_key, p.ts,
                               -p.amount AS amount, p.txn_idx, p.channel {where}
                        ORDER BY p.txn_idx""")
