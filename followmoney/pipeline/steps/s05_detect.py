"""Stage `detect` (step 5: operationalise indicators in monitoring).

Runs every runnable indicator of the plan over the whole table: SQL indicators in DuckDB, kernel
indicators in one shared ordered pass over postings, and records every hit with its evidence
transactions in the one `hits` contract.
With `engine="spark"` the same definitions run on Spark over the postings (see docs/spark.md): the
run's Spark plane when `collect` ran on Spark, else postings exported from the workspace; hits come
back to the workspace either way.
"""

from __future__ import annotations

import json

from followmoney import registry
from followmoney.engines.duckdb import DuckDBEngine
from followmoney.errors import PipelineError
from followmoney.network.identifiers import link_options, prepare_identifiers
from followmoney.pipeline.stage import Context, Stage


def _run(ctx: Context) -> dict[str, int]:
    plan = [(registry.get(i), json.loads(p)) for i, p in ctx.ws.sql(
        "SELECT indicator_id, params FROM indicator_plan WHERE runnable ORDER BY indicator_id").fetchall()]
    if ctx.ws.has("identifiers") and any("identifier_keys" in (cls.sql or "") for cls, _ in plan):
        # Indicators over shared identifiers read the very keys and exclusions stage `link` uses;
        # built here once (fingerprinted), `link` then reuses them instead of normalising again.
        prepare_identifiers(ctx.ws, link_options(ctx.settings))
    timings: dict[str, float] = {}
    not_portable: dict[str, str] = {}
    with ctx.progress.task("detect: kernels over postings", total=ctx.ws.count("postings")) as advance:
        if ctx.options.engine == "spark":
            # Imported here: pyspark is an optional extra, and a DuckDB scan must not need it.
            from followmoney.engines.handoff import detect_on_spark

            # On the plane `collect` built on Spark; without one (a DuckDB collect) postings are exported.
            n = detect_on_spark(ctx.ws, plan, ctx.options.spark, ctx.options.spark_master, advance, timings,
                                not_portable, plane=ctx.spark_plane)
        elif ctx.options.engine == "duckdb":
            n = DuckDBEngine(ctx.ws).detect(plan, progress=advance, timings=timings)
        else:
            raise PipelineError(f"Unknown engine {ctx.options.engine!r}; use duckdb or spark.")
    per = dict(ctx.ws.sql("SELECT indicator_id, count(*) FROM hits GROUP BY 1 ORDER BY 1").fetchall())
    ctx.notes["detect"] = {"hits_per_indicator": {c.id: int(per.get(c.id, 0)) for c, _ in plan},
                           "seconds_per_indicator": {k: round(v, 4) for k, v in timings.items()}}
    ctx.notes["detect"]["engine"] = ctx.options.engine
    if not_portable:
        ctx.notes["detect"]["not_run_on_spark"] = not_portable
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
