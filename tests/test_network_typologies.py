"""Network typologies planted by the simulator are found: per typology, and on flows alone.

Two checks of the network issue's done-when list:

* on the shared world (session fixtures), each flow typology's planted member accounts carry a hit
  of the indicator that describes it, recall >= 0.9 per typology;
* "works on flows alone": a world without a parties table whose planted amounts are drawn from the
  range of ordinary payments (a simulator config override of the scenarios' amount parameters),
  scanned with the indicators' amount floors lowered into that range, so that only shape and timing
  can find the typologies: recall >= 0.9 per typology and precision >= 0.6 of the accounts flagged.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml

TYPOLOGIES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "fan_in": ("collector_network", ("victim",), "NET01"),
    "collector_forwarder": ("collector_network", ("victim",), "NET03"),
    "fan_out": ("gather_scatter", ("controller",), "NET02"),
    "gather_scatter": ("gather_scatter", ("controller",), "NET06"),
    "cycle": ("layering_ring", ("controller", "mule"), "NET04"),
    "scatter_gather": ("layering_ring", ("front_business",), "NET05"),
    "layering": ("layering_ring", ("controller", "front_business"), "NET07"),
    "funnel": ("pass_through", ("mule",), "FLW01"),
    "pooled_salary": ("labour_pool", ("victim",), "NET08"),
}
"""Typology -> (scenario planting it, roles of its member accounts, indicator that describes it).

