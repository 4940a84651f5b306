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


def _planted_scenarios():
    from followmoney.simulate.scenario import discover_scenarios

    return {name: cls for name, cls in discover_scenarios().items() if cls.plants}


def _unfired_plants(labels_path, hits: pl.DataFrame) -> tuple[int, list[tuple[str, str, str, str]]]:
    """(planted accounts checked, (scenario, role, account, indicator) planted but not fired)."""
    labels = pl.read_parquet(labels_path).filter(pl.col("expected_alert"))
    flagged = {(r["indicator_id"], r["account_id"]) for r in hits.select("indicator_id", "account_id").iter_rows(named=True)}
    missing = []
    checked = 0
    for name, cls in _planted_scenarios().items():
        mine = labels.filter(pl.col("scenario_id").str.contains(rf"^{name}-\d+$"))
        for role, ids in cls.plants.items():
            accounts = mine.filter(pl.col("role") == role)["account_id"].to_list()
            assert accounts, f"scenario {name} plants no expected-alert {role}"
            for account in accounts:
                checked += 1
                missing += [(name, role, account, i) for i in ids if (i, account) not in flagged]
    return checked, missing


def test_each_scenario_fires_the_indicators_it_plants(scanned, world):
    """Every expected-alert account of a planting role carries a hit of each indicator its scenario names."""
    checked, missing = _unfired_plants(world.paths["labels"], scanned.hits)
    assert checked > 0
    assert not missing, f"planted indicators that did not fire: {missing}"


def test_the_default_demo_shows_every_indicator_on_its_planted_accounts(tmp_path):
    """`followmoney demo` as a trainer runs it (default size, period and seed) plants and fires all 50."""
    from followmoney import api, registry

    world, result = api.demo(tmp_path / "demo")
    checked, missing = _unfired_plants(world.paths["labels"], result.hits)
    assert checked > 0
    assert not missing, f"planted indicators that did not fire in the demo: {missing}"
    assert set(result.hits["indicator_id"]) == {cls.id for cls in registry.all()}


def test_every_indicator_is_planted_by_some_scenario():
    """Trainers can demonstrate each indicator: some scenario plants it (ids must exist, too)."""
    from followmoney import registry

    registered = {cls.id for cls in registry.all()}
    planted = {i for cls in _planted_scenarios().values() for ids in cls.plants.values() for i in ids}
    assert planted <= registered, f"scenarios name unknown indicators: {sorted(planted - registered)}"
    assert registered <= planted, f"indicators no scenario plants: {sorted(registered - planted)}"
