"""Case files: one per suspect cluster and one per alerted account outside any cluster.

A case gathers everything known about its accounts: subjects with their roles and alerts, the
indicators that fired with their evidence transactions, the links that joined the cluster, where
the money went (trace and assets), key figures and a narrative skeleton assembled from those facts
for the analyst to complete. Possible victims (role `victim` or `mule`: accounts that show signs of
being controlled by someone else) are described in the narrative and listed apart, never as
subjects, as FinCEN asks (FIN-2020-A008).

Case files are deterministic: the same workspace gives the same bytes (no clock time inside).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from followmoney.outputs.files import write_text
from followmoney.workspace import Workspace

VICTIM_ROLES = ("victim", "mule")
"""Roles of accounts that may be controlled by someone else: described, never reported as subjects."""


@dataclass(frozen=True)
class Case:
    """A case: an id, its kind (cluster or account), its member accounts with roles, and its score."""

    case_id: str
    kind: str
    members: dict[str, str | None]
    score: float

    @property
    def subjects(self) -> list[str]:
        """Members that may be reported as subjects (every role but the victim roles)."""
        return sorted(a for a, r in self.members.items() if r not in VICTIM_ROLES)

    @property
    def possible_victims(self) -> list[str]:
        """Members with a victim role."""
        return sorted(a for a, r in self.members.items() if r in VICTIM_ROLES)


def list_cases(ws: Workspace) -> list[Case]:
    """Every case: clusters first (by score, then id), then lone alerted accounts (by rank)."""
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


def _rows(ws: Workspace, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cur = ws.sql(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _evidence_select(ws: Workspace) -> str:
    cols = set(ws.columns("txns"))
    extra = "".join(f", {c}" if c in cols else f", CAST(NULL AS VARCHAR) AS {c}"
                    for c in ("city", "counterparty_name", "memo", "beneficiary_country"))
    return f"""SELECT txn_id, ts, round(amount_rc, 2) AS amount, currency, round(amount, 2) AS amount_original,
                      payer_account, beneficiary_account, channel{extra}, txn_idx"""


def stage_case_tables(ws: Workspace, cases: list[Case]) -> None:
    """Gather, in one pass over `postings` and one over `txns`, what every case file and chart reads.

    Writes `case_members(case_id, account_id)`, `case_postings` (the members' postings) and
    `case_evidence` (the evidence transactions of the members' hits). Per-case queries then read
    these small tables: two full scans per case made the report stage grow with cases x rows
    (about a minute for 141 cases at 10^7 transactions).
    """
    ws.put("case_members", pa.table({
        "case_id": pa.array([c.case_id for c in cases for _ in c.members], pa.string()),
        "account_id": pa.array([a for c in cases for a in sorted(c.members)], pa.string())}))
    city = "p.city" if "city" in ws.columns("postings") else "CAST(NULL AS VARCHAR) AS city"
    # The members' keys first (a few hundred rows), then one join on the integer key: DuckDB pushes the
    # keys into the scan of `postings`, stored by account_key, so row groups of other accounts are skipped.
    ws.sql(f"""CREATE OR REPLACE TABLE case_postings AS
               SELECT k.case_id, k.account_id, p.ts, p.txn_idx, p.amount,
                      coalesce(p.merchant_group, p.channel) AS kind, {city}
               FROM postings AS p
               JOIN (SELECT m.case_id, a.account_id, a.account_key
                     FROM case_members AS m JOIN accounts AS a ON a.account_id = m.account_id) AS k
                 ON k.account_key = p.account_key""")
    ws.sql(f"""CREATE OR REPLACE TABLE case_evidence AS
               {_evidence_select(ws)} FROM txns
               WHERE txn_id IN (SELECT DISTINCT unnest(h.evidence_txn_ids) FROM hits AS h
                                WHERE h.account_id IN (SELECT account_id FROM case_members))""")


def evidence_rows(ws: Workspace, txn_ids: list[str]) -> list[dict[str, Any]]:
    """The evidence transactions, in time order, with the columns an investigator reads first."""
    if not txn_ids:
        return []
    source = "case_evidence" if ws.has("case_evidence") else f"({_evidence_select(ws)} FROM txns)"
    rows = _rows(ws, f"""SELECT * FROM {source} WHERE txn_id IN (SELECT unnest($t)) ORDER BY ts, txn_idx""",
                 {"t": sorted(txn_ids)})
    if len(rows) < len(set(txn_ids)) and source == "case_evidence":
        # Staged for other cases (e.g. a case built by hand after the report): read the full table.
        rows = _rows(ws, f"""SELECT * FROM ({_evidence_select(ws)} FROM txns) WHERE txn_id IN (SELECT unnest($t))
                             ORDER BY ts, txn_idx""", {"t": sorted(txn_ids)})
    for r in rows:
        del r["txn_idx"]
    return rows


def case_postings(ws: Workspace, case: Case) -> str:
    """FROM-clause text of a case's postings (`account_id`, `ts`, `txn_idx`, `amount`, `kind`, `city`).

    Reads `case_postings` when `stage_case_tables` staged this case, else the full `postings`;
    binds `$c` (case id) and `$m` (member ids).
    """
    staged = ws.has("case_members") and sorted(r[0] for r in ws.sql(
        "SELECT account_id FROM case_members WHERE case_id = $c", {"c": case.case_id}).fetchall()) == sorted(case.members)
    if staged:
        return "(SELECT * FROM case_postings WHERE case_id = $c AND $m IS NOT NULL)"
    city = "p.city" if "city" in ws.columns("postings") else "CAST(NULL AS VARCHAR) AS city"
    return f"""(SELECT a.account_id, p.ts, p.txn_idx, p.amount, coalesce(p.merchant_group, p.channel) AS kind, {city}
               FROM postings AS p JOIN accounts AS a ON a.account_key = p.account_key
               WHERE a.account_id IN (SELECT unnest($m)) AND $c IS NOT NULL)"""


class CaseData:
    """What the case files read, fetched for many cases at once: one query per table, not per case.

    Each per-case query of a case file (alerts, hits, links, trace, assets, proceeds, victims, totals,
    evidence) is run once here for every case, ordered as the per-case query orders it, and split by
    case in Python. With ~25 queries per case the report stage was mostly query overhead (141 cases
    at 10^7 transactions: ~3,500 queries); the rows and their order are the same.

    Args:
        ws: the workspace, after `stage_case_tables` when the cases were staged.
        cases: the cases to prepare.
        top_flows: trace flows kept per case.
    """

    def __init__(self, ws: Workspace, cases: list[Case], top_flows: int = 40):
        self.top_flows = int(top_flows)
        members = sorted({a for c in cases for a in c.members})
        ids = [c.case_id for c in cases]
        m, c = {"m": members}, {"c": ids}
        self.alerts = _rows(ws, """SELECT account_id, party_id, score, rank, alert_reason, indicators, role_hypothesis
                                   FROM alerts WHERE account_id IN (SELECT unnest($m)) ORDER BY rank""", m)
        self.hits = _rows(ws, """SELECT indicator_id, account_id, window_start, window_end, value, score, evidence_txn_ids,
                                        details
                                 FROM hits WHERE account_id IN (SELECT unnest($m))
                                 ORDER BY account_id, indicator_id, window_start""", m)
        self.names = {r[0]: (r[1], r[2]) for r in ws.sql("SELECT indicator_id, name, family FROM indicator_plan").fetchall()} \
            if ws.has("indicator_plan") else {}
        self.links = self._by_case(ws, "cluster_edges", "cluster_id", "src, dst, kind, detail, amount",
                                   "src, dst, kind, detail", c)
        self.ends = self._by_case(ws, "trace_ends", "case_id", "origin, end_point, end_kind, attributed",
                                  "attributed DESC, origin, end_point", c)
        self.flows = self._by_case(ws, "trace_flows", "case_id",
                                   "origin, hop, from_account, to_account, end_kind, attributed, n_txns, first_ts, last_ts",
                                   "attributed DESC, origin, hop, from_account, to_account", c, limit=self.top_flows)
        self.assets = self._by_case(ws, "assets", "case_id", "account_id, category, detail, amount, n_txns",
                                    "account_id, category, detail NULLS FIRST", c)
        self.proceeds = self._by_case(ws, "case_proceeds", "case_id", "estimated_proceeds, cash_in, n_payers, basis", "",
                                      c)
        self.victims = self._by_case(ws, "candidate_victims", "case_id", "account_id, role, received, taken, n_txns",
                                     "account_id", c)
        self.totals: dict[str, tuple[Any, ...]] = {}
        self.staged: set[str] = set()
        if ws.has("case_members") and ws.has("case_postings"):
            staged_members: dict[str, list[str]] = {}
            for cid, acct in ws.sql("SELECT case_id, account_id FROM case_members WHERE case_id IN (SELECT unnest($c))",
                                    c).fetchall():
                staged_members.setdefault(cid, []).append(acct)
            self.staged = {x.case_id for x in cases if sorted(staged_members.get(x.case_id, [])) == sorted(x.members)}
            for row in ws.sql("""SELECT case_id, round(coalesce(sum(amount) FILTER (WHERE amount > 0), 0), 2),
                                        round(coalesce(-sum(amount) FILTER (WHERE amount < 0), 0), 2), min(ts), max(ts),
                                        count(*)
                                 FROM case_postings WHERE case_id IN (SELECT unnest($c)) GROUP BY case_id""",
                              c).fetchall():
                self.totals[row[0]] = tuple(row[1:])
        self.evidence: dict[str, dict[str, Any]] | None = None
        if ws.has("case_evidence"):
            self.evidence = {r["txn_id"]: r for r in _rows(ws, "SELECT * FROM case_evidence")}

    @staticmethod
    def _by_case(ws: Workspace, table: str, key: str, cols: str, order: str, params: dict[str, Any],
                 limit: int | None = None) -> dict[str, list[dict[str, Any]]]:
        """Rows of `table` per case id, each case's rows in `order` (the first `limit` of them)."""
        if not ws.has(table):
            return {}
        within = f"ORDER BY {order}" if order else ""
        top = f"QUALIFY row_number() OVER (PARTITION BY {key} {within}) <= {int(limit)}" if limit is not None else ""
        out: dict[str, list[dict[str, Any]]] = {}
        for row in _rows(ws, f"""SELECT {key} AS __case, {cols} FROM {table} WHERE {key} IN (SELECT unnest($c))
                                 {top} ORDER BY {key}{', ' + order if order else ''}""", params):
            out.setdefault(row.pop("__case"), []).append(row)
        return out

    def evidence_rows(self, ws: Workspace, txn_ids: list[str]) -> list[dict[str, Any]]:
        """`evidence_rows` from the staged evidence; the full table when some id was not staged."""
        if self.evidence is None or not txn_ids:
            return evidence_rows(ws, txn_ids)
        found = [self.evidence[t] for t in set(txn_ids) if t in self.evidence]
        if len(found) < len(set(txn_ids)):
            return evidence_rows(ws, txn_ids)
        rows = []
        for r in sorted(found, key=lambda r: (r["ts"], r["txn_idx"])):
            row = dict(r)
            del row["txn_idx"]
            rows.append(row)
        return rows


def case_record(ws: Workspace, case: Case, top_flows: int = 40, data: CaseData | None = None) -> dict[str, Any]:
    """Everything about one case, as plain JSON-ready data (see docs/cases.md for the fields).

    Args:
        ws: the case workspace.
        case: the case.
        top_flows: trace flows listed (largest first).
        data: rows prepared for many cases at once (`CaseData`); fetched for this case alone when None.
    """
    if data is None:
        data = CaseData(ws, [case], top_flows)
    members = sorted(case.members)
    member_set = set(members)
    alerts = {r["account_id"]: r for r in data.alerts if r["account_id"] in member_set}
    hits = [h for h in data.hits if h["account_id"] in member_set]
    names = data.names
    indicators: dict[str, dict[str, Any]] = {}
    for h in hits:
        ind = indicators.setdefault(h["indicator_id"], {
            "indicator_id": h["indicator_id"], "name": names.get(h["indicator_id"], (None, None))[0],
            "family": names.get(h["indicator_id"], (None, None))[1], "accounts": [], "n_hits": 0, "evidence_txn_ids": []})
        ind["n_hits"] += 1
        if h["account_id"] not in ind["accounts"]:
            ind["accounts"].append(h["account_id"])
        ind["evidence_txn_ids"] = sorted(set(ind["evidence_txn_ids"]) | set(h["evidence_txn_ids"]))
    evidence_ids = sorted({t for h in hits for t in h["evidence_txn_ids"]})
    cid = case.case_id
    links = data.links.get(cid, [])
    ends = data.ends.get(cid, [])
    flows = data.flows.get(cid, [])
    assets = data.assets.get(cid, [])
    by_category: dict[str, float] = {}
    for a in assets:
        by_category[a["category"]] = round(by_category.get(a["category"], 0.0) + a["amount"], 2)
    proceeds = data.proceeds.get(cid, [])
    victims = data.victims.get(cid, [])
    if not victims:
        victims = [{"account_id": a, "role": case.members[a], "received": None, "taken": None, "n_txns": None}
                   for a in case.possible_victims]
    if cid in data.staged:
        totals = data.totals.get(cid, (0.0, 0.0, None, None, 0))
    else:
        totals = ws.sql(f"""SELECT round(coalesce(sum(amount) FILTER (WHERE amount > 0), 0), 2),
                                   round(coalesce(-sum(amount) FILTER (WHERE amount < 0), 0), 2), min(ts), max(ts), count(*)
                            FROM {case_postings(ws, case)}""", {"m": members, "c": cid}).fetchone()
    subjects = []
    for acct in case.subjects:
        a = alerts.get(acct, {})
        subjects.append({"account_id": acct, "role": case.members[acct], "party_id": a.get("party_id"),
                         "alerted": acct in alerts, "score": a.get("score"), "rank": a.get("rank"),
                         "indicators": a.get("indicators", []), "alert_reason": a.get("alert_reason")})
    key_figures = {
        "accounts": len(members), "subjects": len(subjects), "possible_victims": len(victims),
        "total_in": totals[0], "total_out": totals[1], "first_ts": totals[2], "last_ts": totals[3], "postings": totals[4],
        "indicators": len(indicators), "hits": len(hits), "evidence_txns": len(evidence_ids),
        "estimated_proceeds": proceeds[0]["estimated_proceeds"] if proceeds else None,
        "cash_out": by_category.get("cash_out", 0.0), "traced_out": round(sum(e["attributed"] for e in ends), 2),
    }
    record = {
        "case_id": case.case_id, "kind": case.kind, "score": case.score,
        "subjects": subjects, "possible_victims": victims,
        "key_figures": key_figures, "indicators": list(indicators.values()),
        "alerts": list(alerts.values()), "hits": hits, "evidence": data.evidence_rows(ws, evidence_ids), "links": links,
        "trace": {"ends": ends, "top_flows": flows}, "assets": assets, "assets_by_category": by_category,
        "proceeds": proceeds[0] if proceeds else None,
    }
    record["narrative"] = narrative(record)
    return record


def _money(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.2f}"


def narrative(record: dict[str, Any]) -> str:
    """A narrative skeleton assembled only from the facts of the case, for the analyst to complete.

    Possible victims are described here (what they received and what was taken from them) and are
    never called subjects.
    """
    k = record["key_figures"]
    lines = [f"Case {record['case_id']} ({record['kind']}): {k['accounts']} account(s), score {record['score']:.2f}, "
             f"activity from {str(k['first_ts'])[:10]} to {str(k['last_ts'])[:10]}.",
             f"Money in {_money(k['total_in'])}; money out {_money(k['total_out'])} (reporting currency)."]
    if record["subjects"]:
        lines.append("Subjects:")
        for s in record["subjects"]:
            why = s["alert_reason"] or "joined to the case by the links listed in the case file"
            lines.append(f"- {s['account_id']} (role hypothesis: {s['role'] or 'undetermined'}): {why}")
    else:
        lines.append("No subject identified: every account of the case shows signs of third-party control.")
    for ind in record["indicators"]:
        lines.append(f"Indicator {ind['indicator_id']} ({ind['name'] or 'unnamed'}) fired {ind['n_hits']} time(s) on "
                     f"{', '.join(ind['accounts'])}; evidence: {len(ind['evidence_txn_ids'])} transaction(s).")
    if record["possible_victims"]:
        lines.append(f"{len(record['possible_victims'])} account(s) show signs of being controlled by a third party "
                     "(possible victims or nominees). They are described here and must not be reported as subjects:")
        for v in record["possible_victims"]:
            lines.append(f"- account {v['account_id']} ({v['role']}) received {_money(v['received'])} and paid "
                         f"{_money(v['taken'])} on to the case's subjects in {v['n_txns'] or 0} payment(s).")
    if record["trace"]["ends"]:
        kinds: dict[str, float] = {}
        for e in record["trace"]["ends"]:
            kinds[e["end_kind"]] = kinds.get(e["end_kind"], 0.0) + e["attributed"]
        lines.append("Tracing the money downstream attributes: " + "; ".join(
            f"{kind} {_money(v)}" for kind, v in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))) + ".")
    if record["assets_by_category"]:
        lines.append("Payments out by category: " + "; ".join(
            f"{c} {_money(v)}" for c, v in sorted(record["assets_by_category"].items(), key=lambda kv: (-kv[1], kv[0])))
            + ".")
    if record["proceeds"]:
        lines.append(f"Estimated proceeds {_money(record['proceeds']['estimated_proceeds'])}: "
                     f"{record['proceeds']['basis']}.")
    lines.append("[Analyst: add what staff observed, the customers' explanations, and the identifiers (phones, "
                 "e-mails, IP addresses) relevant to the case.]")
    return "\n".join(lines)


