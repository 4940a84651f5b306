"""Stage `link` (step 7: FIU-style analysis linking reports and accounts across institutions).

Normalises identifiers and reports the legitimately shared or popular ones that must link nothing
(`followmoney.network.identifiers`), aggregates transactions into the flow graph
(`followmoney.network.flows`), and joins alerted accounts into suspect clusters through shared
identifiers and suspicious flows, with member roles, the edges that justify each membership, and a
ranked summary (`followmoney.network.clusters`).
"""

from __future__ import annotations

from followmoney.network.clusters import link_clusters
from followmoney.network.flows import build_flow_edges
from followmoney.network.identifiers import build_identifier_keys, country_code
from followmoney.pipeline.stage import Context, Stage


def _run(ctx: Context) -> dict[str, int]:
    cfg = ctx.settings.get("link") or {}
    cap = int(cfg.get("max_accounts_per_identifier", 20))
    facts = build_identifier_keys(ctx.ws, default_country_code=country_code(ctx.settings),
                                  max_accounts_per_identifier=cap,
                                  max_units_per_building=int(cfg.get("max_units_per_building", 6)),
                                  extra_exclusions=cfg.get("exclude_identifiers") or ())
    facts["flow_edges"] = build_flow_edges(ctx.ws)
    facts.update(link_clusters(ctx.ws, cap, int(cfg.get("min_shared_beneficiary_senders", 2))))
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
