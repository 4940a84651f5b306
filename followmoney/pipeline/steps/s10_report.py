"""Stage `report` (step 10: report suspicious activity).

Assembles everything above into what people use: the alert, hit, cluster and quarantine tables
as Parquet (and alerts as CSV), one case file and one STR narrative draft per case, the clusters
graph for Gephi and other tools, and the self-contained HTML report.
"""

from __future__ import annotations

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
    files = write_cases(ctx.ws, out)
    produced["cases/"] = files["cases"]
    produced["str/"] = files["str_drafts"]
    produced["exports/"] = files["exports"]
    charts = write_report(ctx.ws, out, ctx.ws.get_meta("stages", []), ctx.ws.get_meta("inputs", {}),
                          catalogue_version())
    ctx.notes["report"] = {"charts": charts}
    produced["report.html"] = 1
    return produced


STAGE = Stage(
    name="report",
    step=10,
    theme="report suspicious activity",
    summary="write alerts, hits, clusters, quarantine, case files, STR drafts, exports and the HTML report",
    needs=("alerts", "hits", "clusters", "quarantine", "trace_flows", "assets"),
    produces=("alerts.parquet", "alerts.csv", "hits.parquet", "clusters.parquet", "quarantine.parquet", "cases/",
              "str/", "exports/", "report.html"),
    run=_run,
)
