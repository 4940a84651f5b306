"""Cost of the whole indicator catalogue as a scan runs it, against each rule as its best plain DuckDB SQL.

Usage:
    python benchmarks/bench_catalogue.py --sizes 1e6[,1e7] [--data benchmarks/data] [--repeat 3]

For each size it simulates a world with the current scenarios (seed 2024, kept in `--data` for the
next run), ingests it once (stages scope and collect: lists, parties, postings), resolves the plan
a scan would run (every indicator the data supports, default parameters), then times on the same
workspace:

* the catalogue: every runnable indicator exactly as the detect stage runs it (one shared ordered
  pass of postings through every numba kernel, with the SQL indicators running one after another
  on a second connection meanwhile), `DuckDBEngine.raw_hits`;
* the baseline: each rule as the best plain DuckDB SQL query we could write for it, run alone, one
  after another. A SQL indicator is its own baseline (timed alone, not inside the catalogue run,
  where it shares the machine with the kernel pass). A kernel indicator's twin is
  `benchmarks/baselines/<ID>.sql` (RANGE windows over epoch seconds, a recursive walk where the
  rule is sequential), bound to the same parameters; each twin must flag exactly the accounts the
  kernel flags, or the benchmark stops. A kernel without a twin file is charged its own kernel
  time on the baseline side and listed, so the ratio never flatters it.

It prints per indicator: its cost alone (kernel alone, or the SQL indicator), the baseline's cost,
the accounts flagged and whether the sets agree; then the catalogue's total against the sum of the
baselines. Median of `--repeat`.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

BASELINES = Path(__file__).parent / "baselines"
"""One `<ID>.sql` per kernel indicator: its plain-SQL twin, returning the flagged `account_key`s."""


def _world(n: int, data: Path) -> Path:
    """A world with the current scenarios, so every planted rule has something to find."""
    from followmoney.simulate import simulate

    folder = data / f"catalogue-v2-world-{n:.0e}".replace("+", "")
    if not (folder / "transactions.parquet").exists():
        t0 = time.perf_counter()
        # The simulator makes ~1 transaction per account per day, as in bench_scan.py.
        simulate(folder, accounts=max(100, round(n / 180 / 0.997)), days=180, seed=2024)
        print(f"  simulated in {time.perf_counter() - t0:.1f} s")
    return folder


def baseline_sql(indicator_id: str) -> str | None:
    """The plain-SQL twin of a kernel indicator, returning its flagged `account_key`s, or None.

    A file may hold a query of flagged accounts or the rule's full former SQL (one row per hit, as
    the property tests use it for an oracle); either way the twin is the distinct accounts of it.
    """
    path = BASELINES / f"{indicator_id}.sql"
    if not path.exists():
        return None
    # The newline before ')' ends a trailing `--` comment of the file.
    return f"SELECT DISTINCT account_key FROM (\n{path.read_text(encoding='utf-8')}\n) AS flagged ORDER BY 1"


def bound(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters a query names (DuckDB rejects named parameters a query does not use)."""
    names = set(re.findall(r"\$([A-Za-z_]\w*)", sql))
    return {k: v for k, v in params.items() if k in names}


def runnable_plan(ws: Any) -> tuple[list[tuple[Any, dict[str, Any]]], list[tuple[str, str]]]:
    """Every indicator with its default parameters, split into those the data supports and skipped ones."""
    from followmoney import registry
    from followmoney.params import resolve
    from followmoney.pipeline.steps.s04_indicators import available_columns, available_party_columns

    ctx = SimpleNamespace(ws=ws)
    present, parties = available_columns(ctx), available_party_columns(ctx)
    lists = {r[0] for r in ws.sql("SELECT DISTINCT list_name FROM lists").fetchall()} if ws.has("lists") else set()
    plan, skipped = [], []
    for cls in registry.all():
        missing = (set(cls.requires) - present) | (set(cls.requires_parties) - parties) | (set(cls.requires_lists) - lists)
        if missing:
            skipped.append((cls.id, ", ".join(sorted(missing))))
        else:
            plan.append((cls, resolve(cls.id, cls.params)))
    return plan, skipped


