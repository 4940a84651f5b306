"""The done-when check at scale: 10^6 simulated transactions with a seed no test tunes against."""

from __future__ import annotations

import polars as pl
import pytest

import followmoney
from followmoney.simulate import simulate


@pytest.mark.slow
def test_million_transactions_planted_found_and_nothing_else(tmp_path):
    world = simulate(tmp_path / "world", accounts=5600, days=180, seed=424242)
    assert world.counts["transactions"] >= 1_000_000
    result = followmoney.scan(str(world.paths["transactions"]), parties=str(world.paths["parties"]),
                              out=tmp_path / "scan")
    labels = pl.read_parquet(world.paths["labels"])
    expected = set(labels.filter(pl.col("expected_alert"))["account_id"])
    alerted = set(result.alerts["account_id"])
    assert expected <= alerted, sorted(expected - alerted)
    assert alerted <= expected, sorted(alerted - expected)
    # The two proving indicators find their own scenarios: structurers by CSH01, mules by FLW01.
    flagged = {(r["indicator_id"], r["account_id"]) for r in result.hits.iter_rows(named=True)}
    planted = labels.filter(pl.col("expected_alert") & pl.col("scenario_id").str.contains(r"^(structuring|pass_through)-\d+$"))
    assert planted.height > 0
    for row in planted.iter_rows(named=True):
        wanted = "CSH01" if row["scenario_id"].startswith("structuring") else "FLW01"
        assert (wanted, row["account_id"]) in flagged, row
