"""Stage `detect` on DuckDB and on Spark (local mode), same postings, same plan, same hits.

Usage:
    python benchmarks/bench_engines.py --sizes 1e5,1e6 [--data benchmarks/data] [--master local[2]]

For each size it simulates a world (or reuses one in `--data`), collects it once into a DuckDB
workspace (stages scope..indicators), then times `detect` on each engine over every indicator
(an SQL indicator not portable to Spark would be left out on both; none is today), checks both
wrote the same hits, and prints the times. Spark is timed warm (its session and first UDF job are paid in a warm-up run,
reported separately), which is how a long-lived cluster session would run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def _collect(world_dir: Path, ws_path: Path):
    from followmoney.pipeline.stage import Context, ScanOptions
    from followmoney.pipeline.steps import s01_scope, s02_collect, s04_indicators
    from followmoney.progress import Progress
    from followmoney.workspace import Workspace

    ws_path.unlink(missing_ok=True)
    ws = Workspace(ws_path)
    ctx = Context(ws=ws, options=ScanOptions(sources=[str(world_dir / "transactions.parquet")],
                                             parties=[str(world_dir / "parties.parquet")]),
                  out=ws_path.parent, progress=Progress(False))
    for stage in (s01_scope, s02_collect, s04_indicators):
        stage.STAGE.run(ctx)
    return ws


HITS_SQL = ("SELECT * EXCLUDE (details, value, score), value, score FROM hits "
            "ORDER BY indicator_id, account_id, window_start, window_end, evidence_txn_ids, params")
"""Hits ordered by everything but the numbers, so that last-bit differences of sums cannot reorder them."""


def _same_hits(a, b) -> bool:
    """Every column equal, `value` to a relative 1e-9 and `score` to 1e-6 (sums of doubles differ in their
    last bits with the order rows arrive in, which two engines do not share)."""
    import numpy as np

    if a.num_rows != b.num_rows or not a.drop_columns(["value", "score"]).equals(b.drop_columns(["value", "score"])):
        return False
    va, vb = a.column("value").to_numpy(), b.column("value").to_numpy()
    sa, sb = a.column("score").to_numpy(), b.column("score").to_numpy()
    return bool(np.allclose(va, vb, rtol=1e-9, atol=1e-12) and np.all(np.abs(sa - sb) <= 1e-6 + 1e-12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1e5", help="comma-separated transaction counts, e.g. 1e5,1e6")
    parser.add_argument("--data", default="benchmarks/data", help="folder for simulated worlds")
    parser.add_argument("--master", default="local[2]", help="Spark master")
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

    from followmoney import registry
    from followmoney.engines.dialects import split_portable
    from followmoney.engines.duckdb import DuckDBEngine
    from followmoney.engines.handoff import detect_on_spark
    from followmoney.engines.spark import spark_session
    from followmoney.network.identifiers import link_options, prepare_identifiers
    from followmoney.simulate import simulate

    t0 = time.perf_counter()
    spark = spark_session(args.master, conf={"spark.sql.shuffle.partitions": "8", "spark.ui.enabled": "false"})
    print(f"spark session start: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    for size in (int(float(s)) for s in args.sizes.split(",")):
        accounts = max(50, size // 180)  # the simulator makes ~1 transaction per account per day
        world_dir = Path(args.data) / f"engines-world-{size:.0e}"
        if not (world_dir / "transactions.parquet").exists():
            simulate(world_dir, accounts=accounts, days=180, seed=2024)
        ws = _collect(world_dir, Path(args.data) / f"engines-{size:.0e}.duckdb")
        try:
            plan_rows = ws.sql("SELECT indicator_id, params FROM indicator_plan WHERE runnable ORDER BY 1").fetchall()
            plan, left_out = split_portable([(registry.get(i), json.loads(p)) for i, p in plan_rows])
            if ws.has("identifiers") and any("identifier_keys" in (c.sql or "") for c, _ in plan):
                # As stage `detect` does before the indicators over shared identifiers (NET13) run.
                prepare_identifiers(ws, link_options(ws.get_meta("profile", {})))
            n_txns = ws.count("txns")
            t0 = time.perf_counter()
            detect_on_spark(ws, plan, spark)  # warm-up: workers, numba loading, first jobs
            warm_up = time.perf_counter() - t0
            spark_hits = ws.arrow(HITS_SQL)
            t0 = time.perf_counter()
            detect_on_spark(ws, plan, spark)
            t_spark = time.perf_counter() - t0
            t0 = time.perf_counter()
            DuckDBEngine(ws).detect(plan)
            t_duck = time.perf_counter() - t0
            duck_hits = ws.arrow(HITS_SQL)
            same = _same_hits(duck_hits, spark_hits)
            print(f"| {n_txns:,} txns | {len(plan)} indicators ({len(left_out)} not portable left out) | "
                  f"DuckDB {t_duck:.2f} s | Spark {t_spark:.2f} s (first run {warm_up:.2f} s) | "
                  f"hits {duck_hits.num_rows:,}, identical: {same} |")
        finally:
            ws.close()
    spark.stop()


if __name__ == "__main__":
    main()
