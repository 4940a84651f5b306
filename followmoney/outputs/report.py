"""The HTML report: one self-contained file that works offline, every data value escaped."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from followmoney import __version__
from followmoney.outputs.cases import Case, case_postings
from followmoney.outputs.charts import bar_chart, city_timeline, flow_chart, histogram, timeline
from followmoney.outputs.files import write_text
from followmoney.workspace import Workspace

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1a202c;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #e2e8f0;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #e2e8f0;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f7fafc}.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:.75rem}.card{border:1px solid #e2e8f0;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.4rem}pre.narrative{white-space:pre-wrap;background:#f7fafc;padding:.6rem}.muted{color:#718096;font-size:.85rem}img{max-width:100%}
"""


def esc(value: Any) -> str:
    """Escape any value for HTML; None shows as an empty cell."""
    return "" if value is None else html.escape(str(value), quote=True)


class _Link:
    """A cell that links to an anchor in the report; text and target are escaped like any value."""

    def __init__(self, text: Any, target: str):
        self.text = text
        self.target = target

    def html(self) -> str:
        return f"<a href='#{esc(self.target)}'>{esc(self.text)}</a>"


def _anchor(case_id: str) -> str:
    """Anchor of a case section: only safe characters, whatever the id holds."""
    return "case-" + "".join(ch if ch.isalnum() or ch in "-_" else f"_{ord(ch):x}" for ch in case_id)