def str_text(record: dict[str, Any]) -> str:
    """A plain-text STR/SAR narrative draft with the key terms FinCEN and FINTRAC ask filers to use."""
    return "\n".join([
        "DRAFT - NOT FILED. Review and complete before submission.",
        "HUMAN TRAFFICKING FIN-2020-A008",
        "#PROTECT (FINTRAC Project PROTECT)",
        "",
        f"Case: {record['case_id']}",
        "Subjects: " + (", ".join(s["account_id"] for s in record["subjects"]) or "none identified"),
        "Indicators: " + (", ".join(i["indicator_id"] for i in record["indicators"]) or "none"),
        "",
        "HUMAN TRAFFICKING FIN-2020-A008 #PROTECT. " + record["narrative"],
        "",
    ])


def _json_default(o: Any) -> str:
    return o.isoformat() if hasattr(o, "isoformat") else str(o)


def case_json(record: dict[str, Any]) -> str:
    """The case file's text: sorted, indented JSON."""
    return json.dumps(record, indent=2, default=_json_default, ensure_ascii=False) + "\n"


def write_cases(ws: Workspace, out: Path, goaml_schema: str | Path | None = None) -> dict[str, Any]:
    """Write `cases/<id>.json`, `str/<id>.txt` and `str/<id>.xml` (goAML); return counts and the records."""
    from followmoney.goaml import GoamlWriter

    cases = list_cases(ws)
    stage_case_tables(ws, cases)
    (out / "cases").mkdir(parents=True, exist_ok=True)
    (out / "str").mkdir(parents=True, exist_ok=True)
    writer = GoamlWriter(ws, goaml_schema)
    records = []
    n_xml = 0
    data = CaseData(ws, cases)
    for case in cases:
        record = case_record(ws, case, data=data)
        records.append(record)
        write_text(out / "cases" / f"{case.case_id}.json", case_json(record))
        write_text(out / "str" / f"{case.case_id}.txt", str_text(record))
        xml = writer.draft(record)
        if xml is not None:
            write_text(out / "str" / f"{case.case_id}.xml", xml)
            n_xml += 1
    return {"cases": len(cases), "str_drafts": len(cases), "goaml": n_xml, "records": records,
            "goaml_errors": writer.errors}
