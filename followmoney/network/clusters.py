"""Suspect clusters: alerted accounts joined by shared identifiers and by the money between them.

Edges that justify membership, each kept in `cluster_edges`:

* `identifier`: two alerted accounts share a phone, e-mail, address, device or IP. An identifier
  shared by more than `max_accounts_per_identifier` accounts (a switchboard, a shelter, a campus)
  links nothing and is reported instead, so one popular value cannot join thousands of accounts;
* `flow`: money moved directly between two alerted accounts;
* `common_beneficiary`: an account that is not alerted itself receives transfers (not card, ATM
  or cash: merchants are not collectors) from at least `min_shared_beneficiary_senders` alerted
  accounts (the controller collecting from several victims' accounts) and joins their cluster with
  the role hypothesis `controller`. An account paid by more than `max_accounts_per_identifier`
  distinct payers overall (a utility, a landlord company) is never a common beneficiary.

Components with at least two accounts are clusters. A cluster id is a hash of its sorted member
ids, so the same input gives the same ids; clusters are ranked by the highest member alert score.
"""

from __future__ import annotations

import hashlib
from typing import Any

import networkx as nx
import polars as pl

from followmoney.workspace import Workspace


def cluster_id(members: list[str]) -> str:
    """Stable id of a cluster from its members."""
    return "C" + hashlib.sha1("\x1f".join(sorted(members)).encode()).hexdigest()[:10]


def link_clusters(ws: Workspace, max_accounts_per_identifier: int = 20,
                  min_shared_beneficiary_senders: int = 2) -> dict[str, Any]:
    """Write `clusters` and `cluster_edges`; return facts for the manifest (e.g. excluded identifiers)."""
    params = {"cap": max_accounts_per_identifier, "senders": min_shared_beneficiary_senders}
    ws.sql("""CREATE OR REPLACE TEMP TABLE __fm_alerted AS
              SELECT a.account_id, a.score, a.role_hypothesis, k.account_key
              FROM alerts AS a JOIN accounts AS k USING (account_id)""")
    excluded = ws.sql("""SELECT kind, count(DISTINCT account_id) AS n FROM identifiers GROUP BY kind, value
                         HAVING count(DISTINCT account_id) > $cap ORDER BY n DESC""", {"cap": params["cap"]}).fetchall()
    edges = pl.from_arrow(ws.arrow(
        """WITH ids AS (
               SELECT kind, value, account_id FROM identifiers
               WHERE (kind, value) IN (SELECT (kind, value) FROM identifiers GROUP BY kind, value
                                       HAVING count(DISTINCT account_id) BETWEEN 2 AND $cap)
           ),
           id_edges AS (
               SELECT DISTINCT least(x.account_id, y.account_id) AS src, greatest(x.account_id, y.account_id) AS dst,
                      'identifier' AS kind, x.kind || ' shared' AS detail, CAST(NULL AS DOUBLE) AS amount
               FROM ids AS x JOIN ids AS y ON x.kind = y.kind AND x.value = y.value AND x.account_id < y.account_id
               WHERE x.account_id IN (SELECT account_id FROM __fm_alerted)
                 AND y.account_id IN (SELECT account_id FROM __fm_alerted)
           ),
           out_flows AS (
               SELECT p.account_key AS src_key, p.counterparty_key AS dst_key, sum(-p.amount) AS amount, count(*) AS n
               FROM postings AS p
               WHERE p.amount < 0 AND p.counterparty_key IS NOT NULL AND p.channel NOT IN ('card', 'atm', 'cash')
                 AND p.account_key IN (SELECT account_key FROM __fm_alerted)
               GROUP BY 1, 2
           ),
           popular AS (
               SELECT account_key FROM postings WHERE amount > 0 AND counterparty_key IS NOT NULL
               GROUP BY account_key HAVING count(DISTINCT counterparty_key) > $cap
           ),
           flow_edges AS (
               SELECT s.account_id AS src, d.account_id AS dst, 'flow' AS kind,
                      CAST(f.n AS VARCHAR) || ' payments' AS detail, round(f.amount, 2) AS amount
               FROM out_flows AS f
               JOIN accounts AS s ON s.account_key = f.src_key JOIN accounts AS d ON d.account_key = f.dst_key
               WHERE f.dst_key IN (SELECT account_key FROM __fm_alerted)
           ),
           collectors AS (
               SELECT dst_key FROM out_flows
               WHERE dst_key NOT IN (SELECT account_key FROM __fm_alerted) AND dst_key NOT IN (SELECT account_key FROM popular)
               GROUP BY dst_key HAVING count(DISTINCT src_key) >= $senders
           ),
           collector_edges AS (
               SELECT s.account_id AS src, d.account_id AS dst, 'common_beneficiary' AS kind,
                      CAST(f.n AS VARCHAR) || ' payments' AS detail, round(f.amount, 2) AS amount
               FROM out_flows AS f JOIN collectors AS c ON c.dst_key = f.dst_key
               JOIN accounts AS s ON s.account_key = f.src_key JOIN accounts AS d ON d.account_key = f.dst_key
           )
           SELECT * FROM id_edges UNION ALL SELECT * FROM flow_edges UNION ALL SELECT * FROM collector_edges
           ORDER BY src, dst, kind, detail""", params))
    alerted = {r[0]: (r[1], r[2]) for r in ws.sql("SELECT account_id, score, role_hypothesis FROM __fm_alerted").fetchall()}
    graph = nx.Graph()
    for r in edges.iter_rows(named=True):
        graph.add_edge(r["src"], r["dst"])
    members_rows, edge_rows = [], []
    components = [sorted(c) for c in nx.connected_components(graph) if len(c) >= 2]
    for members in components:
        cid = cluster_id(members)
        score = max(alerted[m][0] for m in members if m in alerted)
        for m in members:
            role = alerted[m][1] if m in alerted else "controller"
            members_rows.append({"cluster_id": cid, "account_id": m, "role": role, "cluster_score": score})
        member_set = set(members)
        for r in edges.filter(pl.col("src").is_in(member_set)).iter_rows(named=True):
            edge_rows.append({"cluster_id": cid, **r})
    members_rows.sort(key=lambda r: (-r["cluster_score"], r["cluster_id"], r["account_id"]))
    schema = {"cluster_id": pl.String, "account_id": pl.String, "role": pl.String, "cluster_score": pl.Float64}
    ws.put("clusters", pl.DataFrame(members_rows, schema=schema).to_arrow())
    edge_schema = {"cluster_id": pl.String, "src": pl.String, "dst": pl.String, "kind": pl.String,
                   "detail": pl.String, "amount": pl.Float64}
    ws.put("cluster_edges", pl.DataFrame(edge_rows, schema=edge_schema).sort(["cluster_id", "src", "dst", "kind"]).to_arrow())
    ws.sql("DROP TABLE __fm_alerted")
    return {"clusters": len(components),
            "excluded_identifiers": [{"kind": k, "accounts": int(n)} for k, n in excluded[:20]],
            "n_excluded_identifiers": len(excluded)}
