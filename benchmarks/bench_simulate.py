"""Simulator throughput and peak memory at growing sizes (10^6 to 10^8 transactions).

Usage:
    python benchmarks/bench_simulate.py --sizes 1e6,1e7,1e8 [--out /tmp/fm-bench] [--keep]

For each size it first checks the free disk space under `--out` against an estimate of what the
run writes (the Parquet output, about `PARQUET_BYTES_PER_TXN` bytes per transaction, plus the
spill files of the time-bucketed sort, `CODED_DTYPE.itemsize` bytes per transaction, with a 25 %
margin) and refuses with a clear message when it does not fit. It then simulates the world in a
child process (so each size's peak RSS is its own), prints the wall time, transactions per second,
the child's CPU time (user + system, all threads) and transactions per CPU-second, which is what
to compare on a machine shared with other work, and the child's peak RSS; it deletes the output
unless `--keep` is given.

The world has `--days` days (180) and `size / (days * TXN_PER_ACCOUNT_DAY)` accounts; the seed is
fixed (2024) so runs are comparable. Timings on a shared machine are inflated by other load:
compare ratios between sizes, and rerun when the machine is quiet.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

#: Background transactions per account and day with the default configuration (measured at
#: 5,600 accounts x 180 days); scenario rows add about 1-2 %.
TXN_PER_ACCOUNT_DAY = 1.0
#: Bytes per transaction of transactions.parquet plus the small files: 24 measured at 10^6 and 10^7,
#: rounded up.
PARQUET_BYTES_PER_TXN = 30
#: Margin on the disk estimate.
DISK_MARGIN = 1.25


def disk_needed(size: int) -> int:
    """Bytes a run of `size` transactions needs on disk at its peak (output plus spill files)."""
    from followmoney.simulate.core import CODED_DTYPE

    return int(size * (PARQUET_BYTES_PER_TXN + CODED_DTYPE.itemsize) * DISK_MARGIN)


def child(size: int, out: Path, days: int) -> None:
    """Run one simulation in this process and print its measurements as JSON."""
    from followmoney.simulate import simulate

    accounts = max(1, round(size / (days * TXN_PER_ACCOUNT_DAY)))
    t0 = time.perf_counter()
    result = simulate(out, accounts=accounts, days=days, seed=2024)
    elapsed = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss * 1024  # Linux reports KiB
    cpu = usage.ru_utime + usage.ru_stime  # all threads, imports included
    files = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(json.dumps({"accounts": accounts, "transactions": result.counts["transactions"], "seconds": elapsed,
                      "cpu_seconds": cpu, "peak_rss": peak, "bytes": files}))


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, check the disk, run each size in a child process and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1e6", help="comma-separated transaction counts, e.g. 1e6,1e7,1e8")
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--out", default="/tmp/fm-bench-simulate", help="scratch folder (needs the disk space)")
    ap.add_argument("--keep", action="store_true", help="keep the simulated worlds")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    base = Path(args.out)
    if args.child is not None:
        child(args.child, base, args.days)
        return 0

    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    base.mkdir(parents=True, exist_ok=True)
    print(f"{'transactions':>14} {'accounts':>9} {'seconds':>9} {'txn/s':>11} {'CPU s':>8} {'txn/CPU-s':>11} "
          f"{'peak RSS':>10} {'on disk':>9}")
    status = 0
    for size in sizes:
        target = base / f"world-{size:.0e}".replace("+", "")
        free = shutil.disk_usage(base).free
        need = disk_needed(size)
        if need > free:
            print(f"refusing {size:.0e}: needs about {need / 1e9:.1f} GB on {base}, only {free / 1e9:.1f} GB free "
                  f"(use --out on a larger disk or a smaller size)", file=sys.stderr)
            status = 2
            continue
        proc = subprocess.run([sys.executable, __file__, "--child", str(size), "--days", str(args.days),
                               "--out", str(target)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"size {size:.0e} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
            status = 1
            continue
        m = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{m['transactions']:>14,} {m['accounts']:>9,} {m['seconds']:>9.1f} "
              f"{m['transactions'] / m['seconds']:>11,.0f} {m['cpu_seconds']:>8.1f} "
              f"{m['transactions'] / m['cpu_seconds']:>11,.0f} {m['peak_rss'] / 2**30:>8.2f}GB {m['bytes'] / 1e9:>7.2f}GB",
              flush=True)
        if not args.keep:
            shutil.rmtree(target, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
