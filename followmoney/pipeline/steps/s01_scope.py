"""Stage `scope` (step 1: understand the THB risk picture of the jurisdiction and sector).

Resolves the case's scope: the jurisdiction profile (reporting currency, thresholds, time zone),
the user's profile, the period, the merchant dictionaries and the name lists that rules share. The resolved
profile is stored in the workspace so later stages, and later runs on the same workspace, use it.
"""

from __future__ import annotations

import csv
from importlib import resources

import pyarrow as pa

from followmoney.lists import load_lists
from followmoney.pipeline.stage import Context, Stage
from followmoney.profile import load_profile


def _run(ctx: Context) -> dict[str, int]:
    o = ctx.options
    period = {k: v for k, v in (("since", o.since), ("until", o.until)) if v}
    overrides = {"period": period} if period else None
    profile = load_profile(o.profile, o.jurisdiction, overrides)
    ctx.ws.set_meta("profile", profile.settings)
    ctx.ws.set_meta("profile_sources", profile.sources)
    ctx.ws.set_meta("profile_digest", profile.digest)
    s = profile.settings
    rows = [
        ("jurisdiction", str(s["jurisdiction"] or "none")),
        ("reporting_currency", s["reporting_currency"]),
        ("timezone", s["timezone"]),
        ("period_since", str(s["period"]["since"] or "")),
        ("period_until", str(s["period"]["until"] or "")),
        ("profile_sources", ", ".join(profile.sources)),
        ("profile_sha256", profile.digest),
    ]
    ctx.ws.sql("CREATE OR REPLACE TABLE scope (key VARCHAR, value VARCHAR)")
    ctx.ws.con.executemany("INSERT INTO scope VALUES (?, ?)", rows)
    text = resources.files("followmoney.data").joinpath("mcc_groups.csv").read_text(encoding="utf-8")
    groups = list(csv.DictReader(text.splitlines()))
    # One Arrow hand-off instead of a row-by-row insert (which cost half a second).
    n = ctx.ws.put("mcc_groups", pa.table({"mcc": [g["mcc"] for g in groups],
                                            "merchant_group": [g["merchant_group"] for g in groups]}))
    return {"scope": len(rows), "mcc_groups": n, "lists": load_lists(ctx.ws, s)}


STAGE = Stage(
    name="scope",
    step=1,
    theme="understand the THB risk picture of the jurisdiction and sector",
    summary="resolve jurisdiction, profile, period and merchant dictionaries",
    needs=(),
    produces=("scope", "mcc_groups", "lists"),
    run=_run,
)
