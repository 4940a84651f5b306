"""The Spark engine against the DuckDB engine: same definitions, same hits, alerts and clusters.

Marked `spark`: a plain `pytest` leaves them out (pyproject addopts), the README/CI command
`pytest -m "not slow"` replaces that marker expression and runs them (`tests/test_transpile.py`
checks it does). Needs pyspark (the `spark` extra) and Java 17. One SparkSession serves every
Spark test of the session; it is configured so that collecting postings to the driver fails,
which proves only hits travel back.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from conftest import require

from followmoney import registry
from followmoney.engines.dialects import split_portable
from followmoney.pipeline.stage import Context, ScanOptions
from followmoney.pipeline.steps import s01_scope, s02_collect, s04_indicators, s05_detect
from followmoney.progress import Progress
from followmoney.testing import Case, load_cases
from followmoney.workspace import Workspace

pytestmark = pytest.mark.spark

E2E_WORLD = {"accounts": 560, "days": 180, "seed": 23}
"""~10^5 transactions: big enough for every scenario, small enough for CI."""


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for every Spark test."""
    import shutil

    require(shutil.which("java") is not None, "Java is needed for Spark")
    pytest.importorskip("pyspark", reason="the Spark engine needs the spark extra")
    from followmoney.engines.spark import spark_session

    # Spark's driver binds to the machine's address otherwise; containers often have none routable.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = spark_session("local[2]", app_name="followmoney-tests", conf={
        # Two cores on CI: two task slots, and few shuffle partitions so small jobs do not pay for 200 tasks.
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        # No web UI: it binds a port and costs start-up time for nothing in tests.
        "spark.ui.enabled": "false",
        # Smaller than the e2e postings (~20 MB as Arrow) and larger than its hits (~4 MB, evidence lists
        # included): collecting postings must fail, collecting hits must not.
        "spark.driver.maxResultSize": "8m",
        # Local mode runs the executor inside the driver JVM: 1 GB is plenty here and bounds it on CI.
        "spark.driver.memory": "1g",
    })
    yield session
    session.stop()


def _prefix(values: pa.ChunkedArray, tag: str) -> pa.Array:
    return pa.array([None if v in (None, "") else f"{tag}{v}" for v in values.to_pylist()], pa.string())


def _tagged(case: Case, tag: str) -> tuple[pa.Table, pa.Table | None]:
    """The case's rows and parties with every id prefixed, so cases can share one table."""
    rows = case.rows
    for col in ("txn_id", "payer_account", "beneficiary_account"):
        rows = rows.set_column(rows.schema.get_field_index(col), col, _prefix(rows.column(col), tag))
    parties = case.parties
    if parties is not None:
        for col in ("account_id", "party_id"):
            if col in parties.column_names:
                parties = parties.set_column(parties.schema.get_field_index(col), col,
                                             _prefix(parties.column(col).cast(pa.string()), tag))
    return rows, parties


def _rounds() -> list[dict[str, list[tuple[Case, dict[str, Any]]]]]:
    """Case batches: round r holds, per indicator, its r-th distinct parameter set and its cases.

    Every indicator runs once per round with one parameter set, so the number of Spark runs is
    the largest number of case parameter sets of any one indicator, not the number of cases.
    Parameter flips are left to the DuckDB contract test: a flip changes only the values bound to
    the same translated query, and running every flip on Spark doubled the CI time of this module.
    """
    per_indicator: dict[str, list[tuple[str, list[tuple[Case, dict[str, Any]]]]]] = {}
    for cls in registry.all():
        groups: dict[str, list[tuple[Case, dict[str, Any]]]] = {}
        for case in load_cases(cls):
            groups.setdefault(json.dumps(case.params, sort_keys=True), []).append((case, case.params))
        per_indicator[cls.id] = list(groups.items())
    n = max(len(g) for g in per_indicator.values())
    return [{ind: groups[r][1] for ind, groups in per_indicator.items() if r < len(groups)} for r in range(n)]