def _cell(c: Any) -> str:
    return c.html() if isinstance(c, _Link) else esc(c)


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td class='num'>{_cell(c)}</td>" if i in numeric else f"<td>{_cell(c)}</td>"
                         for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def build_report(ws: Workspace, stages: list[dict[str, Any]], inputs: dict[str, Any], catalogue: str,
                 records: list[dict[str, Any]] | None = None, top_n: int = 50,
                 top_cases: int = 6, max_sections: int = 200) -> tuple[str, dict[str, Any]]:
    """Render the report; returns (html, the data behind its charts).

    Args:
        ws: the case workspace.
        stages: the stage records of the run (timings, row counts).
        inputs: per-file reconciliation from `collect`.
        catalogue: catalogue version.
        records: case records (`followmoney.outputs.cases.case_record`), highest first.
        top_n: alerts listed.
        top_cases: cases shown with their charts.
        max_sections: cases shown at all (subjects, victims, indicators, evidence, narrative); the rest are
            in cases/ only, so the report stays a size a browser opens.
    """
    n = {t: ws.count(t) for t in ("txns", "quarantine", "accounts", "hits", "alerts")}
    n_clusters = ws.sql("SELECT count(DISTINCT cluster_id) FROM clusters").fetchone()[0]
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>followmoney report</title>"
             f"<style>{_CSS}</style></head><body>",
             "<h1>followmoney scan report</h1>",
             f"<p class='muted'>followmoney {esc(__version__)}, catalogue {esc(catalogue)}. Findings are leads for an "
             "investigator, not proof: no single indicator is conclusive.</p>",
             "<h2>Overview</h2><div class='cards'>"]
    for label, value in (("transactions loaded", n["txns"]), ("rows quarantined", n["quarantine"]),
                         ("accounts", n["accounts"]), ("hits", n["hits"]), ("alerts", n["alerts"]),
                         ("clusters", n_clusters)):
        parts.append(f"<div class='card'><b>{esc(f'{value:,}')}</b>{esc(label)}</div>")
    parts.append("</div>")

    parts.append("<h2>Data quality</h2><p>Every row read is loaded or quarantined with a reason.</p>")
    rows = []
    for table in ("transactions", "parties"):
        for f in inputs.get(table, []):
            reasons = ", ".join(f"{k}: {v}" for k, v in f["quarantined_by_reason"].items()) or "-"
            rows.append([table, f["file"], f["read"], f["loaded"], f["quarantined"], reasons])
    parts.append(_table(["table", "file", "read", "loaded", "quarantined", "by reason"], rows, {2, 3, 4}))

    parts.append("<h2>The 11 stages</h2><p class='muted'>Stages 10 (report, which writes this page) and 11 "
                 "(feedback) finish after it is written; their timings and row counts are in manifest.json.</p>")
    parts.append(_table(["step", "stage", "theme", "seconds", "produced (rows)"],
                        [[s["step"], s["name"], s["theme"], f"{s['seconds']:.2f}",
                          ", ".join(f"{k}: {v:,}" for k, v in s["produced"].items())] for s in stages], {0, 3}))

    parts.append("<h2>Indicators</h2>")
    plan = ws.sql("""SELECT p.indicator_id, p.name, p.family, p.implementation,
                            CASE WHEN p.runnable THEN 'ran' ELSE 'skipped: ' || p.skip_reason END,
                            count(h.indicator_id), count(DISTINCT h.account_id)
                     FROM indicator_plan AS p LEFT JOIN hits AS h USING (indicator_id)
                     GROUP BY ALL ORDER BY p.indicator_id""").fetchall()
    parts.append(_table(["id", "name", "family", "implementation", "status", "hits", "accounts"],
                        [list(r) for r in plan], {5, 6}))
    chart_data: dict[str, Any] = {}
    per_ind = ws.sql("""SELECT i.ind, count(*) FROM alerts, unnest(indicators) AS i(ind) GROUP BY 1 ORDER BY 1""").fetchall()
    if per_ind:
        uri, data = bar_chart([r[0] for r in per_ind], [float(r[1]) for r in per_ind], "Alerted accounts per indicator",
                              "accounts")
        chart_data["alerts_per_indicator"] = data
        parts.append(f"<img alt='alerted accounts per indicator' src='{uri}'>")
    scores = [r[0] for r in ws.sql("SELECT score FROM alerts").fetchall()]
    if scores:
        uri, counts = histogram(scores, "Alert scores", "combined score")
        chart_data["score_histogram"] = counts
        parts.append(f"<img alt='distribution of alert scores' src='{uri}'>")

    parts.append(f"<h2>Top alerts</h2><p class='muted'>The {top_n} highest-ranked of {n['alerts']:,}; all are in "
                 "alerts.parquet and alerts.csv.</p>")
    top = ws.sql("""SELECT rank, account_id, score, array_to_string(indicators, ', '), role_hypothesis, alert_reason
                    FROM alerts ORDER BY rank LIMIT $n""", {"n": top_n}).fetchall()
    case_of = {a: r["case_id"] for r in (records or [])[:max_sections] for a in
               [s["account_id"] for s in r["subjects"]] + [v["account_id"] for v in r["possible_victims"]]}
    parts.append(_table(["rank", "account", "score", "indicators", "role hypothesis", "reason", "case"],
                        [[*r, _Link(case_of[r[1]], _anchor(case_of[r[1]])) if r[1] in case_of else None] for r in top],
                        {0, 2}))

    parts.append("<h2>Cases</h2>")
    with_section = {r["case_id"] for r in (records or [])[:max_sections]}
    clusters = ws.sql("""SELECT cluster_id, count(*), max(cluster_score), string_agg(account_id || ' (' ||
                                coalesce(role, 'role undetermined') || ')', ', ' ORDER BY account_id)
                         FROM clusters GROUP BY cluster_id ORDER BY max(cluster_score) DESC, cluster_id""").fetchall()
    parts.append(_table(["cluster", "accounts", "score", "members"],
                        [[_Link(r[0], _anchor(r[0])) if r[0] in with_section else r[0], *r[1:]] for r in clusters],
                        {1, 2}))
    shown = (records or [])[:max_sections]
    if records:
        parts.append(f"<p class='muted'>{esc(len(records))} case(s) in total; {esc(len(shown))} are shown below, the "
                     f"{esc(min(top_cases, len(shown)))} highest with charts. Each has a file in cases/, a text STR draft "
                     "and a goAML draft in str/.</p>")
    for i, record in enumerate(shown):
        parts.append(_case_section(ws, record, chart_data, charts=i < top_cases))
    parts.append("<p class='muted'>Graph exports are in exports/.</p></body></html>")
    return "".join(parts), chart_data


