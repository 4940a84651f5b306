"""Full-scan benchmark: per stage and per indicator, against plain DuckDB SQL and pandas.

Usage:
    python benchmarks/bench_scan.py --sizes 1e6,1e7[,1e8] [--data benchmarks/data] [--repeat 3]
                                    [--pandas-max 1e6] [--json results.json] [--scan-only]

For each size it simulates a world (or reuses the one in `--data`: `world-1e06`, `world-1e07`,
`world-1e08`), runs a full scan (every runnable indicator, the network layer, the report) and prints:

* per stage: seconds, throughput (transactions per second) and peak resident memory of the process
  while the stage ran (sampled every 50 ms; DuckDB runs in-process, so this includes its buffers);
* per indicator: seconds as recorded by stage `detect` in the manifest
  (`stages[detect].notes.seconds_per_indicator`: each SQL indicator, and the one shared kernel pass),
  throughput in postings per second and the peak memory sampled while it ran; each kernel indicator is
  also timed alone (one ordered read of postings through its kernel), which is what a baseline competes with;
* against the best plain DuckDB SQL we could write for the same rule (`benchmarks/baselines/<ID>.sql`,
  shared with `bench_catalogue.py`): time, ratio, and whether both flag the same accounts;
* up to `--pandas-max` transactions, against idiomatic pandas for two representative rules (CSH01
  structuring and FLW01 rapid pass-through), flagging the same accounts (checked).

`--scan-only` stops after the scan's stage and indicator tables (no per-rule baselines): at 10^8 the
baselines alone take longer than the scan.

The machine's load average is printed with every measurement: the benchmark machine may be shared,
and timings under load are inflated (the ratios hold better than the absolute times). Median of
`--repeat` runs for the rule timings; the scan itself runs once per size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench_catalogue import baseline_sql  # the one loader of benchmarks/baselines (same folder)


class MemorySampler:
    """Resident memory and CPU time of this process, sampled on a thread, so peaks (and CPU seconds) can
    be assigned to time intervals. CPU seconds are the load-robust number on a shared machine: wall time
    under contention stretches, the work done does much less."""

    def __init__(self, every: float = 0.05):
        self.every = every
        self.samples: list[tuple[float, int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss() -> int:
        """Current resident set size in bytes (Linux /proc; 0 elsewhere)."""
        try:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            use = resource.getrusage(resource.RUSAGE_SELF)
            self.samples.append((time.perf_counter(), self.rss(), use.ru_utime + use.ru_stime))
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, t0: float, t1: float) -> int:
        """Highest sample in [t0, t1] (the nearest sample when the interval holds none)."""
        inside = [m for t, m, _ in self.samples if t0 <= t <= t1]
        if inside:
            return max(inside)
        before = [m for t, m, _ in self.samples if t <= t1]
        return before[-1] if before else 0

    def cpu(self, t0: float, t1: float) -> float:
        """CPU seconds (user + system, all threads) spent between the samples nearest t0 and t1."""
        def at(t: float) -> float:
            before = [c for ts, _, c in self.samples if ts <= t]
            return before[-1] if before else (self.samples[0][2] if self.samples else 0.0)
        return max(0.0, at(t1) - at(t0))


def _load() -> str:
    return "load {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


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


def pandas_structuring(df: Any, threshold: float, margin: float, window_days: int, min_count: int) -> list[int]:
    """CSH01 in idiomatic pandas: accounts with `min_count` cash deposits in the band within a time window."""
    import pandas as pd

    band = df[(df["channel"] == "cash") & (df["amount"] >= threshold * (1 - margin)) & (df["amount"] < threshold)]
    if band.empty:
        return []
    band = band.assign(ts=pd.to_datetime(band["ts_s"], unit="s")).sort_values(["account_key", "ts_s"])
    # closed="both": the SQL frame is RANGE BETWEEN window PRECEDING AND CURRENT ROW, both ends included.
    counts = (band.set_index("ts").groupby("account_key")["amount"]
              .rolling(f"{window_days}D", closed="both").count())
    return sorted(int(a) for a in counts[counts >= min_count].index.get_level_values(0).unique())


def pandas_pass_through(df: Any, min_inflow: float, min_ratio: float, window_hours: int, min_events: int,
                        period_days: int) -> list[int]:
    """FLW01 in pandas: credits of `min_inflow` or more that debits within `window_hours` mostly take out again,
    `min_events` of them within `period_days`.

    Vectorised the pandas way: a running sum of debits per account, and a sorted search for the last
    posting inside each credit's window (a self-merge of every credit with every later debit is the
    naive alternative and does not fit memory at 10^7).
    """
    import numpy as np

    df = df.sort_values(["account_key", "ts_s", "txn_idx"], kind="stable")
    key = (df["account_key"].to_numpy(np.int64) << 32) + df["ts_s"].to_numpy(np.int64)
    out = np.where(df["amount"].to_numpy() < 0, -df["amount"].to_numpy(), 0.0)
    cum = np.cumsum(out)
    credit = np.flatnonzero(df["amount"].to_numpy() >= min_inflow)
    last = np.searchsorted(key, key[credit] + window_hours * 3600, side="right") - 1
    taken = cum[last] - cum[credit]
    events = df.iloc[credit[taken >= min_ratio * df["amount"].to_numpy()[credit]]][["account_key", "ts_s"]]
    if events.empty:
        return []
    ev_key = (events["account_key"].to_numpy(np.int64) << 32) + events["ts_s"].to_numpy(np.int64)
    n_in = np.searchsorted(ev_key, ev_key + period_days * 86400, side="right") - np.arange(len(ev_key))
    return sorted(int(a) for a in events["account_key"][n_in >= min_events].unique())


def _bound(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters a query names (DuckDB rejects named parameters a query does not use)."""
    names = set(re.findall(r"\$([A-Za-z_]\w*)", sql))
    return {k: v for k, v in params.items() if k in names}