def _run(batch: dict[str, list[tuple[Case, dict[str, Any]]]], tmp: Path, engine: str, spark: Any) -> list[dict]:
    """Ingest the batch's cases as one table and run their indicators; hits as dicts."""
    rows, parties, lists, overrides = [], [], {}, {}
    k = 0
    for ind, items in batch.items():
        overrides[ind] = items[0][1]
        for case, _ in items:
            k += 1
            r, p = _tagged(case, f"c{k}_")
            rows.append(r)
            if p is not None:
                parties.append(p)
            for name, text in case.lists.items():
                lines = lists.setdefault(name, [])
                head, *body = text.strip().splitlines()
                if not lines:
                    lines.append(head)
                lines.extend(b for b in body if b not in lines)
    profile: dict[str, Any] = {"lists": {}}
    for name, lines in lists.items():
        path = tmp / f"{name}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        profile["lists"][name] = {"path": str(path)}
    table = pa.concat_tables(rows, promote_options="permissive")
    party_table = pa.concat_tables(parties, promote_options="permissive") if parties else None
    ws = Workspace(":memory:", threads=1)
    try:
        options = ScanOptions(sources=[table], parties=[party_table] if party_table is not None else None,
                              indicators=sorted(batch), overrides=overrides, profile=profile or None,
                              engine=engine, spark=spark)
        ctx = Context(ws=ws, options=options, out=tmp, progress=Progress(False))
        # Collect on DuckDB for both engines: the cases are in-memory tables, and this keeps `detect`'s
        # export path (a Spark detect after a DuckDB collect) tested; ingest on Spark has its own tests
        # (tests/test_spark_collect.py) and the end-to-end scan below.
        options.engine = "duckdb"
        for stage in (s01_scope, s02_collect):
            stage.STAGE.run(ctx)
        options.engine = engine
        for stage in (s04_indicators, s05_detect):
            stage.STAGE.run(ctx)
        cur = ws.sql("SELECT * FROM hits")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        ws.close()


def _comparable(hits: list[dict], ids: set[str]) -> list[tuple]:
    """Hits as sortable tuples, value and score last; `details` parsed from JSON (engines format numbers alike, not bytes)."""
    return sorted((h["indicator_id"], h["account_id"], h["window_start"], h["window_end"],
                   tuple(h["evidence_txn_ids"]), h["params"], json.dumps(json.loads(h["details"]), sort_keys=True),
                   h["value"], h["score"])
                  for h in hits if h["indicator_id"] in ids)