def _median_time(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def bench_size(n: int, data: Path, repeat: int) -> dict[str, float]:
    """Time the catalogue and the baselines at one size; returns the totals."""
    import followmoney
    from followmoney.engines.base import KERNEL_PASS
    from followmoney.engines.duckdb import DuckDBEngine
    from followmoney.network.identifiers import link_options, prepare_identifiers
    from followmoney.workspace import Workspace

    folder = _world(n, data)
    out = folder / "scan"
    ws_path = out / "workspace.duckdb"
    if not ws_path.exists():
        t0 = time.perf_counter()
        # The world's scraped-ads list too, as the test suite's scan does, so EXT01 runs.
        ads = sorted((folder / "lists").glob("*.csv"))
        profile = {"lists": {p.stem: str(p) for p in ads}}
        followmoney.scan(str(folder / "transactions.parquet"), parties=str(folder / "parties.parquet"), out=out,
                         profile=profile, to_stage="collect")
        print(f"  ingested in {time.perf_counter() - t0:.1f} s")
    ws = Workspace(ws_path, threads=os.cpu_count())
    try:
        engine = DuckDBEngine(ws)
        plan, skipped = runnable_plan(ws)
        if ws.has("identifiers") and any("identifier_keys" in (c.sql or "") for c, _ in plan):
            # As stage `detect` does before the indicators over shared identifiers (NET13) run.
            prepare_identifiers(ws, link_options(ws.get_meta("profile", {})))
        print(f"\n== {ws.count('postings'):,} postings ({n:.0e} transactions), {os.cpu_count()} threads, "
              f"{len(plan)} indicators ({sum(c.kernel is not None for c, _ in plan)} kernels)")
        for ind, why in skipped:
            print(f"  skipped {ind}: no {why} in this world")
        # The catalogue, as the detect stage runs it.
        runs = []
        for _ in range(repeat):
            timings: dict[str, float] = {}
            t0 = time.perf_counter()
            raw = engine.raw_hits(plan, timings=timings)
            runs.append((time.perf_counter() - t0, timings, raw))
        runs.sort(key=lambda r: r[0])
        t_catalogue, timings, raw = runs[len(runs) // 2]
        flagged = {t.column("indicator_id")[0].as_py(): sorted(set(t.column("account_key").to_pylist()))
                   for t in raw if t.num_rows}
        print(f"  {'rule':<6} {'impl':<6} {'alone s':>8} {'baseline s':>10} {'base/alone':>10}  accounts  same")
        total_base = 0.0
        twins_total = 0.0  # the kernel rules' baselines alone, against the shared pass
        no_twin = []
        for cls, params in plan:
            accounts = flagged.get(cls.id, [])
            if cls.kernel is None:
                t, _ = _median_time(lambda c=cls, p=params: engine.run_sql_indicator(c, p), repeat)
                total_base += t
                print(f"  {cls.id:<6} {'sql':<6} {t:>8.2f} {t:>10.2f} {'(itself)':>10}  {len(accounts):>8}")
                continue
            t_k, _ = _median_time(lambda c=cls, p=params: engine.run_kernel_indicators([(c, p)]), repeat)
            sql = baseline_sql(cls.id)
            if sql is None:
                no_twin.append(cls.id)
                total_base += t_k
                twins_total += t_k
                print(f"  {cls.id:<6} {'kernel':<6} {t_k:>8.2f} {t_k:>10.2f} {'(no twin)':>10}  {len(accounts):>8}")
                continue
            t_s, rows = _median_time(lambda q=sql, p=params: ws.sql(q, bound(q, p)).fetchall(), repeat)
            total_base += t_s
            twins_total += t_s
            same = accounts == sorted(r[0] for r in rows)
            print(f"  {cls.id:<6} {'kernel':<6} {t_k:>8.2f} {t_s:>10.2f} {t_s / t_k:>9.2f}x  {len(accounts):>8}  {same}")
            if not same:
                extra = sorted(set(r[0] for r in rows) ^ set(accounts))[:10]
                raise SystemExit(f"{cls.id}: kernel and SQL twin disagree on accounts (keys {extra})")
        t_pass = timings.get(KERNEL_PASS, 0.0)
        t_sql = sum(v for k, v in timings.items() if k != KERNEL_PASS)
        n_sql = sum(c.sql is not None for c, _ in plan)
        print(f"  catalogue (detect): shared kernel pass {t_pass:.2f} s, alongside it {n_sql} SQL indicators "
              f"{t_sql:.2f} s, together {t_catalogue:.2f} s (with scoring)")
        print(f"  baselines, one plain-SQL query per rule: {total_base:.2f} s"
              + (f" (kernels without a twin, charged their own time: {', '.join(no_twin)})" if no_twin else ""))
        print(f"  ratio baselines / catalogue: {total_base / t_catalogue:.2f}x")
        print(f"  kernel rules only: shared pass {t_pass:.2f} s vs their twins {twins_total:.2f} s, "
              f"ratio {twins_total / max(t_pass, 1e-9):.2f}x")
        return {"catalogue": t_catalogue, "baselines": total_base, "kernel_pass": t_pass, "sql": t_sql,
                "twins": twins_total}
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
