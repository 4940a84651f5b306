"""Cost of the per-account window rules of the catalogue, alone and together, against plain DuckDB SQL.

Usage:
    python benchmarks/bench_catalogue.py --sizes 1e6[,1e7] [--data benchmarks/data] [--repeat 3]

For each size it simulates a world (seed 2024, kept in `--data` for the next run), ingests it once (stages scope
and collect), then times on the same workspace:

* each kernel indicator alone: one ordered read of postings streamed through its kernel;
* the whole window catalogue in the one shared pass (one read and sort, every kernel per bucket),
  which is what a scan does;
* the same rules as the best plain DuckDB SQL we could write (RANGE windows over epoch seconds,
  a DISTINCT window count for cities), one query per rule;

and checks that each SQL rule flags exactly the accounts its kernel flags. PAY01 has no plain SQL
twin: "credits used by an earlier occurrence do not count again" is a sequential rule that SQL can
only express with a recursive query, so it is timed on the kernel side only. Median of `--repeat`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path


def _world(n: int, data: Path) -> Path:
    """A world with the current scenarios (the scan benchmark's may predate the catalogue's plants)."""
    from followmoney.simulate import simulate

    folder = data / f"catalogue-world-{n:.0e}".replace("+", "")
    if not (folder / "transactions.parquet").exists():
        t0 = time.perf_counter()
        # The simulator makes ~1 transaction per account per day, as in bench_scan.py.
        simulate(folder, accounts=max(100, round(n / 180 / 0.997)), days=180, seed=2024)
        print(f"  simulated in {time.perf_counter() - t0:.1f} s")
    return folder

WINDOW_IDS = ("CSH02", "CSH03", "CSH04", "GEO01", "PAY01")
SQL_IDS = ("CSH05",)
"""Window rules written as SQL indicators: timed as they run in a scan (they are their own baseline)."""

_COUNT_SHARE = """
WITH c AS (
    SELECT account_key, ts_s, CAST({flag} AS INTEGER) AS f FROM postings WHERE {cls}
),
w AS (
    SELECT account_key, ts_s,
           sum(f) OVER win AS nf, count(*) OVER win AS nc
    FROM c
    WINDOW win AS (PARTITION BY account_key ORDER BY ts_s RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW)
)
SELECT DISTINCT w.account_key FROM w {join}
WHERE nf >= {min_count} AND nf >= {min_share} * nc {extra}
ORDER BY 1
"""

BASELINES = {
    "CSH02": _COUNT_SHARE.format(
        cls="channel IN ('cash', 'atm')",
        flag="local_hour >= $night_start_hour OR local_hour < $night_end_hour",
        join="", min_count="$min_count", min_share="$min_share", extra=""),
    "CSH03": _COUNT_SHARE.format(
        cls="channel = 'atm' AND amount < 0", flag="coalesce(atm_owner_type = 'white_label', false)",
        join="", min_count="$min_count", min_share="$min_share", extra=""),
    "CSH04": _COUNT_SHARE.format(
        cls="amount > 0 AND channel IN ('cash', 'ach')", flag="channel = 'cash'",
        join="JOIN (SELECT account_key, min(ts_s) AS t0 FROM postings GROUP BY 1) AS first USING (account_key)",
        min_count="$min_cash_credits", min_share="1.0", extra="AND w.ts_s - first.t0 >= $min_history_days * 86400"),
    "GEO01": """
