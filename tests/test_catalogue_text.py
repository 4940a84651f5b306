"""Text, merchant, profile and external-list indicators: lists, skips, profile extension, the world."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from followmoney import registry
from followmoney.lists import default_lists
from followmoney.pipeline.stage import Context, ScanOptions
from followmoney.pipeline.steps import s01_scope, s02_collect, s04_indicators
from followmoney.progress import Progress
from followmoney.testing import run_rows
from followmoney.workspace import Workspace

TEXT_IDS = ("RUN01", "RUN02", "RUN03", "RUN04", "RUN05", "RUN06", "RUN07", "RUN08", "RUN09", "PAY05", "PAY06", "GEO05",
            "LUX01", "BUS01", "LAB01", "EXT01", "EXT02", "BUS02", "BUS03", "GEO06", "PAY07", "RUN10")
USER_LISTS = {"ad_identifiers"}
"""Lists that only the user can supply: no default ships."""

README = Path(__file__).resolve().parents[1] / "followmoney" / "data" / "lists" / "README.md"


def _ad_rows(name: str) -> pa.Table:
    return pa.table({"txn_id": ["t1", "t2", "t3"],
                     "ts": ["2024-01-01T10:00", "2024-01-05T10:00", "2024-01-09T10:00"],
                     "amount": [40.0, 40.0, 40.0], "currency": ["USD"] * 3, "payer_account": ["A1"] * 3,
                     "beneficiary_account": ["M1"] * 3, "channel": ["card"] * 3, "counterparty_name": [name] * 3})


def test_every_list_an_indicator_needs_ships_or_is_documented_as_user_supplied():
    shipped = default_lists()
    needed = {name for cls in registry.all() if cls.id in TEXT_IDS for name in cls.requires_lists}
    assert needed - USER_LISTS <= set(shipped), f"no default for {sorted(needed - USER_LISTS - set(shipped))}"
    assert not USER_LISTS & set(shipped)
    text = README.read_text(encoding="utf-8")
    for name in (needed | set(shipped)) - {"crypto_exchanges"}:
        assert f"`{name}`" in text, f"{name} is not described in the lists README"
    for name, rows in shipped.items():
        assert rows, f"list {name} is empty"
        assert all(v == v.strip().lower() and v for _, v, _ in rows), f"list {name} has unnormalised values"


def test_adult_processors_are_tagged():
    tags = {v: t for _, v, t in default_lists()["payment_processors"]}
    assert "adult" in tags.values() and None in tags.values()


def test_a_profile_list_extends_the_default_and_a_new_site_then_matches(tmp_path: Path):
    rows = _ad_rows("NEWSITE ESCORT ADS")
    cls = registry.get("RUN01")
    assert run_rows(cls, rows) == []
    extra = tmp_path / "sites.csv"
    extra.write_text("value,tag\nnewsite escort,adult\n", encoding="utf-8")
    hits = run_rows(cls, rows, profile={"lists": {"ad_sites": {"path": str(extra)}}})
    assert [h["account_id"] for h in hits] == ["A1"]
    # Extending keeps the defaults: a listed site still matches.
    assert run_rows(cls, _ad_rows("SKIPTHEGAMES.COM"), profile={"lists": {"ad_sites": {"path": str(extra)}}})


def test_replacing_a_list_drops_the_defaults(tmp_path: Path):
    only = tmp_path / "only.csv"
    only.write_text("value\nsomewhere else\n", encoding="utf-8")
    profile = {"lists": {"ad_sites": {"path": str(only), "mode": "replace"}}}
    assert run_rows(registry.get("RUN01"), _ad_rows("SKIPTHEGAMES.COM"), profile=profile) == []


def _plan(rows: pa.Table, parties: pa.Table | None) -> dict[str, tuple[bool, str]]:
    ws = Workspace(":memory:", threads=1)
    try:
        options = ScanOptions(sources=[rows], parties=[parties] if parties is not None else None,
                              indicators=list(TEXT_IDS))
        ctx = Context(ws=ws, options=options, out=Path("."), progress=Progress(False))
        for stage in (s01_scope, s02_collect, s04_indicators):
            stage.STAGE.run(ctx)
        return {r[0]: (r[1], r[2]) for r in ws.sql(
            "SELECT indicator_id, runnable, skip_reason FROM indicator_plan").fetchall()}
    finally:
        ws.close()


def test_missing_columns_parties_and_lists_skip_with_the_reason_never_crash():
    bare = pa.table({"txn_id": ["t1"], "ts": ["2024-01-01T10:00"], "amount": [10.0], "currency": ["USD"],
                     "payer_account": ["A1"], "beneficiary_account": ["B1"], "channel": ["p2p"]})
    plan = _plan(bare, None)
    assert set(plan) == set(TEXT_IDS)
    assert not plan["RUN01"][0] and "counterparty_name" in plan["RUN01"][1]
    assert not plan["PAY05"][0] and "account_type" in plan["PAY05"][1]
    assert not plan["EXT01"][0] and "ad_identifiers" in plan["EXT01"][1]
    parties = pa.table({"account_id": ["A1"], "phone": ["702 555 0100"], "email": ["a@b.test"]})
    with_parties = _plan(bare, parties)
    assert with_parties["EXT01"] == (False, "lists empty or missing: ad_identifiers")


@pytest.mark.parametrize("ind", TEXT_IDS)
def test_text_indicators_match_names_once_per_distinct_value(ind):
    # Design rule: a list match joins a CTE over DISTINCT values back to postings, so another rule
    # costs a scan of the distinct names, not another text scan of every posting.
    sql = registry.get(ind).sql or ""
    if "JOIN lists" in sql:
        assert "SELECT DISTINCT" in sql


NEAR_MISS = {
    "short_stay-lookalike-a-": ("RUN02", "RUN01"),
    "short_stay-lookalike-b-": ("GEO05", "PAY05"),
    "storefront-lookalike-a-": ("RUN06", "RUN04"),
    "storefront-lookalike-b-": ("RUN07", "LAB01"),
}
"""Per look-alike kind: the text indicator that fires and the one it misses by one step."""


@pytest.mark.parametrize("scenario", ["short_stay", "storefront"])
def test_planted_accounts_fire_several_families_and_look_alikes_at_most_one(scanned, world, scenario):
    labels = pl.read_parquet(world.paths["labels"]).filter(pl.col("scenario_id").str.starts_with(scenario))
    assert labels.height, f"the {scenario} scenario must be planted"
    hits = scanned.hits.filter(pl.col("indicator_id").is_in(TEXT_IDS)).join(labels, on="account_id")
    families = {r.id: r.family for r in registry.all()}
    per: dict[str, set[str]] = {}
    for r in hits.iter_rows(named=True):
        per.setdefault(r["account_id"], set()).add(r["indicator_id"])
    alerts = dict(zip(scanned.alerts["account_id"], scanned.alerts["role_hypothesis"], strict=True))
    for row in labels.iter_rows(named=True):
        fired = per.get(row["account_id"], set())
        fams = {families[i] for i in fired}
        if row["expected_alert"]:
            assert len(fams) >= 3, f"{row['account_id']} fired only {sorted(fired)}"
            if row["role"] == "victim":
                assert alerts[row["account_id"]] == "victim"
        else:
            assert len(fams) <= 1, f"look-alike {row['account_id']} fired {sorted(fired)}"
            kind = next(k for k in NEAR_MISS if row["scenario_id"].startswith(k))
            fires, misses = NEAR_MISS[kind]
            assert fires in fired and misses not in fired, f"{row['account_id']} fired {sorted(fired)}"


def test_background_never_fires_three_families_of_text_indicators(scanned, world):
    labels = pl.read_parquet(world.paths["labels"])
    families = {r.id: r.family for r in registry.all()}
    hits = scanned.hits.filter(pl.col("indicator_id").is_in(TEXT_IDS)
                               & ~pl.col("account_id").is_in(labels["account_id"].to_list()))
    per: dict[str, set[str]] = {}
    for r in hits.iter_rows(named=True):
        per.setdefault(r["account_id"], set()).add(families[r["indicator_id"]])
    assert all(len(f) < 3 for f in per.values())
