"""The DuckDB engine: runs SQL indicators in the workspace and streams postings through the kernels.

Kernel indicators share one ordered read of postings, fetched as Arrow record batches, regrouped
so no account is split, and each bucket goes through every kernel: one scan for the whole kernel
catalogue, with memory bounded by the bucket size. Postings are stored in (account_key, ts_s,
txn_idx) order at ingest, so the read trusts that order after checking it bucket by bucket, and
only sorts (`ORDER BY`, spilled by DuckDB when needed) if the check fails.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa

from followmoney.engines.base import Engine, Plan
from followmoney.errors import EngineError
from followmoney.indicator import Indicator
from followmoney.kernels.adapter import (
    KERNEL_HIT_SCHEMA,
    RAW_HIT_SCHEMA,
    postings_query,
    run_kernels,
    split_at_accounts,
)
from followmoney.kernels.inputs import ACCOUNT_INPUTS, account_inputs_of, dense_account_array
from followmoney.workspace import Workspace

log = logging.getLogger(__name__)


__all__ = ["DuckDBEngine", "Plan", "write_hits"]


class DuckDBEngine(Engine):
    """Run indicators against a DuckDB workspace.

    Args:
        ws: the workspace holding `postings`, `accounts` and `txns`.
        bucket_rows: postings per bucket of the kernel pass (default: env FOLLOWMONEY_BUCKET_ROWS or
            2^19, the fastest of 2^17..2^21 at 10^7 postings: large enough to amortise each
            bucket's fixed work, small enough for reading and kernels to overlap); buckets hold
            whole accounts, so one bucket may exceed it by one account's rows.
    """

    name = "duckdb"

    def __init__(self, ws: Workspace, bucket_rows: int | None = None):
        self.ws = ws
        # FOLLOWMONEY_BUCKET_ROWS trades memory for fewer hand-offs; tests shrink it to split accounts.
        self.bucket_rows = bucket_rows or int(os.environ.get("FOLLOWMONEY_BUCKET_ROWS", 1 << 19))

    def run_sql_indicator(self, cls: type[Indicator], params: dict[str, Any]) -> pa.Table:
        """Run one SQL indicator; columns beyond the raw hit contract become the `details` JSON."""
        assert cls.sql is not None
        try:
            self.ws.sql(f"CREATE OR REPLACE TEMP TABLE __fm_sqlhits AS {cls.sql}", params)
            cols = self.ws.columns("__fm_sqlhits")
            extra = [c for c in cols if c not in RAW_HIT_SCHEMA.names]
            details = ("CAST(to_json(struct_pack(" + ", ".join(f'"{c}" := "{c}"' for c in extra) + ")) AS VARCHAR)"
                       if extra else "'{}'")
            table = self.ws.arrow(
                f"""SELECT CAST(account_key AS INTEGER) AS account_key, CAST(window_start AS TIMESTAMP) AS window_start,
                       CAST(window_end AS TIMESTAMP) AS window_end, CAST(value AS DOUBLE) AS value,
                       CAST(evidence AS BIGINT[]) AS evidence, {details} AS details
                FROM __fm_sqlhits ORDER BY account_key, window_start"""
            )
        except EngineError:
            raise
        except Exception as err:  # noqa: BLE001 - wrapped with the indicator and SQL for the user
            raise EngineError(f"DuckDB failed: {err}", indicator=cls.id, sql=cls.sql) from err
        finally:
            self.ws.sql("DROP TABLE IF EXISTS __fm_sqlhits")
        return table

    def run_kernel_indicators(self, plan: Plan, progress: Callable[[int], None] | None = None) -> dict[str, pa.Table]:
        """Stream postings once through every kernel indicator of `plan`.

        Postings are written sorted by (account_key, ts_s, txn_idx) at ingest and the workspace
        preserves insertion order, so the stream is first read in stored order, without a sort
        (at 10^7 rows the sort was most of the kernel pass). Every bucket is checked; if postings
        turn out not to be in that order, the pass starts again with an ORDER BY.
        """
        if not plan:
            return {}
        try:
            return self._kernel_pass(plan, progress, sort=False)
        except _OutOfOrder:
            # Worth a warning: the sort costs more than the whole pass at 10^7 postings.
            log.warning("postings are not read in (account_key, ts_s, txn_idx) order: sorting them for the kernels")
            return self._kernel_pass(plan, progress, sort=True)

    def _kernel_pass(self, plan: Plan, progress: Callable[[int], None] | None, sort: bool) -> dict[str, pa.Table]:
        query = postings_query(plan) + (" ORDER BY account_key, ts_s, txn_idx" if sort else "")
        per_account = self._account_inputs(plan)
        parts: dict[str, list[pa.Table]] = {cls.id: [] for cls, _ in plan}
        last: tuple[int, int, int] | None = None
        # A relation's reader streams; a cursor keeps the main connection free while it is read.
        cursor = self.ws.con.cursor()
        # The kernels of a bucket run side by side on DuckDB's thread budget: they are nogil and
        # independent, and one thread alone left the second core idle while the next bucket was read.
        threads = int(self.ws.con.execute("SELECT current_setting('threads')").fetchone()[0])
        try:
            with (cursor.sql(query).to_arrow_reader(batch_size=self.bucket_rows) as reader,
                  contextlib.closing(prefetched(split_at_accounts(reader, self.bucket_rows))) as buckets,
                  ThreadPoolExecutor(max_workers=threads, thread_name_prefix="followmoney-kernel")
                  if threads > 1 and len(plan) > 1 else contextlib.nullcontext() as pool):
                # `closing` stops the prefetching thread before the reader it reads from is closed.
                # Buckets are gathered in that thread too, so whole buckets wait ready in its queue.
                for bucket in buckets:
                    if not sort:
                        last = _check_order(bucket, last)
                    keys = bucket.column("account_key").to_numpy()
                    for name, values in per_account.items():
                        bucket = bucket.append_column(name, pa.array(values[keys]))
                    try:
                        for ind_id, hits in run_kernels(bucket, plan, pool).items():
                            parts[ind_id].append(hits)
                    except Exception as err:  # noqa: BLE001
                        raise EngineError(f"kernel failed: {err}", indicator=",".join(parts)) from err
                    if progress:
                        progress(bucket.num_rows)
        finally:
            cursor.close()
        return {k: pa.concat_tables(v) if v else KERNEL_HIT_SCHEMA.empty_table() for k, v in parts.items()}

    def _account_inputs(self, plan: Plan) -> dict[str, np.ndarray]:
        """Account-level kernel inputs as dense arrays indexed by account_key, gathered per bucket."""
        names = account_inputs_of(plan)
        if not names:
            return {}
        n_accounts = self.ws.count("accounts")
        out = {}
        for name in names:
            spec = ACCOUNT_INPUTS[name]
            if all(self.ws.has(t) for t in spec.needs):
                table = self.ws.arrow(spec.sql)
            else:
                table = pa.table({"account_key": pa.array([], pa.int32()), "value": pa.array([], pa.float64())})
            out[name] = dense_account_array(table, name, n_accounts)
        return out

    def detect(self, plan: Plan, progress: Callable[[int], None] | None = None,
               timings: dict[str, float] | None = None) -> int:
        """Run every indicator of `plan` and write the decoded `hits` table; returns its row count."""
        return write_hits(self.ws, self.raw_hits(plan, progress, timings))


def prefetched(batches: Iterable[pa.RecordBatch], depth: int = 2) -> Iterator[pa.RecordBatch]:
    """Yield `batches` while a background thread already fetches the next ones.

    DuckDB computes a batch (reading and projecting postings on its own threads) while the caller
    runs the kernels on the previous one: both release the GIL (kernels are `nogil` numba), so on
    two cores reading and computing overlap instead of taking turns. At most `depth` batches wait.
    """
    done = object()
    ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def pump() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, which raises it
            put(err)
        put(done)

    worker = threading.Thread(target=pump, name="followmoney-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # The consumer stopped (finished, or a kernel failed): release the pump before the reader closes.
        stop.set()
        worker.join()


class _OutOfOrder(Exception):
    """Postings read in stored order are not sorted by (account_key, ts_s, txn_idx)."""


def _check_order(bucket: pa.Table, last: tuple[int, int, int] | None) -> tuple[int, int, int]:
    """Raise `_OutOfOrder` unless the bucket continues the sorted stream; return its last key.

    Buckets are consecutive slices of the stream, so checking each bucket and each boundary
    checks the whole stream (a few vectorised passes, milliseconds per million rows).
    """
    k = bucket.column("account_key").to_numpy().astype(np.int64)
    t = bucket.column("ts_s").to_numpy()
    x = bucket.column("txn_idx").to_numpy()
    if last is not None:
        k, t, x = np.r_[last[0], k], np.r_[last[1], t], np.r_[last[2], x]
    dk, dt, dx = np.diff(k), np.diff(t), np.diff(x)
    if not np.all((dk > 0) | ((dk == 0) & ((dt > 0) | ((dt == 0) & (dx >= 0))))):
        raise _OutOfOrder
    return int(k[-1]), int(t[-1]), int(x[-1])


def write_hits(ws: Workspace, raw: list[pa.Table]) -> int:
    """Decode raw hits (integer keys) into the `hits` contract table, deterministically ordered."""
    ws.sql("""CREATE OR REPLACE TABLE hits (indicator_id VARCHAR, account_id VARCHAR, window_start TIMESTAMP,
              window_end TIMESTAMP, value DOUBLE, score DOUBLE, evidence_txn_ids VARCHAR[], params VARCHAR,
              details VARCHAR)""")
    columns = ["indicator_id", "account_key", "window_start", "window_end", "value", "score", "evidence", "params",
               "details"]
    tables = [t.select(columns) for t in raw if t.num_rows]
    if not tables:
        return 0
    combined = pa.concat_tables(tables)
    # Number hits in Python: a window-free key that every join below can rely on.
    combined = combined.append_column("hit_no", pa.array(np.arange(combined.num_rows, dtype=np.int64)))
    ws.register("__fm_rawhits", combined)
    try:
        ws.sql(
            """INSERT INTO hits
            WITH numbered AS (SELECT * FROM __fm_rawhits),
            ev AS (
                SELECT n.hit_no, list(t.txn_id ORDER BY e.pos) AS evidence_txn_ids
                FROM (SELECT hit_no, unnest(evidence) AS txn_idx, generate_subscripts(evidence, 1) AS pos
                      FROM numbered) AS e
                JOIN numbered AS n ON n.hit_no = e.hit_no
                JOIN txns AS t ON t.txn_idx = e.txn_idx
                GROUP BY n.hit_no
            )
            SELECT n.indicator_id, a.account_id, n.window_start, n.window_end, n.value, n.score,
                   coalesce(ev.evidence_txn_ids, []), n.params, n.details
            FROM numbered AS n JOIN accounts AS a ON a.account_key = n.account_key
            LEFT JOIN ev ON ev.hit_no = n.hit_no
            ORDER BY n.indicator_id, a.account_id, n.window_start, n.window_end"""
        )
    finally:
        ws.con.unregister("__fm_rawhits")
    return ws.count("hits")


def export_parquet(ws: Workspace, tables: list[str], folder: str) -> dict[str, str]:
    """Write workspace tables to Parquet files in `folder`, for another engine to read.

    Args:
        ws: the workspace.
        tables: table names; those the workspace does not have are left out.
        folder: an existing folder (shared storage when the reader is a cluster).

    Returns:
        {table: parquet path} for each table written.
    """
    import os

    paths = {}
    for name in tables:
        if not ws.has(name):
            continue
        path = os.path.join(folder, f"{name}.parquet")
        # Postings are stored sorted by account; keeping that order keeps row groups account-local.
        ws.sql(f"COPY (SELECT * FROM \"{name}\") TO '{path}' (FORMAT parquet)")
        paths[name] = path
    return paths
