"""Synthetic bank transactions with planted human-trafficking red flags.

:func:`simulate` builds a background population of ordinary customers
(:mod:`followmoney.simulate.core`), lets every scenario plug-in
(:mod:`followmoney.simulate.scenarios`) plant its pattern and look-alikes, and
writes four Parquet files:

* ``transactions.parquet`` -- all transactions, sorted by ``(ts, txn_id)``;
* ``parties.parquet`` -- the bank's customers, one row per account and party;
* ``labels.parquet`` -- accounts touched by scenarios, with role and whether
  a detector is expected to alert on them;
* ``label_txns.parquet`` -- every transaction a scenario generated.

Output is a pure function of the arguments: the same seed gives
byte-identical files.  The background and each scenario draw from separate
random streams derived from the seed and their name, and scenario accounts
have ids namespaced by scenario, so adding, removing or resizing one
scenario leaves every other scenario's rows unchanged.

Scale: the background is generated chunk by chunk as integer codes; above
``background.spill_above_rows`` rows the chunks are spilled to per-time-bucket
files and sorted one bucket at a time, so memory is bounded by one bucket, not
the world (docs/simulator.md).  ``benchmarks/bench_simulate.py`` measures
10**6 to 10**8 transactions; ``tests/test_simulate.py`` prints the 10**6 time.
A name list contributed by scenarios (``ad_identifiers``: phones and e-mails
from scraped sex ads) is written to ``lists/<name>.csv``.
"""

from __future__ import annotations

import csv
import math
import os
import queue
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from followmoney.simulate.config import instance_count, load_config, scenario_config
from followmoney.simulate.core import CODED_DTYPE, US_PER_DAY, World
from followmoney.simulate.scenario import (
    Scenario,
    ScenarioOutput,
    concat_parties,
    discover_scenarios,
    scenario_rng,
)
from followmoney.simulate.schema import (
    LABEL_SCHEMA,
    LABEL_TXN_SCHEMA,
    SCENARIO_TXN_SCHEMA,
    TRANSACTION_SCHEMA,
)

__all__ = ["LISTS", "Scenario", "ScenarioOutput", "SimulationResult", "World", "simulate"]

#: Output file stem per result key.
FILES = {"transactions": "transactions.parquet", "parties": "parties.parquet",
         "labels": "labels.parquet", "label_txns": "label_txns.parquet"}

#: Name lists always written to ``lists/<name>.csv`` (header only when no scenario adds to them),
#: so that a scan can name them whatever scenarios are enabled.  ``ad_identifiers`` holds the
#: phones and e-mails a scrape of sex ads would yield (indicator EXT01).
LISTS = ("ad_identifiers",)


@dataclass(frozen=True)
class SimulationResult:
    """Where :func:`simulate` wrote its files and how many rows each holds.

    Attributes:
        paths: Keys ``transactions``, ``parties``, ``labels``, ``label_txns`` and one per
            name list (``ad_identifiers``: ``lists/ad_identifiers.csv``, pass it to a scan as
            profile ``lists: {ad_identifiers: <path>}``).
        counts: Rows per file, same keys.
    """

    paths: dict[str, Path]
    counts: dict[str, int]


