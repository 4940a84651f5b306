"""Stage `indicators` (step 4: establish an indicator set adapted to the local context).

Resolves the catalogue for this case: the selection (ids, names, families, typologies), the
parameters (indicator defaults < jurisdiction and profile < overrides, every invalid value
reported at once), and for each indicator whether the data can support it. An indicator whose
columns are absent or empty is skipped with the reason, never crashed on.
"""

from __future__ import annotations

import json

from followmoney import registry
from followmoney.errors import ParameterError
from followmoney.indicator import FAMILIES
from followmoney.params import resolve
from followmoney.pipeline.stage import Context, Stage
from followmoney.schema import TRANSACTIONS

_OPTIONAL = {c.name for c in TRANSACTIONS if not c.required}


def available_columns(ctx: Context) -> set[str]:
    """Transaction columns that are present and hold at least one value."""
    cols = ctx.ws.columns("txns")
    optional = [c for c in cols if c in _OPTIONAL]
    present = {c for c in cols if c not in _OPTIONAL}
    if optional:
        counts = ctx.ws.sql("SELECT " + ", ".join(f'count("{c}")' for c in optional) + " FROM txns").fetchone()
        present |= {c for c, n in zip(optional, counts, strict=True) if n}
    return present


def available_party_columns(ctx: Context) -> set[str]:
    """Parties columns that hold at least one value (none when no parties table was given)."""
    if not ctx.ws.has("parties"):
        return set()
    cols = ctx.ws.columns("parties")
    counts = ctx.ws.sql("SELECT " + ", ".join(f'count("{c}")' for c in cols) + " FROM parties").fetchone()
    return {c for c, n in zip(cols, counts, strict=True) if n}


def _run(ctx: Context) -> dict[str, int]:
    settings = ctx.settings
    selected = registry.select(ctx.options.indicators)
    profile_params = settings.get("indicators") or {}
    unknown = sorted((set(profile_params) | set(ctx.options.overrides)) - {c.id for c in registry.all()})
    problems = [f"Parameters are set for {k}, which is not an indicator id." for k in unknown]
    scoring = settings.get("scoring") or {}
    decisive = scoring.get("decisive")
    weights = scoring.get("weights") or {}
    present = available_columns(ctx)
    party_present = available_party_columns(ctx)
    lists = set(r[0] for r in ctx.ws.sql("SELECT DISTINCT list_name FROM lists").fetchall()) if ctx.ws.has("lists") else set()
    rows = []
    for cls in selected:
        params = resolve(cls.id, cls.params, profile_params.get(cls.id), ctx.options.overrides.get(cls.id),
                         problems=problems)
        reasons = []
        if missing_cols := sorted(set(cls.requires) - present):
            reasons.append(f"columns absent or empty: {', '.join(missing_cols)}")
        if missing_party := sorted(set(cls.requires_parties) - party_present):
            reasons.append(f"parties columns absent or empty: {', '.join(missing_party)}")
        if missing_lists := sorted(set(cls.requires_lists) - lists):
            reasons.append(f"lists empty or missing: {', '.join(missing_lists)}")
        missing = bool(reasons)
        reason = "; ".join(reasons)
        rows.append((cls.id, cls.name, cls.family, "kernel" if cls.kernel is not None else "sql", not missing, reason,
                     json.dumps(params, sort_keys=True),
                     cls.decisive if decisive is None else cls.id in decisive,
                     cls.role_hint, float(weights.get(cls.family, 1.0)), FAMILIES[cls.family].letter))
    if problems:
        raise ParameterError(problems)
    ctx.ws.sql("""CREATE OR REPLACE TABLE indicator_plan (indicator_id VARCHAR, name VARCHAR, family VARCHAR,
                  implementation VARCHAR, runnable BOOLEAN, skip_reason VARCHAR, params VARCHAR, decisive BOOLEAN,
                  role_hint VARCHAR, weight DOUBLE, family_letter VARCHAR)""")
    if rows:
        ctx.ws.con.executemany("INSERT INTO indicator_plan VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    skipped = [{"indicator_id": r[0], "reason": r[5]} for r in rows if not r[4]]
    ctx.notes["indicators"] = {"selected": len(rows), "runnable": len(rows) - len(skipped), "skipped": skipped}
    for s in skipped:
        ctx.log.warning("indicator %s skipped: %s", s["indicator_id"], s["reason"])
    return {"indicator_plan": len(rows)}


STAGE = Stage(
    name="indicators",
    step=4,
    theme="establish an indicator set adapted to the local context",
    summary="select indicators, resolve parameters, check the data supports each",
    needs=("scope", "txns"),
    produces=("indicator_plan",),
    run=_run,
)
