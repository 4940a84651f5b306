"""The scoring contract: one rule that turns hits into alerts, defined here and nowhere else.

For each account:

1. per indicator, its strongest hit (highest score, then earliest window) stands for it;
2. per family, `s_f` is the highest score among its indicators, weighted by the family weight
   `w_f` (profile `scoring.weights`, default 1);
3. the combined score is the noisy-or `1 - prod_f (1 - min(1, w_f * s_f))`: independent families
   reinforce each other, a second hit in the same family adds nothing, and the score stays in [0, 1];
4. the account alerts when the combined score reaches `scoring.alert_threshold` (default 0.5)
   or when a decisive indicator fired (class attribute, or the profile's `scoring.decisive` list).

The `alert_reason` states the combined score, the threshold or decisive rule that made it alert,
and for each indicator its strongest hit in words. The role hypothesis is the role hint with the
largest total score among the indicators that fired (null when none carries a hint). Scores are
rounded to 1e-6 so that engines agree.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import polars as pl

from followmoney import registry
from followmoney.schema import ALERTS
from followmoney.workspace import Workspace


def combine(family_scores: dict[str, float], weights: dict[str, float]) -> float:
    """Noisy-or of weighted family scores, rounded to 1e-6."""
    keep = 1.0
    for family, s in family_scores.items():
        keep *= 1.0 - min(1.0, weights.get(family, 1.0) * s)
    return round(1.0 - keep, 6)


def score_alerts(ws: Workspace, scoring: dict[str, Any]) -> int:
    """Write the `alerts` table from `hits` and `indicator_plan`; returns the number of alerts."""
    threshold = float(scoring.get("alert_threshold", 0.5))
    hits = pl.from_arrow(ws.arrow(
        """SELECT h.account_id, h.indicator_id, h.score, h.value, h.window_start, h.window_end, h.params,
                  h.evidence_txn_ids, p.family, p.decisive, p.role_hint, p.weight
           FROM hits AS h JOIN indicator_plan AS p USING (indicator_id)
           ORDER BY h.account_id, h.indicator_id, h.score DESC, h.window_start"""))
    parties = dict(ws.sql("SELECT account_id, party_id FROM accounts WHERE party_id IS NOT NULL").fetchall())
    cols = [c.name for c in ALERTS]
    rows: list[dict[str, Any]] = []
    for (account,), group in hits.group_by(["account_id"], maintain_order=True):
        best = group.unique(subset=["indicator_id"], keep="first", maintain_order=True)
        fam: dict[str, float] = defaultdict(float)
        weights: dict[str, float] = {}
        roles: dict[str, float] = defaultdict(float)
        for r in best.iter_rows(named=True):
            fam[r["family"]] = max(fam[r["family"]], r["score"])
            weights[r["family"]] = r["weight"]
            if r["role_hint"]:
                roles[r["role_hint"]] += r["score"]
        score = combine(fam, weights)
        decisive = sorted(best.filter(pl.col("decisive"))["indicator_id"].to_list())
        if score < threshold and not decisive:
            continue
        why = [f"combined score {score:.2f}" + (f" >= threshold {threshold:.2f}" if score >= threshold else
                                                f" < threshold {threshold:.2f}")]
        if decisive:
            why.append("decisive: " + ", ".join(decisive))
        details = [
            f"{registry.get(r['indicator_id']).explain(r['value'], json.loads(r['params']))} (score {r['score']:.2f})"
            for r in best.iter_rows(named=True)
        ]
        evidence = {t for ids in group["evidence_txn_ids"].to_list() for t in ids}
        role = max(sorted(roles), key=lambda k: roles[k]) if roles else None
        rows.append({
            "account_id": account, "party_id": parties.get(account), "score": score, "rank": 0,
            "alert_reason": "; ".join(why) + ". " + "; ".join(details),
            "families": sorted(fam), "indicators": sorted(best["indicator_id"].to_list()),
            "first_ts": group["window_start"].min(), "last_ts": group["window_end"].max(),
            "n_evidence": len(evidence), "role_hypothesis": role,
        })
    rows.sort(key=lambda r: (-r["score"], r["account_id"]))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    schema = {"account_id": pl.String, "party_id": pl.String, "score": pl.Float64, "rank": pl.Int64,
              "alert_reason": pl.String, "families": pl.List(pl.String), "indicators": pl.List(pl.String),
              "first_ts": pl.Datetime("us"), "last_ts": pl.Datetime("us"), "n_evidence": pl.Int64,
              "role_hypothesis": pl.String}
    frame = pl.DataFrame(rows, schema=schema).select(cols)
    return ws.put("alerts", frame.to_arrow())