def simulate(out: str | os.PathLike[str], accounts: int = 2000, days: int = 180, seed: int = 7,
             start: str = "2024-01-01", config: str | os.PathLike[str] | None = None,
             progress: Callable[[int, int], None] | None = None) -> SimulationResult:
    """Generate a synthetic bank's transactions with planted scenarios.

    Args:
        out: Output directory (created if missing); existing files are overwritten.
        accounts: Number of background customer accounts (scenario accounts
            come on top).  About one transaction per account and day.
        days: Length of the simulated period.
        seed: Master seed; the same seed gives byte-identical output.
        start: First day of the period (ISO date).
        config: Optional YAML file deep-merged over ``defaults.yml``.
        progress: Optional callback ``progress(done, total)`` called after
            each background chunk, each scenario and the final write.

    Returns:
        Paths and row counts of the four files.

    Raises:
        ValueError: If a scenario's output is malformed or reuses an account id.
    """
    cfg = load_config(config)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    world = World(seed, accounts, days, start, cfg["background"])
    plugins = discover_scenarios()
    chunks = list(world.chunks())
    n_buckets = _bucket_count(world)
    total = len(chunks) + len(plugins) + n_buckets
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    # Scenarios first: their rows are few and every time bucket needs its share of them.
    scn_txns, scn_parties, scn_labels = [], [world.parties_table()], []
    scn_lists: dict[str, list[pa.Table]] = {name: [] for name in LISTS}
    known_accounts = set(world.parties_table().column("account_id").to_pylist())
    for name, cls in plugins.items():
        scfg = scenario_config(cfg, name)
        n = instance_count(scfg, accounts)
        if n > 0:
            scenario = cls(scfg.get("params") or {})
            result = scenario.plant(world, scenario_rng(seed, name), n)
            result.validate(scenario)
            new_accounts = set(result.parties.column("account_id").to_pylist())
            if new_accounts & known_accounts:
                raise ValueError(f"scenario {name!r} reuses account ids "
                                 f"{sorted(new_accounts & known_accounts)[:5]}")
            known_accounts |= new_accounts
            scn_txns.append(_within_period(world, result.transactions))
            scn_parties.append(result.parties)
            scn_labels.append(result.labels)
            for list_name, table in result.lists.items():
                scn_lists.setdefault(list_name, []).append(table)
        tick()
    del known_accounts

    paths = {key: out_dir / fname for key, fname in FILES.items()}
    # Scenario rows are coded into the world's vocabularies (and their Arrow tables released),
    # so they merge with the background's codes bucket by bucket.
    scn_coded = world.encode(pa.concat_tables(scn_txns) if scn_txns else SCENARIO_TXN_SCHEMA.empty_table())
    del scn_txns
    with tempfile.TemporaryDirectory(prefix=".spill-", dir=out_dir) as tmp:
        spill = _Spill(world, n_buckets, Path(tmp) if n_buckets > 1 else None)
        for lo, hi in chunks:
            spill.add(world.generate_chunk(lo, hi))
            tick()
        n_txn, label_txns = _write_transactions(world, spill, scn_coded, paths["transactions"], tick)

    parties = concat_parties(scn_parties).sort_by([("account_id", "ascending"),
                                                   ("party_id", "ascending")])
    labels = (pa.concat_tables(scn_labels) if scn_labels else LABEL_SCHEMA.empty_table()).sort_by(
        [("scenario_id", "ascending"), ("account_id", "ascending")])
    pq.write_table(parties, paths["parties"])
    pq.write_table(labels, paths["labels"])
    pq.write_table(label_txns, paths["label_txns"])
    counts = {"transactions": n_txn, "parties": parties.num_rows, "labels": labels.num_rows,
              "label_txns": label_txns.num_rows}
    for list_name, tables in sorted(scn_lists.items()):
        paths[list_name] = out_dir / "lists" / f"{list_name}.csv"
        counts[list_name] = _write_list(tables, paths[list_name])
    return SimulationResult(paths=paths, counts=counts)


def _bucket_count(world: World) -> int:
    """Time buckets the background is partitioned into before the final sort.

    Up to ``spill_above_rows`` expected rows everything stays in memory (one
    bucket); above, rows are spilled to disk in buckets of about
    ``bucket_rows`` rows, so memory is bounded by one bucket, not the world.
    """
    expected = world.accounts * world.days * 1.1  # ~1 transaction per account and day
    if expected <= float(world.cfg.get("spill_above_rows", 4_000_000)):
        return 1
    return min(world.days * 24, math.ceil(expected / float(world.cfg.get("bucket_rows", 2_000_000))))


