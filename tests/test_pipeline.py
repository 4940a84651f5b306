"""Stage order, resuming, partial runs and the manifest."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import polars as pl
import pytest

import followmoney
from followmoney.errors import PipelineError
from followmoney.pipeline.runner import select_stages, stage_names
from followmoney.pipeline.steps import STAGES

STEPS_MD_ORDER = ["scope", "collect", "share", "indicators", "detect", "score", "link", "trace", "assets", "report",
                  "feedback"]


def test_stage_order_is_the_guides_order():
    assert stage_names() == STEPS_MD_ORDER
    assert [s.step for s in STAGES] == list(range(1, 12))


def test_every_stage_module_says_which_step_it_serves():
    import importlib

    for n, s in enumerate(STAGES, start=1):
        module = importlib.import_module(f"followmoney.pipeline.steps.s{n:02d}_{s.name}")
        assert module.STAGE is s
        assert f"(step {n}:" in (module.__doc__ or "")


def test_select_stages_bounds_and_errors():
    assert [s.name for s in select_stages("score", "link")] == ["score", "link"]
    assert [s.name for s in select_stages(None, "collect")] == ["scope", "collect"]
    with pytest.raises(PipelineError, match="Unknown stage"):
        select_stages("nope", None)
    with pytest.raises(PipelineError, match="comes after"):
        select_stages("report", "score")


def test_to_stage_then_from_stage_equals_a_full_run(small_csv: Path, tmp_path: Path):
    full = followmoney.scan(str(small_csv), out=tmp_path / "full")
    part = followmoney.scan(str(small_csv), out=tmp_path / "part", to_stage="detect")
    assert [s["name"] for s in part.manifest["stages"]] == STEPS_MD_ORDER[:5]
    assert part.alerts.height == 0 and part.hits.height == full.hits.height
    assert not (tmp_path / "part" / "alerts.parquet").exists()
    resumed = followmoney.scan(workspace=part.workspace, out=tmp_path / "part", from_stage="score")
    assert [s["name"] for s in resumed.manifest["stages"]] == STEPS_MD_ORDER
    cols = ["account_id", "score", "rank", "alert_reason", "indicators"]
    assert resumed.alerts.select(cols).equals(full.alerts.select(cols))
    assert resumed.clusters.equals(full.clusters)


def test_from_stage_needs_a_workspace(tmp_path: Path):
    with pytest.raises(PipelineError, match="needs a saved workspace"):
        followmoney.scan(out=tmp_path, from_stage="score")


def test_from_stage_checks_the_artefacts_it_needs(small_csv: Path, tmp_path: Path):
    part = followmoney.scan(str(small_csv), out=tmp_path, to_stage="collect")
    with pytest.raises(PipelineError, match="Stage detect needs indicator_plan"):
        followmoney.scan(workspace=part.workspace, out=tmp_path, from_stage="detect")


def test_manifest_records_everything_needed_to_reproduce(scanned, world):
    m = json.loads((scanned.out / "manifest.json").read_text())
    assert m == json.loads(json.dumps(scanned.manifest, default=str))
    (tx,) = m["inputs"]["transactions"]
    assert tx["sha256"] == hashlib.sha256(Path(world.paths["transactions"]).read_bytes()).hexdigest()
    assert tx["read"] == tx["loaded"] + tx["quarantined"] == world.counts["transactions"]
    assert m["reconciliation"]["balanced"]
    assert set(m["versions"]) >= {"python", "followmoney", "duckdb", "numba", "polars", "pyarrow", "networkx"}
    assert m["parameters"]["CSH01"]["threshold"] == 10000.0
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{12}", m["catalogue_version"])
    assert m["seed"] == 11
    assert [s["name"] for s in m["stages"]] == STEPS_MD_ORDER
    for s in m["stages"]:
        assert s["seconds"] >= 0 and s["produced"], f"stage {s['name']} produced nothing"
    produced = {s["name"]: s["produced"] for s in m["stages"]}
    assert produced["collect"]["txns"] == world.counts["transactions"]
    assert produced["detect"]["hits"] == scanned.hits.height
    assert produced["score"]["alerts"] == scanned.alerts.height
    assert m["row_counts"]["postings"] > m["row_counts"]["txns"]


def test_same_input_same_output(small_csv: Path, tmp_path: Path):
    a = followmoney.scan(str(small_csv), out=tmp_path / "a")
    b = followmoney.scan(str(small_csv), out=tmp_path / "b")
    for name in ("alerts.csv", "cases/A-S1.json", "str/A-M1.txt", "exports/clusters.graphml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    for name in ("alerts", "hits", "clusters", "quarantine"):
        assert pl.read_parquet(tmp_path / "a" / f"{name}.parquet").equals(pl.read_parquet(tmp_path / "b" / f"{name}.parquet"))
    assert a.manifest["catalogue_version"] == b.manifest["catalogue_version"]


def test_no_partial_files_are_left_behind(scanned):
    leftovers = [p for p in scanned.out.rglob("*") if p.name.endswith(".partial")]
    assert leftovers == []


def test_a_failing_run_leaves_no_finished_looking_workspace(tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("txn_id,ts\n1,2024-01-01\n", encoding="utf-8")
    with pytest.raises(followmoney.FollowMoneyError):
        followmoney.scan(str(bad), out=tmp_path / "out")
    assert not (tmp_path / "out" / "workspace.duckdb").exists()
    assert not (tmp_path / "out" / "manifest.json").exists()


@pytest.mark.parametrize("code", ["US", "CA", "EU", "UK"])
def test_jurisdiction_profiles_set_currency_and_thresholds(small_csv: Path, tmp_path: Path, code):
    result = followmoney.scan(str(small_csv), out=tmp_path / code, jurisdiction=code, to_stage="indicators")
    settings = result.manifest["profile"]["settings"]
    assert settings["jurisdiction"] == code
    assert settings["reporting_currency"] == {"US": "USD", "CA": "CAD", "EU": "EUR", "UK": "GBP"}[code]
    assert result.manifest["parameters"]["CSH01"]["threshold"] == 10000.0


def test_an_unknown_indicator_in_overrides_is_reported(small_csv: Path, tmp_path: Path):
    from followmoney.errors import ParameterError

    with pytest.raises(ParameterError, match="Parameters are set for XYZ01"):
        followmoney.scan(str(small_csv), out=tmp_path, overrides={"XYZ01": {"a": 1}})
