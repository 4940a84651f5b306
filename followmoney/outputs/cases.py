"""Case files: one per suspect cluster and one per alerted account outside any cluster.

A case gathers everything known about its accounts: members and roles, the hits with their
evidence transactions, where the money went (trace and assets) and key figures. Possible victims
(role `victim` or `mule`: accounts controlled by someone else) are listed apart from the subjects,
never as subjects, as FinCEN asks (FIN-2020-A008).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from followmoney.outputs.files import atomic_path, write_text
from followmoney.workspace import Workspace

VICTIM_ROLES = ("victim", "mule")


@dataclass(frozen=True)
class Case:
    """A case: an id, its kind (cluster or account) and its member accounts with roles."""

    case_id: str
    kind: str
    members: dict[str, str | None]
    score: float


def list_cases(ws: Workspace) -> list[Case]:
    """Clusters first (by score), then lone alerted accounts (by rank)."""
    cases: dict[str, dict[str, Any]] = {}
    for cid, acct, role, score in ws.sql(
            "SELECT cluster_id, account_id, role, cluster_score FROM clusters ORDER BY cluster_score DESC, cluster_id, account_id"
    ).fetchall():
        cases.setdefault(cid, {"members": {}, "score": score})["members"][acct] = role
    out = [Case(cid, "cluster", c["members"], c["score"]) for cid, c in cases.items()]
    for acct, role, score in ws.sql(
            "SELECT account_id, role_hypothesis, score FROM alerts WHERE account_id NOT IN (SELECT account_id FROM clusters) "
            "ORDER BY rank").fetchall():
        out.append(Case(f"A-{acct}", "account", {acct: role}, score))
    return out


def _rows(ws: Workspace, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cur = ws.sql(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def case_record(ws: Workspace, case: Case) -> dict[str, Any]:
    """Everything about one case, as plain JSON-ready data."""
    members = sorted(case.members)
    p = {"m": members}
    hits = _rows(ws, """SELECT indicator_id, account_id, window_start, window_end, value, score, evidence_txn_ids
                        FROM hits WHERE account_id IN (SELECT unnest($m)) ORDER BY account_id, indicator_id, window_start""", p)
    alerts = _rows(ws, "SELECT account_id, score, rank, alert_reason, role_hypothesis FROM alerts "
                       "WHERE account_id IN (SELECT unnest($m)) ORDER BY rank", p)
    edges = _rows(ws, "SELECT src, dst, kind, detail, amount FROM cluster_edges WHERE cluster_id = $c ORDER BY src, dst, kind",
                  {"c": case.case_id})
    assets = _rows(ws, "SELECT subject_account, category, amount, n_txns FROM assets "
                       "WHERE subject_account IN (SELECT unnest($m)) ORDER BY subject_account, category", p)
    trace = _rows(ws, """SELECT endpoint, hop, round(sum(attributed), 2) AS attributed, sum(n_txns) AS n_txns
                         FROM trace_flows WHERE subject_account IN (SELECT unnest($m)) GROUP BY endpoint, hop
                         ORDER BY hop, endpoint""", p)
    totals = ws.sql("""SELECT round(coalesce(sum(amount) FILTER (WHERE amount > 0), 0), 2),
                              round(coalesce(-sum(amount) FILTER (WHERE amount < 0), 0), 2)
                       FROM postings WHERE account_key IN (SELECT account_key FROM accounts WHERE account_id IN (SELECT unnest($m)))""",
                    p).fetchone()
    subjects = [{"account_id": a, "role": r} for a, r in sorted(case.members.items()) if r not in VICTIM_ROLES]
    victims = [{"account_id": a, "role": r} for a, r in sorted(case.members.items()) if r in VICTIM_ROLES]
    return {
        "case_id": case.case_id, "kind": case.kind, "score": case.score,
        "subjects": subjects, "possible_victims": victims,
        "key_figures": {"accounts": len(members), "total_in": totals[0], "total_out": totals[1],
                        "hits": len(hits), "evidence_txns": len({t for h in hits for t in h["evidence_txn_ids"]})},
        "alerts": alerts, "hits": hits, "links": edges, "trace": trace, "assets": assets,
        "narrative": narrative(case, alerts, victims, totals),
    }


def narrative(case: Case, alerts: list[dict[str, Any]], victims: list[dict[str, Any]], totals: tuple) -> str:
    """A narrative skeleton assembled from the facts of the case, for the analyst to complete."""
    lines = [
        f"Case {case.case_id} ({case.kind}, {len(case.members)} account(s), score {case.score:.2f}).",
        f"Money in: {totals[0]:,.2f}; money out: {totals[1]:,.2f} (reporting currency).",
    ]
    for a in alerts:
        lines.append(f"Account {a['account_id']}: {a['alert_reason']}")
    if victims:
        lines.append(f"{len(victims)} account(s) show signs of being controlled by a third party (possible victims "
                     "or nominees); they are described here and must not be reported as subjects.")
    return "\n".join(lines)


def str_draft(record: dict[str, Any]) -> str:
    """A plain-text STR/SAR narrative draft with the key terms FIUs ask filers to use."""
    return "\n".join([
        "DRAFT - NOT FILED. Review before submission.",
        "Key terms: HUMAN TRAFFICKING FIN-2020-A008 (FinCEN); #PROTECT / Project PROTECT (FINTRAC).",
        "",
        "Subjects: " + (", ".join(s["account_id"] for s in record["subjects"]) or "none identified"),
        "",
        record["narrative"],
    ])


def _json_default(o: Any) -> str:
    return o.isoformat() if hasattr(o, "isoformat") else str(o)


def write_cases(ws: Workspace, out: Path) -> dict[str, int]:
    """Write `cases/<id>.json`, `str/<id>.txt` and `exports/clusters.graphml`; return file counts."""
    cases = list_cases(ws)
    for case in cases:
        record = case_record(ws, case)
        write_text(out / "cases" / f"{case.case_id}.json", json.dumps(record, indent=2, default=_json_default))
        write_text(out / "str" / f"{case.case_id}.txt", str_draft(record))
    (out / "cases").mkdir(parents=True, exist_ok=True)
    (out / "str").mkdir(parents=True, exist_ok=True)
    graph = nx.MultiDiGraph()
    for cid, acct, role in ws.sql("SELECT cluster_id, account_id, role FROM clusters ORDER BY cluster_id, account_id").fetchall():
        graph.add_node(acct, cluster_id=cid, role=role or "")
    for cid, src, dst, kind, detail, amount in ws.sql(
            "SELECT cluster_id, src, dst, kind, detail, amount FROM cluster_edges ORDER BY cluster_id, src, dst, kind").fetchall():
        graph.add_edge(src, dst, cluster_id=cid, kind=kind, detail=detail or "", amount=float(amount or 0.0))
    with atomic_path(out / "exports" / "clusters.graphml") as tmp:
        nx.write_graphml(graph, tmp)
    return {"cases": len(cases), "str_drafts": len(cases), "exports": 1}
