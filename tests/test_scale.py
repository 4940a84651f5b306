"""The done-when checks at scale: 10^6 simulated transactions with a seed no test tunes against."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from conftest import world_profile

import followmoney
from followmoney.simulate import simulate
from followmoney.simulate.scenario import discover_scenarios


@pytest.mark.slow
def test_million_transactions_planted_found_and_background_quiet(tmp_path):
    world = simulate(tmp_path / "world", accounts=5600, days=180, seed=424242)
    assert world.counts["transactions"] >= 1_000_000
    result = followmoney.scan(str(world.paths["transactions"]), parties=str(world.paths["parties"]),
                              out=tmp_path / "scan", profile=world_profile(world))
    labels = pl.read_parquet(world.paths["labels"])
    expected = set(labels.filter(pl.col("expected_alert"))["account_id"])
    lookalikes = set(labels.filter(pl.col("role") == "look_alike")["account_id"]) - expected
    alerted = set(result.alerts["account_id"])

    # Recall: every planted account alerts.
    assert expected <= alerted, sorted(expected - alerted)
    # Near-miss look-alikes: below 10 % flagged.
    assert len(lookalikes & alerted) <= 0.10 * len(lookalikes), sorted(lookalikes & alerted)

    con = duckdb.connect(str(result.workspace), read_only=True)
    try:
        everyone = {r[0] for r in con.execute("SELECT account_id FROM accounts WHERE is_customer").fetchall()}
        scores = dict(con.execute("SELECT account_id, score FROM account_scores").fetchall())
    finally:
        con.close()
    background = everyone - set(labels["account_id"])
    assert len(background) > 4000
    # No more than 1 % of background accounts alert.
    assert len(background & alerted) <= 0.01 * len(background), sorted(background & alerted)[:20]
    # Every planted account scores above the 99th percentile of background accounts (no hit = 0).
    bg = pl.Series([scores.get(a, 0.0) for a in background])
    p99 = bg.quantile(0.99, "higher")
    low = {a: scores.get(a, 0.0) for a in expected if scores.get(a, 0.0) <= p99}
    assert not low, f"planted accounts at or below the background p99 {p99}: {low}"

    # Each scenario's planted indicators fire on its planted accounts.
    flagged = {(r["indicator_id"], r["account_id"]) for r in result.hits.iter_rows(named=True)}
    missing = []
    for name, cls in discover_scenarios().items():
        mine = labels.filter(pl.col("scenario_id").str.contains(rf"^{name}-\d+$") & pl.col("expected_alert"))
        for role, ids in cls.plants.items():
            for account in mine.filter(pl.col("role") == role)["account_id"]:
                missing += [(name, role, account, i) for i in ids if (i, account) not in flagged]
    assert not missing, missing
