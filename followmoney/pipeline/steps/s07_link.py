"""Stage `link` (step 7: FIU-style analysis linking reports and accounts across institutions).

Normalises identifiers and reports the legitimately shared or popular ones that must link nothing
(`followmoney.network.identifiers`), aggregates transactions into the flow graph
(`followmoney.network.flows`, or on Spark, `followmoney.network.spark_flows`, when `collect` ran
there), and joins alerted accounts into suspect clusters through shared identifiers and suspicious
flows, with member roles, the edges that justify each membership, and a ranked summary
(`followmoney.network.clusters`).
"""

from __future__ import annotations

from followmoney.network.clusters import link_clusters
from followmoney.network.flows import build_flow_edges
from followmoney.network.identifiers import link_options, prepare_identifiers
from followmoney.pipeline.stage import Context, Stage


def _run(ctx: Context) -> dict[str, int]:
    options = link_options(ctx.settings)
    # Reuses the keys when an earlier stage (e.g. an indicator over shared identifiers) built them.
    facts = prepare_identifiers(ctx.ws, options)
    if ctx.spark_plane is not None:
        # Postings live on Spark: aggregate there, bring back only the edges.
        from followmoney.network.spark_flows import build_flow_edges_on_spark

        facts["flow_edges"] = build_flow_edges_on_spark(ctx.spark_plane, ctx.ws)
    else:
        facts["flow_edges"] = build_flow_edges(ctx.ws)
    facts.update(link_clusters(ctx.ws, options.max_accounts_per_identifier, options.min_shared_beneficiary_senders))
    ctx.notes["link"] = facts
    return {t: ctx.ws.count(t) for t in ("clusters", "cluster_edges", "cluster_summary", "identifier_keys",
                                          "identifier_exclusions", "flow_edges")}


STAGE = Stage(
    name="link",
    step=7,
    theme="FIU-style analysis: link reports and accounts across institutions",
    summary="join alerted accounts into suspect clusters via shared identifiers and flows",
    needs=("alerts", "identifiers", "postings", "accounts"),
    produces=("clusters", "cluster_edges", "cluster_summary", "identifier_keys", "identifier_exclusions",
              "flow_edges"),
    run=_run,
)
