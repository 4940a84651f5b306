"""Stage `score` (step 6: detect, escalate and combine signals; no single flag is conclusive).

Combines hits per account into alerts with the one documented rule of `followmoney.scoring`, an
`alert_reason` that explains it, and a role hypothesis.
"""

from __future__ import annotations

from followmoney.pipeline.stage import Context, Stage
from followmoney.scoring import score_alerts


def _run(ctx: Context) -> dict[str, int]:
    return {"alerts": score_alerts(ctx.ws, ctx.settings.get("scoring") or {})}


STAGE = Stage(
    name="score",
    step=6,
    theme="detect, escalate and combine signals",
    summary="combine hits per account into ranked alerts with reasons and a role hypothesis",
    needs=("hits", "indicator_plan", "accounts"),
    produces=("alerts",),
    run=_run,
)