Members are the scenario's expected-alert accounts of those roles in true instances (never
look-alikes). A funnel account is the pass-through mule: money in from several payers, straight out."""

FLOW_TYPOLOGIES = tuple(t for t in TYPOLOGIES if t != "pooled_salary")
"""Typologies defined by shape and timing only (pooled salary needs payroll memos)."""

PLAIN_AMOUNTS: dict[str, dict] = {
    "collector_network": {"payment_amount": [100, 450]},  # background p2p: 5-450
    "pass_through": {"p2p_inflow_amount": [500, 900], "cash_inflow_amount": [500, 900]},
    "layering_ring": {"wire_amount": [1500, 2700]},
    "gather_scatter": {"sender_amount": [300, 900]},
}
"""Scenario amount parameters drawn from the range of the background's own payments instead
(`defaults.yml`: p2p 5-450, student allowances by p2p 300-900, cash deposits 20-900, rents about
750-1,350, salaries 2,400-14,000), so no planted amount stands out: the largest planted
account-to-account payment is a wire of at most 2,700 (split into legs of 300-900, gathered and
returned), most are below 900."""

AMOUNT_FLOORS: dict[str, dict] = {
    "NET02": {"min_total": 1000.0},
    "NET04": {"min_amount": 300.0},
    "NET05": {"min_amount": 300.0},
    "NET07": {"min_amount": 300.0},
}
"""Amount floors lowered into the ordinary range, so that amounts cannot separate planted from
background accounts (FLW01 keeps its 500, below the background's student allowances, rents and
cash deposits). Floors of zero are not a fair test: pass-through then flags every account whose
small inflows are spent by card within two days (measured: 633 of 800 accounts at a floor of 1)."""


def _members(labels: pl.DataFrame, scenario: str, roles: tuple[str, ...]) -> set[str]:
    planted = labels.filter(pl.col("scenario_id").str.contains(rf"^{scenario}-\d+$") & pl.col("role").is_in(roles)
                            & pl.col("expected_alert"))
    return set(planted["account_id"])


def _recall(hits: pl.DataFrame, labels: pl.DataFrame, typologies: tuple[str, ...]) -> dict[str, float]:
    flagged = set(hits.select("indicator_id", "account_id").iter_rows())
    recall = {}
    for name in typologies:
        scenario, roles, indicator = TYPOLOGIES[name]
        members = _members(labels, scenario, roles)
        assert members, f"no planted member of {name} ({scenario} {roles})"
        recall[name] = sum((indicator, a) in flagged for a in members) / len(members)
    return recall


def test_each_flow_typology_is_found_on_the_shared_world(scanned, world):
    labels = pl.read_parquet(world.paths["labels"])
    recall = _recall(scanned.hits, labels, tuple(TYPOLOGIES))
    assert all(r >= 0.9 for r in recall.values()), recall


def test_typology_members_are_not_look_alikes():
    # The mapping names roles that scenarios plant; a look-alike role would make recall meaningless.
    assert all("look_alike" not in roles for _, roles, _ in TYPOLOGIES.values())


@pytest.fixture(scope="module")
def flows_only(tmp_path_factory: pytest.TempPathFactory):
    """A small world of the flow scenarios with ordinary amounts, scanned without parties, amount-blind."""
    import followmoney
    from followmoney.simulate import simulate
    from followmoney.simulate.scenario import discover_scenarios

    keep = {TYPOLOGIES[t][0] for t in FLOW_TYPOLOGIES}
    config = {"scenarios": {name: {"enabled": name in keep, **({"params": PLAIN_AMOUNTS[name]}
                                                             if name in PLAIN_AMOUNTS else {})}
                            for name in discover_scenarios()}}
    folder: Path = tmp_path_factory.mktemp("flows_only")
    (folder / "config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    sim = simulate(folder / "world", accounts=800, days=180, seed=23, config=folder / "config.yml")
    indicators = sorted({TYPOLOGIES[t][2] for t in FLOW_TYPOLOGIES})
    result = followmoney.scan(str(sim.paths["transactions"]), out=folder / "out", indicators=indicators,
                              overrides=AMOUNT_FLOORS, to_stage="detect", seed=23)
    return sim, result


def test_planted_amounts_look_ordinary(flows_only):
    sim, _ = flows_only
    txns = pl.read_parquet(sim.paths["transactions"])
    label_txns = pl.read_parquet(sim.paths["label_txns"])
    planted = txns.join(label_txns.filter(~pl.col("scenario_id").str.contains("lookalike")), on="txn_id")
    flows = planted.filter(pl.col("channel").is_in(["p2p", "transfer", "wire"]))
    assert flows.height > 0
    # Every planted account-to-account payment is within the background's ordinary range (a
    # salary-sized wire or its return at most), and most are the size of everyday p2p payments.
    assert flows["amount"].max() <= 2700
    assert flows["amount"].median() <= 900


def _precision(hits: pl.DataFrame, labels: pl.DataFrame, indicators: set[str]) -> tuple[float, list[str]]:
    planted = set(labels.filter(~pl.col("scenario_id").str.contains("lookalike")
                                & (pl.col("role") != "look_alike"))["account_id"])
    flagged = set(hits.filter(pl.col("indicator_id").is_in(sorted(indicators)))["account_id"])
    return len(flagged & planted) / max(len(flagged), 1), sorted(flagged - planted)


def test_flow_typologies_are_found_on_flows_alone(flows_only):
    sim, result = flows_only
    labels = pl.read_parquet(sim.paths["labels"])
    recall = _recall(result.hits, labels, FLOW_TYPOLOGIES)
    assert all(r >= 0.9 for r in recall.values()), recall
    # Fan-out is measured on its own below: payroll is fan-out by shape.
    shapes = {TYPOLOGIES[t][2] for t in FLOW_TYPOLOGIES if t != "fan_out"}
    precision, false = _precision(result.hits, labels, shapes)
    assert precision >= 0.6, (precision, false[:20])


def test_fan_out_is_precise_on_flows_alone(flows_only):
    """NET02 leaves ACH out: with it, every small employer paying 8+ wages a week was a fan-out (2 of 18 true)."""
    sim, result = flows_only
    labels = pl.read_parquet(sim.paths["labels"])
    precision, false = _precision(result.hits, labels, {"NET02"})
    assert precision >= 0.6, (precision, false[:20])
