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
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
from followmoney.kernels.codes import codes_of, hash_table, values_of
from followmoney.kernels.inputs import (
    ACCOUNT_INPUTS,
    account_inputs_of,
    dense_account_array,
    expression_alias,
    lookup_columns,
    lookups_of,
)
from followmoney.workspace import Workspace

log = logging.getLogger(__name__)

T = TypeVar("T")


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
        return _sql_hits(self.ws.con, cls, params)

    def _hit_tables(self, kernel_plan: Plan, sql_plan: Plan, progress: Callable[[int], None] | None,
                    timings: dict[str, float] | None) -> dict[str, pa.Table]:
        """The kernel pass here while the SQL indicators run one after another on a second connection.

        Neither saturates two cores alone (DuckDB's single-threaded phases, the pass's Python work per
        bucket): side by side, detection at 10^7 postings took 7.2-7.4 s against 8.5-8.7 s one after
        the other (benchmarks/RESULTS.md). Both read the same committed tables, so the hits are the
        same either way; per-indicator timings are then wall times shared with the other side.
        """
        if not kernel_plan or not sql_plan:
            return super()._hit_tables(kernel_plan, sql_plan, progress, timings)
        stop = threading.Event()
        cursor = self.ws.con.cursor()

        def run_sql() -> dict[str, pa.Table]:
            out = {}
            for cls, params in sql_plan:
                if stop.is_set():
                    break
                t0 = time.perf_counter()
                out[cls.id] = _sql_hits(cursor, cls, params)
                if timings is not None:
                    timings[cls.id] = time.perf_counter() - t0
            return out

        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="followmoney-sql") as pool:
                sql_side = pool.submit(run_sql)
                try:
                    tables = self._timed_kernel_pass(kernel_plan, progress, timings)
                except BaseException:
                    # Do not leave the user waiting for the SQL side of a failed (or interrupted) pass.
                    stop.set()
                    cursor.interrupt()
                    raise
                tables.update(sql_side.result())
        finally:
            cursor.close()
        return tables

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
        per_account = self._account_inputs(plan)
        coded = self._coded_columns(plan)
        query = postings_query(plan, extra=[c.select for c in coded]) + (
            " ORDER BY account_key, ts_s, txn_idx" if sort else "")
        parts: dict[str, list[pa.Table]] = {cls.id: [] for cls, _ in plan}
        last: tuple[int, int, int] | None = None
        # A relation's reader streams; a cursor keeps the main connection free while it is read.
        cursor = self.ws.con.cursor()
        # The kernels of a bucket run side by side on DuckDB's thread budget: they are nogil and
        # independent, and one thread alone left the second core idle while the next bucket was read.
        threads = int(self.ws.con.execute("SELECT current_setting('threads')").fetchone()[0])

        def prepared(bucket: pa.Table) -> tuple[pa.Table, dict[str, np.ndarray]]:
            # The engine's own inputs of a bucket: account-level values and lookups, gathered by key.
            keys = bucket.column("account_key").to_numpy()
            arrays = {name: values[keys] for name, values in per_account.items()}
            for column in coded:
                arrays.update(column.lookups(bucket))
            return bucket, arrays

        try:
            with (cursor.sql(query).to_arrow_reader(batch_size=self.bucket_rows) as reader,
                  contextlib.closing(prefetched(map(prepared, split_at_accounts(reader, self.bucket_rows)))) as buckets,
                  ThreadPoolExecutor(max_workers=threads, thread_name_prefix="followmoney-kernel")
                  if threads > 1 and len(plan) > 1 else contextlib.nullcontext() as pool):
                # `closing` stops the prefetching thread before the reader it reads from is closed.
                # Buckets are gathered and given their engine inputs in that thread too, so whole
                # buckets wait ready in its queue while the kernels run on the previous one.
                for bucket, arrays in buckets:
                    if not sort:
                        last = _check_order(bucket, last)
                    try:
                        for ind_id, hits in run_kernels(bucket, plan, pool, arrays).items():
                            parts[ind_id].append(hits)
                    except Exception as err:  # noqa: BLE001
                        raise EngineError(f"kernel failed: {err}", indicator=",".join(parts)) from err
                    if progress:
                        progress(bucket.num_rows)
        finally:
            cursor.close()
        return {k: pa.concat_tables(v) if v else KERNEL_HIT_SCHEMA.empty_table() for k, v in parts.items()}

    def _coded_columns(self, plan: Plan) -> list[_CodedColumn]:
        """The value lookups of `plan`, grouped by the text column they read (see `_CodedColumn`)."""
        lookups = lookups_of(plan)
        owner = {expression_alias(cls.id, name): cls.id for cls, _ in plan for name in cls.kernel_lookups}
        out = []
        for column in lookup_columns(plan):
            values = "__fm_values"
            try:
                # Every distinct value, NULL included (NULL hashes too), numbered in any fixed order.
                self.ws.sql(f"""CREATE OR REPLACE TEMP TABLE {values} AS
                    SELECT raw, {HASH_SQL.format('raw')} AS h, CAST(row_number() OVER () - 1 AS INTEGER) AS code
                    FROM (SELECT DISTINCT {column} AS raw FROM postings)""")
                table = self.ws.arrow(f"SELECT raw, h FROM {values} ORDER BY code")
                hashes = table.column("h").to_numpy()
                by_hash = len(np.unique(hashes)) == len(hashes)
                luts = {}
                for alias, lookup in lookups.items():
                    if lookup.column != column:
                        continue
                    sql = lookup.over(f"(SELECT raw FROM {values} WHERE raw IS NOT NULL)")
                    try:
                        rows = self.ws.arrow(f"SELECT d.code, l.value FROM {values} AS d JOIN ({sql}) AS l ON l.raw = d.raw")
                    except Exception as err:  # noqa: BLE001 - wrapped with the indicator and SQL for the user
                        raise EngineError(f"DuckDB failed: {err}", indicator=owner[alias], sql=sql) from err
                    codes = rows.column("code").to_numpy()
                    if len(np.unique(codes)) < len(codes):
                        raise EngineError(f"the lookup {alias} returns more than one value for some {column}",
                                          indicator=owner[alias], sql=sql)
                    # Value i + 1 is that of code i (`kernels.codes`); 0 is for values without one.
                    lut = np.full(len(hashes) + 1, lookup.missing, dtype=lookup.dtype)
                    got = rows.column("value")
                    present = ~np.asarray(got.is_null().to_numpy(zero_copy_only=False))
                    lut[codes[present] + 1] = got.to_numpy(zero_copy_only=False)[present].astype(lookup.dtype)
                    luts[alias] = lut
            finally:
                self.ws.sql(f"DROP TABLE IF EXISTS {values}")
            out.append(_CodedColumn(column, table.column("raw").combine_chunks() if not by_hash else None,
                                    hash_table(hashes) if by_hash else None, luts))
        return out

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