def write_report(ws: Workspace, out: Path, stages: list[dict[str, Any]], inputs: dict[str, Any],
                 catalogue: str, records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Write `report.html`; returns the chart data."""
    page, data = build_report(ws, stages, inputs, catalogue, records)
    write_text(out / "report.html", page)
    return data


def _img(uri: str, alt: str) -> str:
    return f"<img alt='{esc(alt)}' src='{esc(uri)}'>"


def _case_section(ws: Workspace, record: dict[str, Any], chart_data: dict[str, Any], charts: bool = True) -> str:
    """One case: key figures, subjects, possible victims, indicators with evidence, trace, assets, charts."""
    cid = record["case_id"]
    k = record["key_figures"]
    members = [s["account_id"] for s in record["subjects"]] + [v["account_id"] for v in record["possible_victims"]]
    score = f"{record['score']:.2f}"
    parts = [f"<section id='{esc(_anchor(cid))}'><h3>Case {esc(cid)} ({esc(record['kind'])}, score "
             f"{esc(score)})</h3><div class='cards'>"]
    for label, value in (("accounts", k["accounts"]), ("money in", f"{k['total_in']:,.2f}"),
                         ("money out", f"{k['total_out']:,.2f}"), ("evidence txns", k["evidence_txns"]),
                         ("estimated proceeds", "n/a" if k["estimated_proceeds"] is None else f"{k['estimated_proceeds']:,.2f}")):
        parts.append(f"<div class='card'><b>{esc(value)}</b>{esc(label)}</div>")
    parts.append("</div><h4>Subjects</h4>")
    parts.append(_table(["account", "role hypothesis", "score", "indicators", "reason"],
                        [[s["account_id"], s["role"], s["score"], ", ".join(s["indicators"]), s["alert_reason"]]
                         for s in record["subjects"]], {2}))
    if record["possible_victims"]:
        parts.append("<h4>Possible victims (described, never reported as subjects)</h4>")
        parts.append(_table(["account", "role", "received", "paid on to subjects", "payments"],
                            [[v["account_id"], v["role"], v["received"], v["taken"], v["n_txns"]]
                             for v in record["possible_victims"]], {2, 3, 4}))
    parts.append("<h4>Indicators and evidence</h4>")
    parts.append(_table(["indicator", "name", "accounts", "hits", "evidence transactions"],
                        [[i["indicator_id"], i["name"], ", ".join(i["accounts"]), i["n_hits"], len(i["evidence_txn_ids"])]
                         for i in record["indicators"]], {3, 4}))
    ev = record["evidence"]
    parts.append(f"<details><summary>{esc(len(ev))} evidence transaction(s)</summary>")
    parts.append(_table(["txn", "time", "amount", "from", "to", "channel", "city", "counterparty", "memo"],
                        [[e["txn_id"], e["ts"], f"{e['amount']:,.2f}", e["payer_account"], e["beneficiary_account"],
                          e["channel"], e.get("city"), e.get("counterparty_name"), e.get("memo")] for e in ev[:300]], {2}))
    parts.append("</details>")
    if not charts:
        parts.append("<h4>Narrative skeleton</h4><pre class='narrative'>" + esc(record["narrative"]) + "</pre></section>")
        return "".join(parts)
    data: dict[str, Any] = {}
    source = case_postings(ws, Case(cid, record["kind"], {m: None for m in members}, record["score"]))
    bind = {"m": members, "c": cid}
    points = ws.sql(f"SELECT ts, amount, kind, account_id FROM {source} ORDER BY ts, txn_idx", bind).fetchall()
    if points:
        uri, data["timeline"] = timeline([(t, a, kind) for t, a, kind, _ in points], f"Transactions of case {cid}")
        parts.append(_img(uri, f"timeline of the transactions of case {cid}"))
    flows = ws.sql("""SELECT hop, from_account, to_account, end_kind, attributed FROM trace_flows WHERE case_id = $c
                      ORDER BY hop, from_account, to_account""", {"c": cid}).fetchall() if ws.has("trace_flows") else []
    if flows:
        uri, data["flow"] = flow_chart([{"hop": h, "from_account": f, "to_account": t, "end_kind": e, "attributed": a}
                                        for h, f, t, e, a in flows], f"Where the money of case {cid} went (attributed)")
        parts.append("<h4>Trace</h4>" + _img(uri, f"flow diagram of case {cid}"))
        parts.append(_table(["origin", "end point", "kind", "attributed"],
                            [[e["origin"], e["end_point"], e["end_kind"], f"{e['attributed']:,.2f}"]
                             for e in record["trace"]["ends"][:25]], {3}))
    if record["assets_by_category"]:
        cats = sorted(record["assets_by_category"].items(), key=lambda kv: (-kv[1], kv[0]))
        uri, data["categories"] = bar_chart([c for c, _ in cats], [v for _, v in cats],
                                            f"Where the money of case {cid} went, by category", "amount")
        parts.append("<h4>Assets</h4>" + _img(uri, f"amounts by counterparty category, case {cid}"))
    if "city" in ws.columns("postings"):
        cities = ws.sql(f"SELECT ts, city FROM {source} WHERE city IS NOT NULL ORDER BY ts, txn_idx", bind).fetchall()
        if cities:
            uri, data["cities"] = city_timeline(cities, f"Cities over time, case {cid}")
            parts.append(_img(uri, f"cities over time, case {cid}"))
    parts.append("<h4>Narrative skeleton</h4><pre class='narrative'>" + esc(record["narrative"]) + "</pre></section>")
    chart_data.setdefault("cases", {})[cid] = data
    return "".join(parts)
