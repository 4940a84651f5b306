"""Feed numba kernels from sorted postings and turn their output into hit tables.

The adapter is engine-neutral: it takes one bucket of postings (whole accounts, sorted by
account_key, ts_s, txn_idx) as an Arrow table and runs every kernel indicator on it, so the
bucket is read, sorted and converted to arrays once however many kernels there are. DuckDB feeds
it from one ordered stream; Spark feeds it per hash bucket through `applyInArrow`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pyarrow as pa

from followmoney.kernels.inputs import (
    SQL_TYPES,
    account_inputs_of,
    bucket_column,
    expressions_of,
    lookups_of,
)

RAW_HIT_SCHEMA = pa.schema([
    ("account_key", pa.int32()),
    ("window_start", pa.timestamp("us")),
    ("window_end", pa.timestamp("us")),
    ("value", pa.float64()),
    ("evidence", pa.list_(pa.int64())),
])
"""What every kernel (and every SQL indicator, by its column names) produces before decoding."""

KERNEL_HIT_SCHEMA = RAW_HIT_SCHEMA.append(pa.field("details", pa.string()))
"""What `run_kernels` returns per indicator: raw hits and the `details` JSON of `kernel_details`."""

BASE_COLUMNS = ("account_key", "ts", "txn_idx")


def account_offsets(account_key: np.ndarray) -> np.ndarray:
    """Start row of each account in a sorted key array, plus the end: int64[n_accounts + 1]."""
    if len(account_key) == 0:
        return np.zeros(1, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, account_key[1:] != account_key[:-1]])
    return np.r_[starts, len(account_key)].astype(np.int64)


def _frozen(column: pa.ChunkedArray | pa.Array | np.ndarray, dtype: str) -> np.ndarray:
    # numba compiles one signature per read-only/writable mix; making every input read-only and
    # contiguous means one signature whatever the Arrow chunking (platform notes).
    arr = column if isinstance(column, np.ndarray) else column.to_numpy()
    if arr.dtype.kind == "M" and dtype == "int64":
        arr = arr.view("int64")  # timestamps as their int64 count of units, without a copy
    arr = np.ascontiguousarray(arr, dtype=dtype)
    view = arr.view()
    view.flags.writeable = False
    return view


def split_at_accounts(batches: Iterable[pa.RecordBatch], min_rows: int = 1) -> Iterator[pa.Table]:
    """Regroup an ordered stream of record batches into tables that never split an account.

    Batches are gathered until they hold at least `min_rows` rows: DuckDB hands out batches of
    about 122,880 rows whatever batch size is asked for, and every bucket costs fixed work (order
    check, input conversion, a round of kernel calls), which at 10^7 postings and 164 buckets was
    half the kernel pass.
    """
    carry: pa.Table | None = None
    pending: list[pa.RecordBatch] = []
    size = 0

    def gathered() -> pa.Table:
        table = pa.Table.from_batches(pending)
        return table if carry is None else pa.concat_tables([carry, table])

    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        size += batch.num_rows
        if size + (carry.num_rows if carry is not None else 0) < min_rows:
            continue
        table = gathered()
        pending, size = [], 0
        keys = table.column("account_key").to_numpy()
        cut = int(np.searchsorted(keys, keys[-1], side="left"))
        if cut == 0:
            carry = table
            continue
        yield table.slice(0, cut)
        carry = table.slice(cut)
    if pending:
        carry = gathered()
    if carry is not None and carry.num_rows:
        yield carry


def kernel_columns(plan: list[tuple[Any, dict[str, Any]]]) -> list[str]:
    """Bucket columns the kernels of `plan` read, besides the base ones: postings columns and
    account-level inputs by name, expression and lookup inputs by their pass alias (`kernels.inputs`)."""
    columns: list[str] = []
    for cls, _ in plan:
        for col in cls.kernel_inputs:
            name = bucket_column(cls, col)
            if name not in columns:
                columns.append(name)
    return columns


def postings_query(plan: list[tuple[Any, dict[str, Any]]], extra: Iterable[str] = (), joins: str = "") -> str:
    """DuckDB-dialect SELECT over `postings` of what the kernels of `plan` read, in stored order.

    Base columns, stored inputs, and expression inputs cast to their dtype. Account-level inputs
    and value lookups are not in it: each engine adds them its own way (`followmoney.kernels.inputs`),
    through `extra` select items and `joins` after `FROM postings`.
    """
    computed = {alias: f"CAST({expr} AS {SQL_TYPES[dtype]}) AS {alias}"
                for alias, (expr, dtype) in expressions_of(plan).items()}
    added = set(account_inputs_of(plan)) | set(lookups_of(plan))
    stored = [c for c in kernel_columns(plan) if c not in added and c not in (*BASE_COLUMNS, "ts_s")]
    items = [*(f"postings.{c}" for c in (*BASE_COLUMNS, "ts_s")), *(computed.get(c, f"postings.{c}") for c in stored),
             *extra]
    return f"SELECT {', '.join(items)} FROM postings{' ' + joins if joins else ''}"


def _details_json(cls: Any, details: np.ndarray) -> pa.Array:
    """The `details` JSON text of each hit from a kernel's (n_hits, n_details) float array."""
    if not cls.kernel_details:
        return pa.array(["{}"] * len(details), pa.string())
    kinds = list(cls.kernel_details.items())
    rows = []
    for row in np.asarray(details, dtype=np.float64).reshape(-1, len(kinds)):
        item = {}
        for (name, dtype), x in zip(kinds, row, strict=True):
            if np.isnan(x):
                item[name] = None
            elif dtype == "bool":
                item[name] = bool(x)
            elif dtype == "int64":
                item[name] = int(x)
            else:
                item[name] = float(x)
        # Compact separators, like DuckDB's to_json of an SQL indicator's extra columns.
        rows.append(json.dumps(item, separators=(",", ":")))
    return pa.array(rows, pa.string())


