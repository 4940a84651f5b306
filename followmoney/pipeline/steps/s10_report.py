"""Stage `report` (step 10: report suspicious activity).

Assembles everything above into what people use: the alert, hit, cluster and quarantine tables
as Parquet (and alerts as CSV); one case file (`cases/<id>.json`), one plain-text STR narrative
and one goAML XML draft (`str/<id>.txt`, `str/<id>.xml`) per case; the graph exports; and the
self-contained HTML report. With `goaml_schema` the drafts are validated against that schema
(an FIU's own) and any errors are recorded in the manifest.
"""

from __future__ import annotations

from followmoney.network.exports import write_exports
from followmoney.outputs.cases import write_cases
from followmoney.outputs.files import write_alerts_csv, write_table
from followmoney.outputs.report import write_report
from followmoney.pipeline.stage import Context, Stage
from followmoney.registry import catalogue_version


def _run(ctx: Context) -> dict[str, int]:
    out = ctx.out
    produced = {f"{t}.parquet": write_table(ctx.ws, t, out / f"{t}.parquet")
                for t in ("alerts", "hits", "clusters", "quarantine")}
    produced["alerts.csv"] = write_alerts_csv(ctx.ws, out / "alerts.csv")
    files = write_cases(ctx.ws, out, ctx.options.goaml_schema)
    produced["cases/"] = files["cases"]
    produced["str/ (text)"] = files["str_drafts"]
    produced["str/ (goAML)"] = files["goaml"]
    notes = {"goaml_schema": str(ctx.options.goaml_schema) if ctx.options.goaml_schema else None,
             "goaml_invalid": files["goaml_errors"]}

    # --- exports/ (network layer) -------------------------------------------------------------
    produced["exports/"] = len(write_exports(ctx.ws, out, int((ctx.settings.get("link") or {}).get("max_edges", 2_000_000)),
                                             str(ctx.settings.get("reporting_currency") or "USD")))
    # --- end of exports/ -----------------------------------------------------------------------

    charts = write_report(ctx.ws, out, ctx.ws.get_meta("stages", []), ctx.ws.get_meta("inputs", {}),
                          catalogue_version(), files["records"])
    # The per-case chart data stays out of the manifest: it would repeat the case files.
    ctx.notes["report"] = {**notes, "charts": {k: v for k, v in charts.items() if k != "cases"},
                           "case_sections": len(charts.get("cases", {}))}
    produced["report.html"] = 1
    return produced


STAGE = Stage(
    name="report",
    step=10,
    theme="report suspicious activity",
    summary="write alerts, hits, clusters, quarantine, case files, STR drafts (text, goAML), exports and the HTML report",
    needs=("alerts", "hits", "clusters", "quarantine", "trace_flows", "assets"),
    produces=("alerts.parquet", "alerts.csv", "hits.parquet", "clusters.parquet", "quarantine.parquet", "cases/",
              "str/", "exports/", "report.html"),
    run=_run,
)
