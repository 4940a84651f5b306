"""Stage `link` (step 7: FIU-style analysis linking reports and accounts across institutions).

Joins alerted accounts into suspect clusters through shared identifiers and suspicious flows,
with member roles, the edges that justify each membership, and a cluster score (see
`followmoney.network.clusters`).
"""

from __future__ import annotations

from followmoney.network.clusters import link_clusters
from followmoney.pipeline.stage import Context, Stage


def _run(ctx: Context) -> dict[str, int]:
    cfg = ctx.settings.get("link") or {}
    facts = link_clusters(ctx.ws, int(cfg.get("max_accounts_per_identifier", 20)),
                          int(cfg.get("min_shared_beneficiary_senders", 2)))
    ctx.notes["link"] = facts
    return {"clusters": ctx.ws.count("clusters"), "cluster_edges": ctx.ws.count("cluster_edges")}


STAGE = Stage(
    name="link",
    step=7,
    theme="FIU-style analysis: link reports and accounts across institutions",
    summary="join alerted accounts into suspect clusters via shared identifiers and flows",
    needs=("alerts", "identifiers", "postings", "accounts"),
    produces=("clusters", "cluster_edges"),
    run=_run,
)