def _stage_table(manifest: dict[str, Any], started: float, mem: MemorySampler, rows: int) -> list[dict[str, Any]]:
    out, t = [], started
    for s in manifest["stages"]:
        t1 = t + s["seconds"]
        out.append({"stage": s["name"], "step": s["step"], "seconds": s["seconds"], "cpu_seconds": mem.cpu(t, t1),
                    "txns_per_s": rows / s["seconds"] if s["seconds"] else None,
                    "peak_mb": mem.peak(t, t1) / 1e6})
        t = t1
    return out


def _indicator_table(manifest: dict[str, Any], started: float, mem: MemorySampler,
                     n_postings: int) -> list[dict[str, Any]]:
    """Per-indicator seconds from the manifest; intervals rebuilt from the order `detect` runs them in
    (the shared kernel pass, and from the same moment the SQL indicators one after another by id),
    for the memory peaks. An interval's peak includes what the other side held meanwhile."""
    stages = manifest["stages"]
    t = started + sum(s["seconds"] for s in stages[: [s["name"] for s in stages].index("detect")])
    detect = next(s for s in stages if s["name"] == "detect")
    timings = detect["notes"].get("seconds_per_indicator", {})
    hits = detect["notes"].get("hits_per_indicator", {})
    from followmoney.engines.base import KERNEL_PASS

    out = []
    t_sql = t
    for name in [KERNEL_PASS, *sorted(k for k in timings if k != KERNEL_PASS)]:
        if name not in timings:
            continue
        sec = timings[name]
        start = t if name == KERNEL_PASS else t_sql
        out.append({"indicator": name, "seconds": sec, "postings_per_s": n_postings / sec if sec else None,
                    "peak_mb": mem.peak(start, start + sec) / 1e6, "hits": hits.get(name)})
        if name != KERNEL_PASS:
            t_sql += sec
    return out


