"""Scan throughput, per stage, and the kernel indicator against the best plain-DuckDB-SQL baseline.

Usage:
    python benchmarks/bench_scan.py --sizes 1e6,1e7 [--data benchmarks/data] [--repeat 3]

For each size it simulates a world (or reuses one in `--data`), runs a full scan and prints the
time of every stage and the end-to-end throughput. It then times FLW01 (rapid pass-through) two
ways on the same workspace:

* followmoney: one ordered read of postings, streamed in account buckets through the numba kernel;
* baseline: the same rule as the best plain DuckDB SQL we could write (a range self-join for the
  events, a RANGE window for "min_events within period_days"),

checks that both flag the same accounts, and prints the ratio. Median of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

BASELINE_FLW01 = """
WITH inflows AS (
    SELECT account_key, txn_idx, ts_s, amount FROM postings WHERE amount >= $min_inflow
),
outs AS (
    SELECT account_key, txn_idx, ts_s, -amount AS out FROM postings WHERE amount < 0
),
events AS (
    SELECT i.account_key, i.ts_s
    FROM inflows AS i
    JOIN outs AS o
      ON o.account_key = i.account_key
     AND o.ts_s BETWEEN i.ts_s AND i.ts_s + $window_hours * 3600
     AND (o.ts_s > i.ts_s OR o.txn_idx > i.txn_idx)
    GROUP BY i.account_key, i.txn_idx, i.ts_s, i.amount
    HAVING sum(o.out) >= $min_ratio * i.amount
),
counted AS (
    SELECT account_key,
           count(*) OVER (PARTITION BY account_key ORDER BY ts_s
                          RANGE BETWEEN CURRENT ROW AND $period_days * 86400 FOLLOWING) AS n
    FROM events
)
SELECT DISTINCT account_key FROM counted WHERE n >= $min_events ORDER BY account_key
"""


def _median_time(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _world(n: int, data: Path) -> Path:
    from followmoney.simulate import simulate

    folder = data / f"world-{n:.0e}".replace("+", "")
    tx = folder / "transactions.parquet"
    if not tx.exists():
        accounts = max(100, round(n / 180 / 0.997))  # the simulator makes ~1 transaction per account per day
        t0 = time.perf_counter()
        simulate(folder, accounts=accounts, days=180, seed=2024)
        print(f"  simulated in {time.perf_counter() - t0:.1f} s")
    return folder


def bench_size(n: int, data: Path, repeat: int) -> dict:
    import followmoney
    from followmoney import registry
    from followmoney.engines.duckdb import DuckDBEngine
    from followmoney.params import resolve
    from followmoney.workspace import Workspace

    folder = _world(n, data)
    out = data / f"scan-{n:.0e}".replace("+", "")
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    result = followmoney.scan(str(folder / "transactions.parquet"), parties=str(folder / "parties.parquet"), out=out)
    total = time.perf_counter() - t0
    rows = result.manifest["reconciliation"]["read"]
    print(f"\n== {rows:,} transactions: full scan {total:.1f} s, {rows / total / 1e6:.2f} M txns/s "
          f"(alerts {result.n_alerts}, hits {result.hits.height})")
    for s in result.manifest["stages"]:
        print(f"  {s['step']:>2} {s['name']:<11} {s['seconds']:>8.2f} s")

    cls = registry.get("FLW01")
    params = resolve(cls.id, cls.params)
    ws = Workspace(result.workspace, threads=os.cpu_count())
    try:
        engine = DuckDBEngine(ws)
        t_kernel, kernel_hits = _median_time(lambda: engine.run_kernel_indicators([(cls, params)])["FLW01"], repeat)
        kernel_accounts = sorted(set(kernel_hits.column("account_key").to_pylist()))
        t_sql, sql_rows = _median_time(lambda: ws.sql(BASELINE_FLW01, params).fetchall(), repeat)
        sql_accounts = sorted(r[0] for r in sql_rows)
        n_postings = ws.count("postings")
    finally:
        ws.close()
    same = kernel_accounts == sql_accounts
    print(f"  FLW01 over {n_postings:,} postings: kernel path {t_kernel:.2f} s, plain DuckDB SQL {t_sql:.2f} s, "
          f"ratio SQL/kernel {t_sql / t_kernel:.2f}x; same accounts flagged: {same} ({len(kernel_accounts)})")
    if not same:
        raise SystemExit("kernel and SQL baseline disagree")
    return {"rows": rows, "total": total, "kernel": t_kernel, "sql": t_sql}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1e6,1e7", help="comma-separated transaction counts")
    parser.add_argument("--data", default=str(Path(__file__).parent / "data"), help="where datasets are kept")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(data).free
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"free disk {free / 1e9:.0f} GB")
    for size in (int(float(s)) for s in args.sizes.split(",")):
        if free < size * 200:  # ~60 B/txn parquet + workspace + spill, with headroom
            sys.exit(f"not enough free disk for {size:.0e} transactions")
        bench_size(size, data, args.repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory (this process): {peak:,.0f} MB")


if __name__ == "__main__":
    main()
