"""Cost of the network layer: the NET indicators of stage `detect`, and stage `link`.

Usage:
    python benchmarks/bench_network.py --txns 1e6 [--accounts 5600] [--data benchmarks/data]

It simulates a world of about `--txns` transactions over `--accounts` accounts (days = txns /
accounts; seed 2024, kept in `--data`), scans it up to stage `score` once (so alerts exist), then
times, each in a fresh process so the peak resident memory is the phase's own:

* `detect (network)`: every NET indicator over postings, as stage `detect` runs it;
* `link`: identifier normalisation and exclusions, the flow graph, clusters and their summary, each
  timed on its own (`link: identifiers` = `link: keys` + `link: exclusions`, then `link: reuse
  check`, `link: flow edges`, `link: clusters`); the keys are dropped first, so they are built as
  in a scan where no earlier stage built them;
* `exports`: GraphML, GEXF, i2 CSV and FollowTheMoney JSON lines of the clusters.

It prints wall seconds, CPU seconds (all threads) and peak RSS per phase, with the load average
(the machine may be shared: CPU seconds move less with others' load than wall seconds), and the
cluster quality against the simulator labels (recall per network scenario, purity, share of
background accounts in clusters).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def _world(txns: int, accounts: int, data: Path) -> Path:
    from followmoney.simulate import simulate

    days = max(1, round(txns / accounts))
    folder = data / f"network-world-{txns:.0e}-{accounts}".replace("+", "")
    if not (folder / "transactions.parquet").exists():
        t0 = time.perf_counter()
        simulate(folder, accounts=accounts, days=days, seed=2024)
        print(f"  simulated {accounts:,} accounts x {days} days in {time.perf_counter() - t0:.1f} s")
    return folder


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MB.

    From `VmHWM` of /proc/self/status where there is one: `ru_maxrss` survives `exec` on Linux, so
    in a phase process it reported the peak of the parent (the scan) instead of the phase's own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _timed(fn: Any, label: str, into: dict[str, float]) -> Any:
    """`fn`, recording its wall seconds in `into[label + " s"]`."""
    def run(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            into[f"{label} s"] = round(time.perf_counter() - t, 3)
    return run


def _phase(name: str, workspace: Path, out: Path) -> dict[str, float]:
    """Run one phase in this process; return wall and CPU seconds, peak RSS in MB and the load average."""
    from followmoney import registry
    from followmoney.engines.duckdb import DuckDBEngine
    from followmoney.network import identifiers
    from followmoney.network.clusters import link_clusters
    from followmoney.network.exports import write_exports
    from followmoney.network.flows import build_flow_edges
    from followmoney.network.identifiers import link_options
    from followmoney.pipeline.stage import Context, ScanOptions
    from followmoney.progress import Progress
    from followmoney.workspace import Workspace

    ws = Workspace(str(workspace))
    load = os.getloadavg()[0]
    try:
        t0, c0 = time.perf_counter(), _cpu()
        extra: dict[str, float] = {}

        def lap(label: str, t: float) -> float:
            now = time.perf_counter()
            extra[f"{label} s"] = round(now - t, 3)
            return now

        if name == "detect":
            # Default parameters of every network indicator, as a scan without a profile runs them.
            plan = [(cls, {p.name: p.default for p in cls.params}) for cls in registry.select(["network"])]
            engine = DuckDBEngine(ws)
            for cls, params in plan:
                t1 = time.perf_counter()
                n = engine.run_sql_indicator(cls, params).num_rows
                lap(cls.id, t1)
                extra[f"{cls.id} hits"] = n
        elif name == "link":
            ctx = Context(ws=ws, options=ScanOptions(sources=[]), out=out, progress=Progress(False))
            options = link_options(ctx.settings)
            for table in ("identifier_keys", "identifier_exclusions"):
                ws.drop(table)
            # Both builders timed on their own, as `prepare_identifiers` calls them.
            for builder, label in (("normalise_identifiers", "link: keys"),
                                   ("build_identifier_exclusions", "link: exclusions")):
                setattr(identifiers, builder, _timed(getattr(identifiers, builder), label, extra))
            t = time.perf_counter()
            facts = identifiers.prepare_identifiers(ws, options)
            t = lap("link: identifiers", t)
            extra["identifier_keys"], extra["identifier_exclusions"] = facts["identifier_keys"], facts["n_excluded_identifiers"]
            identifiers.prepare_identifiers(ws, options)
            t = lap("link: reuse check", t)
            extra["flow_edges"] = build_flow_edges(ws)
            t = lap("link: flow edges", t)
            extra.update(link_clusters(ws, options.max_accounts_per_identifier, options.min_shared_beneficiary_senders))
            lap("link: clusters", t)
        else:
            extra.update({k: float(v) for k, v in write_exports(ws, out).items()})
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    finally:
        ws.close()
    peak_mb = _peak_rss_mb()
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3), "peak_rss_mb": round(peak_mb, 1),
            "load_avg_1min": round(load, 2), **extra}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--txns", type=float, default=1e6)
    ap.add_argument("--accounts", type=int, default=5600)
    ap.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--workspace", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(_phase(args.phase, args.workspace, args.workspace.parent)))
        return

    import polars as pl

    import followmoney
    from followmoney.network.evaluate import cluster_quality

    print(f"bench_network: {platform.python_version()} on {platform.machine()}, txns={args.txns:.0e}, "
          f"accounts={args.accounts:,}")
    folder = _world(int(args.txns), args.accounts, args.data)
    out = args.data / f"network-scan-{int(args.txns):.0e}-{args.accounts}".replace("+", "")
    t0 = time.perf_counter()
    result = followmoney.scan(str(folder / "transactions.parquet"), parties=str(folder / "parties.parquet"),
                              out=out, to_stage="score")
    print(f"  scan to stage score: {time.perf_counter() - t0:.1f} s, {result.alerts.height:,} alerts")
    for phase in ("detect", "link", "exports"):
        proc = subprocess.run([sys.executable, __file__, "--phase", phase, "--workspace", str(result.workspace)],
                              capture_output=True, text=True, check=True)
        facts = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"  {phase:8s} {json.dumps(facts)}")
    import duckdb

    con = duckdb.connect(str(result.workspace), read_only=True)
    try:
        clusters = pl.from_arrow(con.sql("SELECT * FROM clusters").to_arrow_table())
        n_accounts = con.execute("SELECT count(*) FROM accounts").fetchone()[0]
        n_txns = con.execute("SELECT count(*) FROM txns").fetchone()[0]
    finally:
        con.close()
    q = cluster_quality(clusters, pl.read_parquet(folder / "labels.parquet"), n_accounts,
                        ("pass_through", "collector_network"))
    print(f"  {n_txns:,} transactions, {n_accounts:,} accounts, {clusters['cluster_id'].n_unique()} clusters")
    print(f"  recall {q.recall}; min purity {min(q.purity.values(), default=1.0):.2f}; "
          f"background in clusters {q.background_share:.4%}; look-alikes in clusters {q.lookalikes_in_clusters}")


if __name__ == "__main__":
    main()