def bench_size(n: int, data: Path, repeat: int, pandas_max: int, scan_only: bool = False) -> dict[str, Any]:
    """Scan one size and compare (unless `scan_only`); returns everything measured (also printed)."""
    import followmoney
    from followmoney import registry
    from followmoney.engines.duckdb import DuckDBEngine
    from followmoney.params import resolve
    from followmoney.workspace import Workspace

    folder = _world(n, data)
    out = data / f"scan-{n:.0e}".replace("+", "")
    shutil.rmtree(out, ignore_errors=True)
    load_before = _load()
    with MemorySampler() as mem:
        t0 = time.perf_counter()
        result = followmoney.scan(str(folder / "transactions.parquet"), parties=str(folder / "parties.parquet"),
                                  out=out)
        total = time.perf_counter() - t0
    manifest = result.manifest
    rows = manifest["reconciliation"]["read"]
    n_postings = manifest["row_counts"]["postings"]
    stages = _stage_table(manifest, t0, mem, rows)
    indicators = _indicator_table(manifest, t0, mem, n_postings)
    peak = max(m for _, m, _ in mem.samples) / 1e6
    cpu_total = mem.cpu(t0, t0 + total)
    print(f"\n== {rows:,} transactions, {n_postings:,} postings: full scan {total:.1f} s, "
          f"{rows / total / 1e6:.2f} M txns/s, CPU {cpu_total:.1f} s, peak {peak:,.0f} MB (alerts {result.n_alerts}, hits {result.hits.height}); "
          f"{load_before} before, {_load()} after")
    print(f"  {'stage':<14} {'s':>8} {'CPU s':>8} {'M txns/s':>9} {'peak MB':>9}")
    for s in stages:
        tput = f"{s['txns_per_s'] / 1e6:9.2f}" if s["txns_per_s"] else f"{'-':>9}"
        print(f"  {s['step']:>2} {s['stage']:<11} {s['seconds']:>8.2f} {s['cpu_seconds']:>8.2f} {tput} "
              f"{s['peak_mb']:>9,.0f}")
    print(f"  {'indicator':<26} {'s':>8} {'M post/s':>9} {'peak MB':>9} {'hits':>6}")
    for r in indicators:
        tput = f"{r['postings_per_s'] / 1e6:9.1f}" if r["postings_per_s"] else f"{'-':>9}"
        print(f"  {r['indicator']:<26} {r['seconds']:>8.2f} {tput} {r['peak_mb']:>9,.0f} {r['hits'] or '':>6}")

    comparisons: list[dict[str, Any]] = []
    measured = {"transactions": rows, "postings": n_postings, "scan_seconds": total, "cpu_seconds": cpu_total,
                "peak_mb": peak, "load_before": load_before, "stages": stages, "indicators": indicators,
                "comparisons": comparisons}
    if scan_only:
        return measured
    ws = Workspace(result.workspace, threads=os.cpu_count())
    try:
        engine = DuckDBEngine(ws)
        planned = {i for (i,) in ws.sql("SELECT indicator_id FROM indicator_plan WHERE runnable").fetchall()}
        kernel_ids = sorted(i for i in planned if registry.get(i).kernel is not None)
        alone: dict[str, tuple[float, list[int]]] = {}
        for ind in kernel_ids:
            cls = registry.get(ind)
            params = resolve(ind, cls.params)
            t_k, hits = _median_time(lambda c=cls, p=params: engine.run_kernel_indicators([(c, p)])[c.id],
                                     repeat if baseline_sql(ind) else 1)
            alone[ind] = (t_k, sorted(set(hits.column("account_key").to_pylist())))
        print(f"  kernel indicators alone (one ordered read each; {_load()}): "
              + ", ".join(f"{k} {v[0]:.2f} s" for k, v in alone.items()))
        print(f"  {'rule':<6} {'followmoney s':>13} {'DuckDB SQL s':>12} {'SQL/fm':>7} {'same accounts':>14}  ({_load()})")
        for ind in alone:
            sql = baseline_sql(ind)
            if sql is None:
                print(f"  {ind:<6} {alone[ind][0]:>13.2f} {'-':>12} {'-':>7} {'(no plain-SQL twin)':>14}")
                continue
            params = _bound(sql, resolve(ind, registry.get(ind).params))
            t_sql, sql_rows = _median_time(lambda q=sql, p=params: ws.sql(q, p).fetchall(), repeat)
            t_k, accounts = alone[ind]
            same = accounts == sorted(r[0] for r in sql_rows)
            comparisons.append({"rule": ind, "against": "duckdb_sql", "followmoney_s": t_k, "other_s": t_sql,
                                "ratio": t_sql / t_k, "same_accounts": same, "accounts": len(accounts)})
            print(f"  {ind:<6} {t_k:>13.2f} {t_sql:>12.2f} {t_sql / t_k:>6.2f}x {str(same):>14} ({len(accounts)})")
            if not same:
                raise SystemExit(f"{ind}: followmoney and the SQL baseline disagree")
        if n <= pandas_max:
            comparisons += _against_pandas(ws, engine, alone, repeat)
    finally:
        ws.close()
    return measured


