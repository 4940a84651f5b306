"""Exports of the suspect clusters for analysts' tools, written to `exports/`.

* `clusters.graphml` and `clusters.gexf`: the cluster graph (accounts as nodes with cluster,
  role, alert score and indicators; justifying edges with kind, amount, count and dates) for
  Gephi, yEd, Cytoscape or networkx. Built with networkx, which is fine here: the graph holds
  cluster members only, never the whole bank.
* `i2_links.csv`: one row per link, both ends with their identity, type and label, in the
  column layout Analyst's Notebook's import specification reads (columns in docs/network.md).
* `ftm.jsonl`: FollowTheMoney entities, one JSON object a line (`id`, `schema`, `properties`
  with lists of strings): a `Person` (or `LegalEntity` when no KYC name is known) per holder, a
  `BankAccount` per member account, an `Ownership` from holder to account, and a `Payment` per
  transaction between members of one cluster. Ids are hashes of the schema and natural key, so the
  same scan gives the same ids. Raw transactions are read only for cluster members, at most
  `link.max_edges` of them (`followmoney.network.flows.candidate_transactions`).
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import networkx as nx

from followmoney.network.flows import candidate_transactions
from followmoney.workspace import Workspace

I2_COLUMNS: tuple[str, ...] = (
    "Entity1 Identity", "Entity1 Type", "Entity1 Label", "Entity1 Role", "Entity1 Cluster",
    "Link Identity", "Link Type", "Link Label", "Link Direction", "Link Amount", "Link Count",
    "Link First Date", "Link Last Date",
    "Entity2 Identity", "Entity2 Type", "Entity2 Label", "Entity2 Role", "Entity2 Cluster",
)
"""Columns of `i2_links.csv`, in order."""


def ftm_id(schema: str, key: str) -> str:
    """Deterministic FollowTheMoney entity id from its schema and natural key."""
    return "fm-" + hashlib.sha1(f"{schema}\x1f{key}".encode()).hexdigest()


def _entity(schema: str, key: str, **props: Any) -> dict[str, Any]:
    clean = {k: [str(v) for v in (vals if isinstance(vals, list) else [vals]) if v is not None and str(v) != ""]
             for k, vals in props.items()}
    return {"id": ftm_id(schema, key), "schema": schema, "properties": {k: v for k, v in clean.items() if v}}


def _members(ws: Workspace) -> list[dict[str, Any]]:
    has_parties = ws.has("parties")
    party = ("LEFT JOIN (SELECT account_id, arg_min(name, coalesce(relation, 'holder') <> 'holder') AS name, "
             "arg_min(birth_date, coalesce(relation, 'holder') <> 'holder') AS birth_date, "
             "arg_min(address, coalesce(relation, 'holder') <> 'holder') AS address, "
             "arg_min(phone, coalesce(relation, 'holder') <> 'holder') AS phone, "
             "arg_min(email, coalesce(relation, 'holder') <> 'holder') AS email, "
             "arg_min(account_type, coalesce(relation, 'holder') <> 'holder') AS account_type "
             "FROM parties GROUP BY account_id) AS p USING (account_id)") if has_parties else ""
    # FtM (and Aleph's matching) expects E.164 phones: export the link stage's normalised keys, never
    # the raw text, and no phone at all when none could be normalised.
    phone = ("(SELECT list(k.key ORDER BY k.key) FROM identifier_keys AS k "
             "WHERE k.account_id = c.account_id AND k.kind = 'phone')" if ws.has("identifier_keys") else "NULL")
    cols = (f"p.name, CAST(p.birth_date AS VARCHAR), p.address, {phone}, p.email, p.account_type" if has_parties
            else "NULL, NULL, NULL, NULL, NULL, NULL")
    cur = ws.sql(f"""SELECT c.cluster_id, c.account_id, c.role, c.cluster_score, a.party_id, al.score,
                            array_to_string(al.indicators, ','), {cols}
                     FROM clusters AS c JOIN accounts AS a USING (account_id)
                     LEFT JOIN alerts AS al USING (account_id) {party}
                     ORDER BY c.cluster_id, c.account_id""")
    names = ["cluster_id", "account_id", "role", "cluster_score", "party_id", "alert_score", "indicators", "name",
             "birth_date", "address", "phone", "email", "account_type"]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _edges(ws: Workspace) -> list[dict[str, Any]]:
    cur = ws.sql("""SELECT cluster_id, src, dst, kind, detail, amount, n_txns, first_ts, last_ts
                    FROM cluster_edges ORDER BY cluster_id, src, dst, kind, detail""")
    names = ["cluster_id", "src", "dst", "kind", "detail", "amount", "n_txns", "first_ts", "last_ts"]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def cluster_graph(members: list[dict[str, Any]], edges: list[dict[str, Any]]) -> nx.MultiDiGraph:
    """The cluster graph with only string, float and int attributes (what GraphML and GEXF carry)."""
    graph = nx.MultiDiGraph()
    for m in members:
        graph.add_node(m["account_id"], label=m["name"] or m["account_id"], cluster_id=m["cluster_id"],
                       role=m["role"] or "", cluster_score=float(m["cluster_score"]),
                       alert_score=float(m["alert_score"] or 0.0), indicators=m["indicators"] or "")
    for i, e in enumerate(edges):
        graph.add_edge(e["src"], e["dst"], key=i, cluster_id=e["cluster_id"], kind=e["kind"], label=e["kind"],
                       detail=e["detail"] or "", amount=float(e["amount"] or 0.0), n_txns=int(e["n_txns"] or 0),
                       first_ts=e["first_ts"].isoformat() if e["first_ts"] else "",
                       last_ts=e["last_ts"].isoformat() if e["last_ts"] else "")
    return graph


def _i2_rows(members: list[dict[str, Any]], edges: list[dict[str, Any]]) -> list[list[str]]:
    by_id = {m["account_id"]: m for m in members}

    def end(account: str) -> list[str]:
        m = by_id.get(account, {})
        label = f"{account} ({m['name']})" if m.get("name") else account
        return [account, "Bank Account", label, m.get("role") or "", m.get("cluster_id") or ""]

    rows = []
    for i, e in enumerate(edges, start=1):
        directed = e["kind"] != "identifier"
        rows.append(end(e["src"]) + [
            f"L{i:07d}", {"identifier": "Shared Identifier", "flow": "Transfer",
                          "common_beneficiary": "Transfer"}.get(e["kind"], e["kind"]),
            e["detail"] or e["kind"], "->" if directed else "--",
            "" if e["amount"] is None else f"{e['amount']:.2f}", str(e["n_txns"] or ""),
            e["first_ts"].isoformat() if e["first_ts"] else "", e["last_ts"].isoformat() if e["last_ts"] else "",
        ] + end(e["dst"]))
    return rows


def _ftm(ws: Workspace, members: list[dict[str, Any]], max_edges: int, currency: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    holder_of: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()

    def emit(entity: dict[str, Any]) -> None:
        if entity["id"] not in seen:
            seen.add(entity["id"])
            out.append(entity)

    for m in members:
        holder_key = m["party_id"] or f"holder-of:{m['account_id']}"
        if m["name"] and m["account_type"] != "business":
            holder = _entity("Person", holder_key, name=m["name"], birthDate=m["birth_date"], address=m["address"],
                             phone=m["phone"], email=m["email"])
        else:
            holder = _entity("LegalEntity", holder_key, name=m["name"] or f"Holder of account {m['account_id']}",
                             address=m["address"], phone=m["phone"], email=m["email"])
        account = _entity("BankAccount", m["account_id"], accountNumber=m["account_id"], name=m["account_id"],
                          accountType=m["account_type"],
                          notes=f"cluster {m['cluster_id']}; role {m['role'] or 'undetermined'}")
        holder_of[m["account_id"]] = holder
        emit(holder)
        emit(account)
        emit(_entity("Ownership", f"{holder_key}->{m['account_id']}", owner=holder["id"], asset=account["id"],
                     role="account holder"))
    # Raw transactions only among the members of one cluster, bounded by max_edges.
    ws.sql("""CREATE OR REPLACE TEMP TABLE __fm_members AS
              SELECT DISTINCT a.account_key, c.cluster_id FROM clusters AS c JOIN accounts AS a USING (account_id)""")
    memo = "t.memo" if "memo" in ws.columns("txns") else "CAST(NULL AS VARCHAR)"
    try:
        ws.register("__fm_cand", candidate_transactions(ws, "__fm_members", max_edges))
        try:
            rows = ws.sql(f"""SELECT t.txn_id, pa.account_id, ba.account_id, t.ts, t.amount_rc, t.channel, {memo}
                              FROM __fm_cand AS c JOIN txns AS t ON t.txn_idx = c.txn_idx
                              JOIN accounts AS pa ON pa.account_key = c.payer_key
                              JOIN accounts AS ba ON ba.account_key = c.beneficiary_key
                              JOIN __fm_members AS mp ON mp.account_key = c.payer_key
                              JOIN __fm_members AS mb
                                ON mb.account_key = c.beneficiary_key AND mb.cluster_id = mp.cluster_id
                              ORDER BY t.txn_idx""").fetchall()
        finally:
            ws.con.unregister("__fm_cand")
    finally:
        ws.sql("DROP TABLE IF EXISTS __fm_members")
    for txn_id, payer, beneficiary, ts, amount, channel, memo in rows:
        emit(_entity("Payment", str(txn_id), payer=holder_of[payer]["id"], beneficiary=holder_of[beneficiary]["id"],
                     payerAccount=ftm_id("BankAccount", payer), beneficiaryAccount=ftm_id("BankAccount", beneficiary),
                     amount=f"{amount:.2f}", currency=currency, date=ts.date().isoformat(),
                     transactionNumber=str(txn_id), programme=channel, purpose=memo))
    return out


def write_exports(ws: Workspace, out: Path, max_edges: int = 2_000_000, currency: str = "USD") -> dict[str, int]:
    """Write the four exports into `out/exports/`; return the number of records in each."""
    folder = out / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    members, edges = _members(ws), _edges(ws)
    graph = cluster_graph(members, edges)
    nx.write_graphml(graph, folder / "clusters.graphml")
    nx.write_gexf(graph, folder / "clusters.gexf")
    with (folder / "i2_links.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(I2_COLUMNS)
        rows = _i2_rows(members, edges)
        writer.writerows(rows)
    entities = _ftm(ws, members, max_edges, currency)
    with (folder / "ftm.jsonl").open("w", encoding="utf-8") as f:
        for e in entities:
            f.write(json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n")
    return {"clusters.graphml": graph.number_of_nodes(), "clusters.gexf": graph.number_of_edges(),
            "i2_links.csv": len(rows), "ftm.jsonl": len(entities)}
