"""Stage `trace` (step 8: run a parallel financial investigation).

Follows the money of every case (each suspect cluster and each alerted account outside a cluster)
downstream from its member accounts, time-respecting, with amounts attributed along paths by the
scan's rule (`proportional` by default, or `fifo`), for `trace_depth` payments (default 2). Paths
stop at cash-out, accounts outside the bank, asset purchases, crypto, another member of the case,
hubs and the depth limit; traced money still in an account at the end is `balance_left`. The
engine and the exact rules are in `followmoney.tracing`.

Writes `trace_flows` (attributed amounts per case, origin, hop and edge) and `trace_ends` (the
end points per case and origin), which `assets`, the case files and the report read.
"""

from __future__ import annotations

import polars as pl

from followmoney.errors import PipelineError
from followmoney.outputs.cases import list_cases
from followmoney.pipeline.stage import Context, Stage
from followmoney.tracing import RULES, aggregate_flows, trace_cases

FLOW_SCHEMA = {"case_id": pl.String, "origin": pl.String, "hop": pl.Int64, "from_account": pl.String,
               "to_account": pl.String, "end_kind": pl.String, "attributed": pl.Float64, "n_txns": pl.Int64,
               "first_ts": pl.Datetime("us"), "last_ts": pl.Datetime("us")}
END_SCHEMA = {"case_id": pl.String, "origin": pl.String, "end_point": pl.String, "end_kind": pl.String,
              "attributed": pl.Float64}


def _run(ctx: Context) -> dict[str, int]:
    rule, depth = ctx.options.trace_rule, int(ctx.options.trace_depth)
    if rule not in RULES or depth < 1:
        raise PipelineError(f"trace: rule must be one of {', '.join(RULES)} and depth at least 1 "
                            f"(got {rule!r}, {depth}).")
    flows: list[dict] = []
    ends: list[dict] = []
    cases = list_cases(ctx.ws)
    with ctx.progress.task("trace: following the money of each case", total=len(cases)) as advance:
        # All cases' transactions are read in one set-based pass; the replay is then per case.
        results = trace_cases(ctx.ws, {case.case_id: sorted(case.members) for case in cases}, "down", rule, depth,
                              ctx.options.since, ctx.options.until)
        for case in cases:
            result = results[case.case_id]
            flows += [{"case_id": case.case_id, **f} for f in aggregate_flows(result)]
            ends += [{"case_id": case.case_id, "origin": o, "end_point": e, "end_kind": k, "attributed": a}
                     for (o, e, k), a in result.end_totals().items()]
            advance(1)
    ctx.ws.put("trace_flows", pl.DataFrame(flows, schema=FLOW_SCHEMA).to_arrow())
    ctx.ws.put("trace_ends", pl.DataFrame(ends, schema=END_SCHEMA).to_arrow())
    ctx.notes["trace"] = {"rule": rule, "depth": depth, "cases": len(cases)}
    return {"trace_flows": ctx.ws.count("trace_flows"), "trace_ends": ctx.ws.count("trace_ends")}


STAGE = Stage(
    name="trace",
    step=8,
    theme="run a parallel financial investigation",
    summary="follow each case's money downstream, time-respecting, with amounts attributed by a stated rule",
    needs=("alerts", "clusters", "txns", "accounts"),
    produces=("trace_flows", "trace_ends"),
    run=_run,
)
