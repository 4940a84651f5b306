"""The HTML report: one self-contained file that works offline, every data value escaped."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from followmoney import __version__
from followmoney.outputs.charts import bar_chart, histogram
from followmoney.outputs.files import write_text
from followmoney.workspace import Workspace

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1a202c;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #e2e8f0;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #e2e8f0;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f7fafc}.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:.75rem}.card{border:1px solid #e2e8f0;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.4rem}.muted{color:#718096;font-size:.85rem}img{max-width:100%}
"""


def esc(value: Any) -> str:
    """Escape any value for HTML; None shows as an empty cell."""
    return "" if value is None else html.escape(str(value), quote=True)


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td class='num'>{esc(c)}</td>" if i in numeric else f"<td>{esc(c)}</td>"
                         for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def build_report(ws: Workspace, stages: list[dict[str, Any]], inputs: dict[str, Any], catalogue: str,
                 top_n: int = 50) -> tuple[str, dict[str, Any]]:
    """Render the report; returns (html, the data behind its charts)."""
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

    parts.append("<h2>The 11 stages</h2>")
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
    parts.append(_table(["rank", "account", "score", "indicators", "role hypothesis", "reason"],
                        [list(r) for r in top], {0, 2}))

    parts.append("<h2>Cases</h2>")
    clusters = ws.sql("""SELECT cluster_id, count(*), max(cluster_score), string_agg(account_id || ' (' ||
                                coalesce(role, 'role undetermined') || ')', ', ' ORDER BY account_id)
                         FROM clusters GROUP BY cluster_id ORDER BY max(cluster_score) DESC, cluster_id""").fetchall()
    parts.append(_table(["cluster", "accounts", "score", "members"], [list(r) for r in clusters], {1, 2}))
    parts.append("<p class='muted'>Each case has a file in cases/ and an STR draft in str/; the clusters graph is in "
                 "exports/clusters.graphml.</p></body></html>")
    return "".join(parts), chart_data


def write_report(ws: Workspace, out: Path, stages: list[dict[str, Any]], inputs: dict[str, Any],
                 catalogue: str) -> dict[str, Any]:
    """Write `report.html`; returns the chart data."""
    page, data = build_report(ws, stages, inputs, catalogue)
    write_text(out / "report.html", page)
    return data
