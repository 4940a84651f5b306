"""Stage `detect` (step 5: operationalise indicators in monitoring).

Runs every runnable indicator of the plan over the whole table: SQL indicators in DuckDB, kernel
indicators in one shared ordered pass over postings, and records every hit with its evidence
transactions in the one `hits` contract.
"""

from __future__ import annotations

import json

from followmoney import registry
from followmoney.engines.duckdb import DuckDBEngine
from followmoney.pipeline.stage import Context, Stage


def _run(ctx: Context) -> dict[str, int]:
    plan = [(registry.get(i), json.loads(p)) for i, p in ctx.ws.sql(
        "SELECT indicator_id, params FROM indicator_plan WHERE runnable ORDER BY indicator_id").fetchall()]
    timings: dict[str, float] = {}
    with ctx.progress.task("detect: kernels over postings", total=ctx.ws.count("postings")) as advance:
        n = DuckDBEngine(ctx.ws).detect(plan, progress=advance, timings=timings)
    per = dict(ctx.ws.sql("SELECT indicator_id, count(*) FROM hits GROUP BY 1 ORDER BY 1").fetchall())
    ctx.notes["detect"] = {"hits_per_indicator": {c.id: int(per.get(c.id, 0)) for c, _ in plan},
                           "seconds_per_indicator": {k: round(v, 4) for k, v in timings.items()}}
    return {"hits": n}


STAGE = Stage(
    name="detect",
    step=5,
    theme="operationalise indicators in monitoring",
    summary="run every detector and record hits with evidence transactions",
    needs=("indicator_plan", "postings", "accounts", "txns"),
    produces=("hits",),
    run=_run,
)