def _against_pandas(ws: Any, engine: Any, alone: dict[str, tuple[float, list[int]]], repeat: int) -> list[dict[str, Any]]:
    """CSH01 and FLW01 in pandas on the same postings, against followmoney's path for each."""
    from followmoney import registry
    from followmoney.params import resolve

    t_read, df = _median_time(lambda: ws.arrow(
        "SELECT account_key, ts_s, txn_idx, amount, channel FROM postings").to_pandas(), 1)
    print(f"  pandas: postings to a DataFrame {t_read:.2f} s (counted in the pandas times below; {_load()})")
    out = []
    csh01 = resolve("CSH01", registry.get("CSH01").params)
    t_fm, table = _median_time(lambda: engine.run_sql_indicator(registry.get("CSH01"), csh01), repeat)
    fm_accounts = sorted(set(table.column("account_key").to_pylist()))
    t_pd, pd_accounts = _median_time(lambda: pandas_structuring(df, **{k: csh01[k] for k in (
        "threshold", "margin", "window_days", "min_count")}), repeat)
    out.append(("CSH01", t_fm, t_pd + t_read, fm_accounts, pd_accounts))
    if "FLW01" in alone:
        flw01 = resolve("FLW01", registry.get("FLW01").params)
        t_pd, pd_accounts = _median_time(lambda: pandas_pass_through(df, **{k: flw01[k] for k in (
            "min_inflow", "min_ratio", "window_hours", "min_events", "period_days")}), repeat)
        out.append(("FLW01", alone["FLW01"][0], t_pd + t_read, alone["FLW01"][1], pd_accounts))
    rows = []
    for ind, t_fm, t_pd, fm_acc, pd_acc in out:
        same = fm_acc == pd_acc
        rows.append({"rule": ind, "against": "pandas", "followmoney_s": t_fm, "other_s": t_pd, "ratio": t_pd / t_fm,
                     "same_accounts": same, "accounts": len(fm_acc)})
        print(f"  {ind:<6} {t_fm:>13.2f} {t_pd:>12.2f} {t_pd / t_fm:>6.2f}x {str(same):>14} ({len(fm_acc)})  pandas")
        if not same:
            raise SystemExit(f"{ind}: followmoney and pandas disagree ({len(fm_acc)} against {len(pd_acc)} accounts)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1e6,1e7", help="comma-separated transaction counts")
    parser.add_argument("--data", default=str(Path(__file__).parent / "data"), help="where datasets are kept")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pandas-max", default="1e6", help="largest size compared against pandas")
    parser.add_argument("--json", help="also write every number measured to this file")
    parser.add_argument("--scan-only", action="store_true", help="time the scan only, no per-rule baselines")
    args = parser.parse_args()
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(data).free
    total_mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {total_mem / 1e9:.0f} GB, "
          f"Python {platform.python_version()}, free disk {free / 1e9:.0f} GB, {_load()}")
    results = []
    for size in (int(float(s)) for s in args.sizes.split(",")):
        if free < size * 200:  # ~60 B/txn parquet + workspace + spill, with headroom
            sys.exit(f"not enough free disk for {size:.0e} transactions")
        results.append(bench_size(size, data, args.repeat, int(float(args.pandas_max)), args.scan_only))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory (this process): {peak:,.0f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