WITH located AS (
    SELECT account_key, ts_s, city FROM postings WHERE channel IN ('cash', 'atm', 'card') AND city IS NOT NULL
),
anchors AS (
    SELECT account_key, ts_s,
           count(DISTINCT city) OVER (PARTITION BY account_key ORDER BY ts_s
                                      RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW) AS n_cities
    FROM located
),
qualifying AS (
    SELECT account_key, ts_s, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s) AS prev_s
    FROM anchors WHERE n_cities >= $min_cities
),
occurrences AS (
    SELECT account_key, ts_s - $window_days * 86400 AS start_s
    FROM qualifying WHERE prev_s IS NULL OR ts_s - $window_days * 86400 > prev_s
),
counted AS (
    SELECT account_key, count(*) OVER (PARTITION BY account_key ORDER BY start_s
                                       RANGE BETWEEN CURRENT ROW AND $period_days * 86400 FOLLOWING) AS n
    FROM occurrences
)
SELECT DISTINCT account_key FROM counted WHERE n >= $min_occurrences ORDER BY 1
""",
}


def _median_time(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def bench_size(n: int, data: Path, repeat: int) -> None:
    import followmoney
    from followmoney import registry
    from followmoney.engines.duckdb import DuckDBEngine
    from followmoney.params import resolve
    from followmoney.workspace import Workspace

    folder = _world(n, data)
    out = folder / "scan"
    ws_path = out / "workspace.duckdb"
    if not ws_path.exists():
        t0 = time.perf_counter()
        followmoney.scan(str(folder / "transactions.parquet"), parties=str(folder / "parties.parquet"), out=out,
                         to_stage="collect")
        print(f"  ingested in {time.perf_counter() - t0:.1f} s")
    plan = [(registry.get(i), resolve(i, registry.get(i).params)) for i in WINDOW_IDS]
    ws = Workspace(ws_path, threads=os.cpu_count())
    try:
        engine = DuckDBEngine(ws)
        n_postings = ws.count("postings")
        print(f"\n== {n_postings:,} postings ({n:.0e} transactions), {os.cpu_count()} threads")
        print(f"  {'rule':<6} {'kernel s':>9} {'SQL s':>8} {'SQL/kernel':>10}  accounts  same")
        total_sql = 0.0
        for cls, params in plan:
            t_k, hits = _median_time(lambda c=cls, p=params: engine.run_kernel_indicators([(c, p)])[c.id], repeat)
            accounts = sorted(set(hits.column("account_key").to_pylist()))
            if cls.id not in BASELINES:
                print(f"  {cls.id:<6} {t_k:>9.2f} {'-':>8} {'-':>10}  {len(accounts):>8}  (no plain-SQL twin)")
                continue
            t_s, rows = _median_time(lambda c=cls, p=params: ws.sql(BASELINES[c.id], p).fetchall(), repeat)
            total_sql += t_s
            same = accounts == sorted(r[0] for r in rows)
            print(f"  {cls.id:<6} {t_k:>9.2f} {t_s:>8.2f} {t_s / t_k:>9.2f}x  {len(accounts):>8}  {same}")
            if not same:
                raise SystemExit(f"{cls.id}: kernel and SQL baseline disagree")
        t_all, _ = _median_time(lambda: engine.run_kernel_indicators(plan), repeat)
        t_four, _ = _median_time(lambda: engine.run_kernel_indicators([x for x in plan if x[0].id in BASELINES]),
                                 repeat)
        t_sql_rules = 0.0
        for ind in SQL_IDS:
            cls = registry.get(ind)
            params = resolve(ind, cls.params)
            t, table = _median_time(lambda c=cls, p=params: engine.run_sql_indicator(c, p), repeat)
            t_sql_rules += t
            accounts = len(set(table.column("account_key").to_pylist()))
            print(f"  {ind:<6} {'-':>9} {t:>8.2f} {'(SQL rule)':>10}  {accounts:>8}")
        print(f"  whole window catalogue ({len(plan)} kernel rules in one shared pass + {len(SQL_IDS)} SQL): "
              f"{t_all:.2f} s + {t_sql_rules:.2f} s = {t_all + t_sql_rules:.2f} s")
        print(f"  the {len(BASELINES)} rules with a SQL twin: shared pass {t_four:.2f} s, "
              f"SQL one query each {total_sql:.2f} s, ratio {total_sql / t_four:.2f}x")
    finally:
        ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1e6", help="comma-separated transaction counts")
    parser.add_argument("--data", default=str(Path(__file__).parent / "data"), help="where datasets are kept")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for size in (int(float(s)) for s in args.sizes.split(",")):
        bench_size(size, data, args.repeat)


if __name__ == "__main__":
    main()