class _Spill:
    """Coded background rows partitioned into time buckets, in memory or in files.

    Each bucket covers an equal slice of the period; a chunk's rows are split by
    bucket and each column is appended to the bucket's file for that column.
    Reading a bucket back gives its rows in generation order (chunk by chunk),
    so a stable sort by time reproduces the order a global sort would give.
    """

    def __init__(self, world: World, n_buckets: int, directory: Path | None) -> None:
        self.world = world
        self.n = n_buckets
        self.dir = directory
        self._mem: list[dict[str, np.ndarray]] = []

    def bucket_of(self, ts: np.ndarray) -> np.ndarray:
        """Bucket index of each timestamp (int64 µs)."""
        span = self.world.days * US_PER_DAY
        return np.clip((ts - self.world.t0_us) * self.n // span, 0, self.n - 1)

    def add(self, coded: dict[str, np.ndarray]) -> None:
        """Append one chunk's coded rows to their buckets."""
        if self.dir is None:
            self._mem.append(coded)
            return
        b = self.bucket_of(coded["ts"])
        order = np.argsort(b, kind="stable")
        bounds = np.searchsorted(b[order], np.arange(self.n + 1))
        for name in CODED_DTYPE.names:
            col = coded[name][order]
            for k in np.flatnonzero(np.diff(bounds)):
                with open(self.dir / f"{k:05d}-{name}.bin", "ab") as fh:
                    col[bounds[k]:bounds[k + 1]].tofile(fh)

    def take(self, k: int) -> dict[str, np.ndarray]:
        """All rows of bucket ``k`` as coded columns (the bucket is released)."""
        if self.dir is None:
            parts, self._mem = self._mem, []
            return {name: np.concatenate([p[name] for p in parts]) if parts
                    else np.empty(0, dtype=CODED_DTYPE[name]) for name in CODED_DTYPE.names}
        out = {}
        for name in CODED_DTYPE.names:
            path = self.dir / f"{k:05d}-{name}.bin"
            out[name] = (np.fromfile(path, dtype=CODED_DTYPE[name]) if path.exists()
                         else np.empty(0, dtype=CODED_DTYPE[name]))
            path.unlink(missing_ok=True)
        return out


def _write_list(tables: list[pa.Table], path: Path) -> int:
    """Write one name list as CSV (``value,tag``), deduplicated and sorted so output is stable.

    The file is written even when empty (header only), so a scan profile can always name it.

    Returns:
        Number of entries written.
    """
    rows = sorted({(v, t or "") for table in tables
                   for v, t in zip(table.column("value").to_pylist(), table.column("tag").to_pylist(),
                                   strict=True) if v})
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["value", "tag"])
        writer.writerows(rows)
    return len(rows)


def _within_period(world: World, table: pa.Table) -> pa.Table:
    """Drop scenario rows outside the simulated period (plug-ins should not make any)."""
    ts = table.column("ts").cast(pa.int64()).to_numpy()
    keep = (ts >= world.t0_us) & (ts < world.t0_us + world.days * 86_400_000_000)
    return table if keep.all() else table.filter(pa.array(keep))


def _txn_ids(first: int, n: int) -> pa.Array:
    """Ids ``T000000001``... for rows ``first .. first + n - 1`` (0-based).

    Built as fixed-width bytes with numpy (ten characters each) instead of
    formatting strings one by one; beyond 999,999,999 rows ids simply grow longer.
    """
    numbers = np.arange(first + 1, first + n + 1, dtype=np.int64)
    if first + n > 999_999_999:
        text = pc.cast(pa.array(numbers), pa.string())
        return pc.binary_join_element_wise("T", pc.utf8_lpad(text, 9, "0"), "")
    width = 9
    digits = np.empty((n, width + 1), dtype=np.uint8)
    digits[:, 0] = ord("T")
    for pos in range(width, 0, -1):
        digits[:, pos] = ord("0") + numbers % 10
        numbers //= 10
    offsets = np.arange(0, (width + 1) * (n + 1), width + 1, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(digits.tobytes())])


