"""Suspect clusters: alerted accounts joined by shared identifiers and by the money between them.

Edges that justify membership, each kept in `cluster_edges`:

* `identifier`: two alerted accounts share a normalised phone, e-mail, address, device or IP
  (`followmoney.network.identifiers`). Legitimately shared identifiers (shipped lists, profile
  `link.exclude_identifiers`, multi-unit buildings) and identifiers held by more than
  `max_accounts_per_identifier` accounts link nothing and are reported in the manifest instead,
  so one popular value cannot join thousands of accounts;
* `flow`: money moved directly between two alerted accounts (account-to-account channels);
* `common_beneficiary`: an account that is not alerted itself receives person-to-person payments
  (p2p, transfer) from at least `min_shared_beneficiary_senders` alerted accounts whose role
  hypothesis is `victim` or `mule` (the controller collecting from several victims' or mules'
  accounts) and joins their cluster with the role `controller`. Only controlled accounts count as
  senders: two suspected controllers or fronts paying the same landlord or supplier show no
  common control, and joining them would merge unrelated cases. An account paid by more than
  `max_accounts_per_identifier` distinct payers overall (a utility, a landlord company) is never
  a common beneficiary, and neither is an account paid only by wire, ACH, cheque or crypto (an
  exchange or a utility two unrelated suspects both happen to pay).

Components with at least two accounts are clusters, found with `scipy.sparse.csgraph` on integer
keys (no Python graph of the whole bank). A cluster id is a hash of its sorted member ids, so the
same input gives the same ids. `clusters` keeps the contract of `followmoney.schema.CLUSTERS`;
`cluster_summary` adds, per cluster, its rank, size, roles, money in, out and inside, the
indicators involved and the kinds of edges that hold it together.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import polars as pl

from followmoney.network.flows import FLOW_CHANNELS, components
from followmoney.network.identifiers import identifier_links
from followmoney.workspace import Workspace

COLLECTED_ROLES = "('victim', 'mule')"
"""Role hypotheses of alerted accounts whose shared beneficiary is taken for their controller."""

EDGE_SCHEMA = {"cluster_id": pl.String, "src": pl.String, "dst": pl.String, "kind": pl.String, "detail": pl.String,
               "amount": pl.Float64, "n_txns": pl.Int64, "first_ts": pl.Datetime("us"), "last_ts": pl.Datetime("us")}
"""Columns of `cluster_edges` (documented in docs/outputs.md)."""


def cluster_id(members: list[str]) -> str:
    """Stable id of a cluster from its members."""
    return "C" + hashlib.sha1("\x1f".join(sorted(members)).encode()).hexdigest()[:10]


def _edges(ws: Workspace, cap: int, senders: int) -> pl.DataFrame:
    """Every edge that may join accounts, as strings: src, dst, kind, detail, amount, n_txns, first/last ts."""
    id_edges = pl.from_arrow(ws.arrow(
        f"""SELECT src, dst, 'identifier' AS kind, kind || ' shared' AS detail, CAST(NULL AS DOUBLE) AS amount,
                   CAST(NULL AS BIGINT) AS n_txns, CAST(NULL AS TIMESTAMP) AS first_ts, CAST(NULL AS TIMESTAMP) AS last_ts
            FROM ({identifier_links('__fm_alerted')})"""))
    flow_edges = pl.from_arrow(ws.arrow(
        f"""WITH out_flows AS (
               SELECT payer_key, beneficiary_key, sum(n) AS n, sum(total) AS amount, min(first_ts) AS first_ts,
                      max(last_ts) AS last_ts, sum(n_person) AS n_person
               FROM flow_edges WHERE payer_key IN (SELECT account_key FROM __fm_alerted) GROUP BY ALL
           ),
           controlled AS (SELECT account_key FROM __fm_alerted WHERE role_hypothesis IN {COLLECTED_ROLES}),
           candidates AS (
               SELECT beneficiary_key FROM out_flows
               WHERE beneficiary_key NOT IN (SELECT account_key FROM __fm_alerted)
                 AND payer_key IN (SELECT account_key FROM controlled) AND n_person > 0
               GROUP BY beneficiary_key HAVING count(DISTINCT payer_key) >= $senders
           ),
           -- Payers are counted for the few candidates only, not for every account of the bank.
           popular AS (
               SELECT account_key FROM postings
               WHERE amount > 0 AND counterparty_key IS NOT NULL
                 AND account_key IN (SELECT beneficiary_key FROM candidates)
               GROUP BY account_key HAVING count(DISTINCT counterparty_key) > $cap
           ),
           collectors AS (
               SELECT beneficiary_key FROM candidates WHERE beneficiary_key NOT IN (SELECT account_key FROM popular)
           )
           SELECT s.account_id AS src, d.account_id AS dst,
                  CASE WHEN f.beneficiary_key IN (SELECT account_key FROM __fm_alerted) THEN 'flow'
                       ELSE 'common_beneficiary' END AS kind,
                  CAST(f.n AS VARCHAR) || ' payments' AS detail, round(f.amount, 2) AS amount, f.n AS n_txns,
                  f.first_ts, f.last_ts
           FROM out_flows AS f JOIN accounts AS s ON s.account_key = f.payer_key
           JOIN accounts AS d ON d.account_key = f.beneficiary_key
           WHERE f.beneficiary_key IN (SELECT account_key FROM __fm_alerted)
              OR (f.beneficiary_key IN (SELECT beneficiary_key FROM collectors) AND f.n_person > 0
                  AND f.payer_key IN (SELECT account_key FROM controlled))""",
        {"cap": cap, "senders": senders}))
    schema = {k: v for k, v in EDGE_SCHEMA.items() if k != "cluster_id"}
    return pl.concat([id_edges.select(list(schema)).cast(schema), flow_edges.select(list(schema)).cast(schema)]
                     ).sort(["src", "dst", "kind", "detail"])


def link_clusters(ws: Workspace, max_accounts_per_identifier: int = 20,
                  min_shared_beneficiary_senders: int = 2) -> dict[str, Any]:
    """Write `clusters`, `cluster_edges` and `cluster_summary`; return facts for the manifest.

    Needs `alerts`, `accounts`, `postings`, `identifier_keys`, `identifier_exclusions` and
    `flow_edges` (see `followmoney.network.identifiers` and `followmoney.network.flows`).
    """
    ws.sql("""CREATE OR REPLACE TEMP TABLE __fm_alerted AS
              SELECT a.account_id, a.score, a.role_hypothesis, k.account_key
              FROM alerts AS a JOIN accounts AS k USING (account_id)""")
    try:
        edges = _edges(ws, max_accounts_per_identifier, min_shared_beneficiary_senders)
        alerted = {r[0]: (r[1], r[2]) for r in ws.sql("SELECT account_id, score, role_hypothesis FROM __fm_alerted").fetchall()}
        nodes = sorted(set(edges["src"]) | set(edges["dst"]))
        index = {a: i for i, a in enumerate(nodes)}
        src = np.array([index[a] for a in edges["src"]], dtype=np.int64)
        dst = np.array([index[a] for a in edges["dst"]], dtype=np.int64)
        labels = components(len(nodes), src, dst)
        groups: dict[int, list[str]] = {}
        for a, lab in zip(nodes, labels, strict=True):
            groups.setdefault(int(lab), []).append(a)
        member_rows, edge_parts = [], []
        label_to_cid: dict[int, str] = {}
        for lab, members in groups.items():
            if len(members) < 2:
                continue
            cid = cluster_id(members)
            label_to_cid[lab] = cid
            score = max(alerted[m][0] for m in members if m in alerted)
            for m in members:
                role = alerted[m][1] if m in alerted else "controller"
                member_rows.append({"cluster_id": cid, "account_id": m, "role": role, "cluster_score": score})
        node_cid = {a: label_to_cid.get(int(lab)) for a, lab in zip(nodes, labels, strict=True)}
        if edges.height:
            edge_parts.append(edges.with_columns(
                pl.col("src").replace_strict(node_cid, default=None, return_dtype=pl.String).alias("cluster_id")))
        member_rows.sort(key=lambda r: (-r["cluster_score"], r["cluster_id"], r["account_id"]))
        schema = {"cluster_id": pl.String, "account_id": pl.String, "role": pl.String, "cluster_score": pl.Float64}
        ws.put("clusters", pl.DataFrame(member_rows, schema=schema).to_arrow())
        cluster_edges = (pl.concat(edge_parts).filter(pl.col("cluster_id").is_not_null()) if edge_parts
                         else pl.DataFrame(schema=EDGE_SCHEMA))
        ws.put("cluster_edges", cluster_edges.select(list(EDGE_SCHEMA)).cast(EDGE_SCHEMA)
               .sort(["cluster_id", "src", "dst", "kind", "detail"]).to_arrow())
        _summarise(ws)
    finally:
        ws.sql("DROP TABLE IF EXISTS __fm_alerted")
    n_clusters = ws.sql("SELECT count(DISTINCT cluster_id) FROM clusters").fetchone()[0]
    return {"clusters": int(n_clusters)}


def _summarise(ws: Workspace) -> None:
    """`cluster_summary`: one row per cluster, ranked by score, then size, then id."""
    ws.sql(f"""CREATE OR REPLACE TABLE cluster_summary AS
        WITH m AS (SELECT c.cluster_id, c.account_id, c.role, c.cluster_score, a.account_key
                   FROM clusters AS c JOIN accounts AS a USING (account_id)),
        f AS (SELECT p.account_key, p.amount, p.counterparty_key, m.cluster_id,
                     m2.cluster_id AS other_cluster
              FROM postings AS p JOIN m ON m.account_key = p.account_key
              LEFT JOIN m AS m2 ON m2.account_key = p.counterparty_key AND m2.cluster_id = m.cluster_id
              WHERE p.channel IN {FLOW_CHANNELS} OR p.counterparty_key IS NULL),
        money AS (SELECT cluster_id,
                         round(coalesce(sum(amount) FILTER (WHERE amount > 0 AND other_cluster IS NULL), 0), 2) AS flow_in,
                         round(coalesce(-sum(amount) FILTER (WHERE amount < 0 AND other_cluster IS NULL), 0), 2) AS flow_out,
                         round(coalesce(sum(amount) FILTER (WHERE amount > 0 AND other_cluster IS NOT NULL), 0), 2)
                             AS flow_internal
                  FROM f GROUP BY cluster_id),
        inds AS (SELECT m.cluster_id, list(DISTINCT i ORDER BY i) AS indicators
                 FROM m JOIN (SELECT account_id, unnest(indicators) AS i FROM alerts) AS x USING (account_id)
                 GROUP BY m.cluster_id),
        kinds AS (SELECT cluster_id, list(DISTINCT kind ORDER BY kind) AS edge_kinds, count(*) AS n_edges
                  FROM cluster_edges GROUP BY cluster_id),
        roles AS (SELECT cluster_id, count(*) AS n_members,
                         count(*) FILTER (WHERE account_id IN (SELECT account_id FROM alerts)) AS n_alerted,
                         string_agg(coalesce(role, 'undetermined') || ':' || account_id, ', ' ORDER BY role, account_id)
                             AS members,
                         max(cluster_score) AS cluster_score
                  FROM m GROUP BY cluster_id)
        SELECT CAST(row_number() OVER (ORDER BY r.cluster_score DESC, r.n_members DESC, r.cluster_id) AS BIGINT) AS rank,
               r.cluster_id, r.cluster_score, r.n_members, r.n_alerted, r.members,
               coalesce(money.flow_in, 0) AS flow_in, coalesce(money.flow_out, 0) AS flow_out,
               coalesce(money.flow_internal, 0) AS flow_internal,
               coalesce(inds.indicators, []) AS indicators, coalesce(kinds.edge_kinds, []) AS edge_kinds,
               coalesce(kinds.n_edges, 0) AS n_edges
        FROM roles AS r LEFT JOIN money USING (cluster_id) LEFT JOIN inds USING (cluster_id)
        LEFT JOIN kinds USING (cluster_id)
        ORDER BY rank""")
