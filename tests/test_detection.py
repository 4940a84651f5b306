"""Planted typologies must be found and clean look-alikes must not, on the shared simulated world."""

from __future__ import annotations

import polars as pl


def test_every_planted_account_alerts_and_nothing_else(scanned, world):
    labels = pl.read_parquet(world.paths["labels"])
    expected = set(labels.filter(pl.col("expected_alert"))["account_id"])
    alerted = set(scanned.alerts["account_id"])
    assert expected, "the world must plant something"
    assert expected <= alerted, f"missed: {sorted(expected - alerted)}"
    assert alerted <= expected, f"false alerts: {sorted(alerted - expected)}"
    lookalikes = set(labels.filter(pl.col("role") == "look_alike")["account_id"])
    assert lookalikes and not lookalikes & alerted


def test_each_indicator_finds_its_own_scenario(scanned, world):
    labels = pl.read_parquet(world.paths["labels"]).filter(pl.col("expected_alert"))
    hits = scanned.hits.join(labels, on="account_id")
    by = {(r["indicator_id"], r["scenario_id"].split("-")[0]) for r in hits.iter_rows(named=True)}
    assert ("CSH01", "structuring") in by
    assert ("FLW01", "pass_through") in by


def test_pass_through_controllers_join_their_mules_cluster(scanned, world):
    labels = pl.read_parquet(world.paths["labels"]).filter(pl.col("scenario_id").str.contains(r"^pass_through-\d+$"))
    clusters = scanned.clusters
    for sid, group in labels.group_by("scenario_id"):
        members = clusters.filter(pl.col("account_id").is_in(group["account_id"].to_list()))
        assert members["cluster_id"].n_unique() == 1, f"{sid} should form one cluster"
        roles = dict(zip(members["account_id"], members["role"], strict=True))
        expected = dict(zip(group["account_id"], group["role"], strict=True))
        assert roles == expected


def test_feedback_measures_against_labels(scanned):
    import duckdb

    con = duckdb.connect(str(scanned.workspace), read_only=True)
    try:
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT indicator_id, accounts_flagged, true_positives, precision, recall FROM feedback").fetchall()}
    finally:
        con.close()
    flagged, tp, precision, recall = rows["(alerts)"]
    assert flagged == tp == scanned.alerts.height
    assert precision == 1.0 and recall == 1.0