def _write_transactions(world: World, spill: _Spill, scn_coded: dict[str, np.ndarray], path: Path,
                        tick: Callable[[], None]) -> tuple[int, pa.Table]:
    """Merge background and scenario rows by time and write them row group by row group.

    Scenario rows come coded into the world's vocabularies (:meth:`World.encode`),
    so both kinds are sorted and decoded together.  Buckets are sorted one at a time (background
    rows first, in generation order, then scenario rows; the sort is stable, so
    rows with equal ``ts`` keep that order and txn ids are reproducible).
    Strings are materialised one row group at a time, so memory stays near the
    size of one coded bucket.

    Returns:
        Number of rows written and the ``label_txns`` table.
    """
    scn_bucket = spill.bucket_of(scn_coded["ts"])
    scn_order = np.argsort(scn_bucket, kind="stable")
    scn_bounds = np.searchsorted(scn_bucket[scn_order], np.arange(spill.n + 1))
    rg = max(1, int(world.cfg.get("row_group_rows", 262144)))
    out = _RowGroupWriter(path, rg)
    try:
        for k in range(spill.n):
            coded = spill.take(k)
            rows = scn_order[scn_bounds[k]:scn_bounds[k + 1]]
            merged = {name: np.concatenate([coded[name], scn_coded[name][rows]]) for name in coded}
            del coded
            order = np.argsort(merged["ts"], kind="stable")
            for off in range(0, order.size, rg):
                out.push(world.decode(merged, order[off:off + rg]))
            del merged, order
            tick()
    except BaseException:
        out.abort()
        raise
    return out.close()


class _RowGroupWriter:
    """Writes sorted parts as row groups of exactly ``rg`` rows (the last one shorter).

    Assigns the txn ids in file order and collects the ``label_txns`` rows.
    """

    def __init__(self, path: Path, rg: int) -> None:
        self.rg = rg
        # Dictionary encoding for the repetitive columns only (txn_id is unique, ts and amount
        # nearly so); statistics where readers prune on them.  Both save encoding time.
        self.writer = pq.ParquetWriter(
            path, TRANSACTION_SCHEMA,
            use_dictionary=[n for n in TRANSACTION_SCHEMA.names if n not in ("txn_id", "ts", "amount")],
            write_statistics=["txn_id", "ts", "amount"])
        # Encoding runs in a worker thread (Arrow releases the GIL) while the next row group is
        # decoded; the queue holds at most two row groups, which bounds memory.
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=2)
        self._error: list[BaseException] = []
        self._thread = threading.Thread(target=self._drain, name="simulate-writer", daemon=True)
        self._thread.start()
        self.pending: list[pa.Table] = []
        self.n_pending = 0
        self.written = 0
        self.label_ids: list[pa.Array] = []
        self.label_sids: list[pa.Array] = []

    def _drain(self) -> None:
        """Worker: write queued row groups until the end marker (errors are re-raised by the caller)."""
        while (table := self._queue.get()) is not None:
            if not self._error:
                try:
                    self.writer.write_table(table, row_group_size=self.rg)
                except BaseException as err:  # noqa: BLE001 -- handed to the main thread
                    self._error.append(err)

    def push(self, part: pa.Table) -> None:
        """Queue a sorted part; full row groups are written at once."""
        self.pending.append(part)
        self.n_pending += part.num_rows
        while self.n_pending >= self.rg:
            self._flush(self.rg)

    def _flush(self, n: int) -> None:
        table = pa.concat_tables(self.pending) if len(self.pending) > 1 else self.pending[0]
        head, rest = table.slice(0, n), table.slice(n)
        self.pending = [rest] if rest.num_rows else []
        self.n_pending = rest.num_rows
        ids = _txn_ids(self.written, n)
        self.written += n
        head = head.combine_chunks()
        if self._error:
            raise self._error[0]
        self._queue.put(pa.Table.from_arrays([ids] + head.columns[:-1], schema=TRANSACTION_SCHEMA))
        sid = head.column("scenario_id").combine_chunks()
        mask = pc.is_valid(sid)
        self.label_ids.append(ids.filter(mask))
        self.label_sids.append(sid.filter(mask))

    def abort(self) -> None:
        """Stop the writer thread and close the file after an error in the caller."""
        self._queue.put(None)
        self._thread.join()
        self.writer.close()

    def close(self) -> tuple[int, pa.Table]:
        """Write what is left; returns the row count and the ``label_txns`` table."""
        if self.n_pending:
            self._flush(self.n_pending)
        self._queue.put(None)
        self._thread.join()
        self.writer.close()
        if self._error:
            raise self._error[0]
        label_txns = pa.Table.from_arrays(
            [pa.concat_arrays(self.label_ids) if self.label_ids else pa.array([], pa.string()),
             pa.concat_arrays(self.label_sids) if self.label_sids else pa.array([], pa.string())],
            schema=LABEL_TXN_SCHEMA)
        return self.written, label_txns