def run_kernels(bucket: pa.Table, plan: list[tuple[Any, dict[str, Any]]],
                pool: Executor | None = None, arrays: dict[str, np.ndarray] | None = None) -> dict[str, pa.Table]:
    """Run each kernel indicator of `plan` on one bucket; return raw hits per indicator id.

    Args:
        bucket: postings of whole accounts sorted by (account_key, ts_s, txn_idx), with the base
            columns and every column `kernel_columns(plan)` names.
        plan: (indicator class, resolved params) for each kernel indicator.
        pool: runs the kernels concurrently when given (they are `nogil` numba functions of their
            inputs only, so they may share a bucket); the hits are the same either way.
        arrays: bucket columns the engine computed itself (account inputs, lookups), by the name
            `kernel_columns` gives them, as numpy arrays of the bucket's length: read before
            `bucket`'s own columns, without a round trip through Arrow.

    Returns:
        `KERNEL_HIT_SCHEMA` tables (raw hit columns and `details`) by indicator id.
    """
    keys = bucket.column("account_key").to_numpy()
    offsets = account_offsets(keys)
    ts = bucket.column("ts").to_numpy()
    txn_idx = bucket.column("txn_idx").to_numpy()
    cache: dict[tuple[str, str], np.ndarray] = {}
    calls = []
    for cls, params in plan:
        inputs = []
        for col, dtype in cls.kernel_inputs.items():
            name = bucket_column(cls, col)
            if (name, dtype) not in cache:
                given = arrays.get(name) if arrays else None
                cache[(name, dtype)] = _frozen(bucket.column(name) if given is None else given, dtype)
            inputs.append(cache[(name, dtype)])
        calls.append((cls, (offsets, *inputs, *(params[p.name] for p in cls.params))))
    if pool is None:
        results = [cls.kernel(*args) for cls, args in calls]
    else:
        results = [f.result() for f in [pool.submit(cls.kernel, *args) for cls, args in calls]]
    out = {}
    for (cls, _), result in zip(calls, results, strict=True):
        start, end, value, ev_ptr, ev_rows = result[:5]
        details = result[5] if cls.kernel_details else np.zeros((len(start), 0))
        out[cls.id] = pa.table({
            "account_key": pa.array(keys[start], pa.int32()),
            "window_start": pa.array(ts[start], pa.timestamp("us")),
            "window_end": pa.array(ts[end], pa.timestamp("us")),
            "value": pa.array(value, pa.float64()),
            "evidence": pa.ListArray.from_arrays(pa.array(ev_ptr, pa.int32()), pa.array(txn_idx[ev_rows], pa.int64())),
            "details": _details_json(cls, details),
        }, schema=KERNEL_HIT_SCHEMA)
    return out