def _close(a: Any, b: Any) -> bool:
    """Equal, floats to a relative 1e-9: a sum of doubles differs in its last bits with the order rows
    arrive in, which two engines (or two DuckDB threads) do not share."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def assert_same_hits(duck: list[tuple], on_spark: list[tuple]) -> None:
    """The same hits: every field equal, `details` numbers and `value` to 1e-9 relative, scores to 1e-6."""
    assert len(on_spark) == len(duck)
    for d, s in zip(duck, on_spark, strict=True):
        assert d[:6] == s[:6], (d, s)
        assert _close(json.loads(d[6]), json.loads(s[6])), (d, s)
        assert math.isclose(d[7], s[7], rel_tol=1e-9, abs_tol=1e-12), (d, s)
        assert abs(d[8] - s[8]) <= 1e-6 + 1e-12, (d, s)


def _portable_ids() -> set[str]:
    return {c.id for c, _ in split_portable([(c, {}) for c in registry.all()])[0]}


ROUNDS = _rounds()


@pytest.mark.parametrize("batch", ROUNDS, ids=[f"round{r}" for r in range(len(ROUNDS))])
def test_every_case_gives_the_same_hits_on_spark(spark, tmp_path, batch):
    ids = _portable_ids() & set(batch)
    duck = _comparable(_run(batch, tmp_path, "duckdb", None), ids)
    on_spark = _comparable(_run(batch, tmp_path, "spark", spark), ids)
    if batch is ROUNDS[0]:
        # Round 0 holds every indicator's first case with its own parameters (later rounds may hold
        # only flips and near misses): it must hit, or the comparison proves nothing.
        assert duck, "the first batch must produce hits"
    assert_same_hits(duck, on_spark)


@pytest.fixture(scope="module")
def e2e(spark, tmp_path_factory):
    """The ~10^5-transaction world scanned to `report` on both engines, every indicator.

    On Spark every stage from `collect` on runs with the run's Spark plane: ingest, detect and the
    flow aggregation on Spark, the case stages on DuckDB views over the plane's Parquet files.
    """
    import followmoney
    from followmoney.simulate import simulate

    world = simulate(tmp_path_factory.mktemp("e2e-world"), **E2E_WORLD)
    indicators = sorted(_portable_ids())
    out = {}
    for engine in ("duckdb", "spark"):
        out[engine] = followmoney.scan(str(world.paths["transactions"]), parties=str(world.paths["parties"]),
                                       out=tmp_path_factory.mktemp(engine), indicators=indicators,
                                       to_stage="report", engine=engine, spark=spark if engine == "spark" else None)
    return world, out


def test_end_to_end_alerts_are_identical_on_both_engines(e2e):
    import polars as pl

    _, out = e2e
    duck, on_spark = out["duckdb"], out["spark"]
    assert duck.manifest["reconciliation"]["read"] > 80_000
    assert duck.n_alerts > 0
    ids = _portable_ids()
    assert_same_hits(_comparable(duck.hits.to_dicts(), ids), _comparable(on_spark.hits.to_dicts(), ids))
    a, b = duck.alerts, on_spark.alerts
    assert a.drop("score").equals(b.drop("score"))
    assert (a["score"] - b["score"]).abs().max() <= 1e-6
    assert a.select(pl.col("score").round(6)).equals(a.select("score"))
    # Every indicator ran on Spark: none was left out as not portable.
    detect = next(s for s in on_spark.manifest["stages"] if s["name"] == "detect")
    assert not detect["notes"].get("not_run_on_spark")
    assert ids == {c.id for c in registry.all()}


def test_end_to_end_clusters_are_identical_on_both_engines(e2e):
    import polars as pl

    _, out = e2e
    a, b = (out[e].clusters.sort("cluster_id", "account_id") for e in ("duckdb", "spark"))
    assert a.height > 0, "the e2e world must form clusters, or the comparison proves nothing"
    assert a.drop("cluster_score").equals(b.drop("cluster_score"))
    assert (a["cluster_score"] - b["cluster_score"]).abs().max() <= 1e-6
    assert a.select(pl.col("cluster_score").round(6)).equals(a.select("cluster_score"))


def test_end_to_end_ingest_flows_and_cases_are_identical_on_both_engines(e2e):
    _, out = e2e
    duck, on_spark = out["duckdb"], out["spark"]
    stages = {s["name"]: s for s in on_spark.manifest["stages"]}
    assert stages["collect"]["notes"]["engine"] == "spark"
    assert on_spark.manifest["inputs"] == duck.manifest["inputs"]
    assert on_spark.manifest["row_counts"] == duck.manifest["row_counts"]
    assert on_spark.manifest["reconciliation"]["balanced"]
    tables = {"txns": "txn_idx", "postings": None, "accounts": None, "identifiers": None, "quarantine": None,
              "flow_edges": None, "trace_flows": "ALL", "assets": "ALL"}
    a, b = (Workspace(r.workspace, read_only=True) for r in (duck, on_spark))
    try:
        for name, order in tables.items():
            sql = f'SELECT * FROM "{name}"' + (f" ORDER BY {order}" if order else "")
            left, right = a.arrow(sql), b.arrow(sql)
            assert left.num_rows > 0 or name == "quarantine", name
            assert right.schema == left.schema, name
            assert right.equals(left), name
    finally:
        a.close()
        b.close()
    # The case files, STR drafts and exports: the same files with the same content. Case files embed hit
    # values, which are sums of doubles: equal to 1e-9 relative, as the hits themselves.
    for folder in ("cases", "str", "exports"):
        left = {p.relative_to(duck.out): p.read_bytes() for p in sorted((duck.out / folder).rglob("*")) if p.is_file()}
        right = {p.relative_to(on_spark.out): p.read_bytes() for p in sorted((on_spark.out / folder).rglob("*"))
                 if p.is_file()}
        assert left, folder
        assert sorted(right) == sorted(left), folder
        different = [str(k) for k in left if left[k] != right[k] and not (
            k.suffix == ".json" and _close(json.loads(left[k]), json.loads(right[k])))]
        assert not different, different


def test_only_hits_come_back_to_the_driver(e2e, spark, tmp_path):
    from followmoney.engines.duckdb import export_parquet

    _, out = e2e
    ws = Workspace(out["spark"].workspace, read_only=True)
    try:
        paths = export_parquet(ws, ["postings"], str(tmp_path))
    finally:
        ws.close()
    postings = spark.read.parquet(paths["postings"])
    # The session's maxResultSize lets the hits through but not the postings the engine reads.
    with pytest.raises(Exception, match="maxResultSize"):
        postings.toArrow()


def test_scan_cli_runs_on_spark(spark, small_csv, tmp_path):
    from click.testing import CliRunner

    from followmoney.cli.main import main

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["scan", str(small_csv), "--out", str(out), "--engine", "spark",
                                       "--spark-master", "local[2]", "--to-stage", "score", "-i", "CSH01",
                                       "-i", "FLW01"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    detect = next(s for s in manifest["stages"] if s["name"] == "detect")
    assert detect["notes"]["engine"] == "spark"
    assert detect["notes"]["hits_per_indicator"] == {"CSH01": 1, "FLW01": 1}


def test_a_session_outside_utc_is_refused(spark):
    from followmoney.engines.spark import SparkEngine
    from followmoney.errors import FollowMoneyError

    spark.conf.set("spark.sql.session.timeZone", "Europe/Vienna")
    try:
        with pytest.raises(FollowMoneyError, match="UTC"):
            SparkEngine(spark, spark.range(1))
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