HASH_SQL = "hash({})"
"""How the pass hashes a looked-up text column: DuckDB's 64-bit `hash` (one template, used for the
distinct values and for the postings, so that both hash alike)."""


class _CodedColumn:
    """The value lookups over one text column, and how a bucket's postings find their values.

    Normally the pass reads `hash(column)` and `kernels.codes` maps the hash to the value's code.
    Should two distinct values of the column share a hash (a 64-bit collision, never seen), the
    pass reads the text itself and codes it by value instead: slower, and exact either way.
    """

    def __init__(self, column: str, values: pa.Array | None, table: tuple[np.ndarray, np.ndarray] | None,
                 luts: dict[str, np.ndarray]):
        self.column = column
        self.values = values
        self.table = table
        self.luts = luts
        self.alias = f"__fm_hash__{column}" if table is not None else f"__fm_text__{column}"
        self.select = (f"{HASH_SQL.format(f'postings.{column}')} AS {self.alias}" if table is not None
                       else f"postings.{column} AS {self.alias}")

    def lookups(self, bucket: pa.Table) -> dict[str, np.ndarray]:
        """Each lookup's value per posting of `bucket`, by the lookup's pass alias."""
        if self.table is not None:
            codes = codes_of(bucket.column(self.alias).to_numpy(), *self.table)
        else:
            found = pc.index_in(bucket.column(self.alias), value_set=self.values, skip_nulls=False)
            codes = pc.fill_null(found, -1).to_numpy().astype(np.int32) + 1
        return {alias: values_of(lut, codes) for alias, lut in self.luts.items()}


def _sql_hits(con: Any, cls: type[Indicator], params: dict[str, Any]) -> pa.Table:
    """One SQL indicator's hits through connection `con` (the workspace's, or a cursor of it)."""
    assert cls.sql is not None
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE __fm_sqlhits AS {cls.sql}", params)
        cols = [r[0] for r in con.execute("DESCRIBE __fm_sqlhits").fetchall()]
        extra = [c for c in cols if c not in RAW_HIT_SCHEMA.names]
        details = ("CAST(to_json(struct_pack(" + ", ".join(f'"{c}" := "{c}"' for c in extra) + ")) AS VARCHAR)"
                   if extra else "'{}'")
        return con.sql(
            f"""SELECT CAST(account_key AS INTEGER) AS account_key, CAST(window_start AS TIMESTAMP) AS window_start,
                   CAST(window_end AS TIMESTAMP) AS window_end, CAST(value AS DOUBLE) AS value,
                   CAST(evidence AS BIGINT[]) AS evidence, {details} AS details
            FROM __fm_sqlhits ORDER BY account_key, window_start"""
        ).to_arrow_table()
    except EngineError:
        raise
    except Exception as err:  # noqa: BLE001 - wrapped with the indicator and SQL for the user
        raise EngineError(f"DuckDB failed: {err}", indicator=cls.id, sql=cls.sql) from err
    finally:
        con.execute("DROP TABLE IF EXISTS __fm_sqlhits")


def prefetched(batches: Iterable[T], depth: int = 2) -> Iterator[T]:
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
