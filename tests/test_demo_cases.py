"""Issue 6, done when: the report has one case per planted scenario instance, with the right members.

On the shared simulated world (`world`, `scanned` in conftest.py), every planted scenario instance
whose accounts the simulator labels `expected_alert` must end up as exactly one case:

* an instance with two or more such accounts: one cluster holds all of them;
* an instance with one: its cluster, or its own account case when it joins none;

and that case holds no account of another instance, of a look-alike or of the background
(accounts of the same instance that are not expected to alert, such as a controller joining as
common beneficiary, are welcome). The instances are read from the labels, so scenarios added
later are checked without editing this file.
"""

from __future__ import annotations

import polars as pl
import pytest

from followmoney.outputs.cases import list_cases
from followmoney.workspace import Workspace


@pytest.fixture(scope="module")
def cases(scanned):
    """The case list of the scanned world, as the case files and the report build it."""
    ws = Workspace(scanned.workspace, read_only=True)
    try:
        return list_cases(ws)
    finally:
        ws.close()


def _expected_instances(world) -> dict[str, set[str]]:
    labels = pl.read_parquet(world.paths["labels"]).filter(pl.col("expected_alert"))
    return {sid: set(group["account_id"]) for (sid,), group in labels.group_by(["scenario_id"])}


def test_the_world_plants_instances_of_several_scenarios(world):
    instances = _expected_instances(world)
    scenarios = {sid.rsplit("-", 1)[0] for sid in instances}
    assert len(scenarios) >= 5 and any(len(m) >= 2 for m in instances.values()), scenarios


def test_every_cluster_and_every_lone_alert_is_one_case(scanned, cases):
    clusters = {cid: set(g["account_id"]) for (cid,), g in scanned.clusters.group_by(["cluster_id"])}
    by_cluster = {c.case_id: set(c.members) for c in cases if c.kind == "cluster"}
    assert by_cluster == clusters
    lone = {c.case_id for c in cases if c.kind == "account"}
    clustered = set().union(*clusters.values()) if clusters else set()
    assert lone == {f"A-{a}" for a in scanned.alerts["account_id"] if a not in clustered}


def test_each_planted_instance_is_one_case_with_the_right_members(scanned, world, cases):
    labels = pl.read_parquet(world.paths["labels"])
    instance_of = dict(zip(labels["account_id"], labels["scenario_id"], strict=True))
    case_of = {a: c for c in cases for a in c.members}
    alerted = set(scanned.alerts["account_id"])
    problems = []
    for sid, members in sorted(_expected_instances(world).items()):
        silent = sorted(members - alerted)
        if silent:
            problems.append(f"{sid}: {silent} did not alert, so no case can hold them")
            continue
        held_by = {case_of[m].case_id for m in members}
        if len(held_by) != 1:
            problems.append(f"{sid}: its {len(members)} accounts are split over {len(held_by)} cases {sorted(held_by)}")
            continue
        case = case_of[next(iter(members))]
        if len(members) >= 2 and case.kind != "cluster":
            problems.append(f"{sid}: not clustered")
        foreign = sorted(f"{a} ({instance_of.get(a, 'background')})" for a in case.members
                         if a not in members and instance_of.get(a) != sid)
        if foreign:
            problems.append(f"{sid}: case {case.case_id} also holds {foreign}")
    assert not problems, "\n".join(problems)
