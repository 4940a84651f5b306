"""Feed numba kernels from sorted postings and turn their output into hit tables.

The adapter is engine-neutral: it takes one bucket of postings (whole accounts, sorted by
account_key, ts_s, txn_idx) as an Arrow table and runs every kernel indicator on it, so the
bucket is read, sorted and converted to arrays once however many kernels there are. DuckDB feeds
it from one ordered stream; Spark feeds it per hash bucket through `applyInArrow`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa

RAW_HIT_SCHEMA = pa.schema([
    ("account_key", pa.int32()),
    ("window_start", pa.timestamp("us")),
    ("window_end", pa.timestamp("us")),
    ("value", pa.float64()),
    ("evidence", pa.list_(pa.int64())),
])
"""What every kernel (and every SQL indicator, by its column names) produces before decoding."""

BASE_COLUMNS = ("account_key", "ts", "txn_idx")


def account_offsets(account_key: np.ndarray) -> np.ndarray:
    """Start row of each account in a sorted key array, plus the end: int64[n_accounts + 1]."""
    if len(account_key) == 0:
        return np.zeros(1, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, account_key[1:] != account_key[:-1]])
    return np.r_[starts, len(account_key)].astype(np.int64)


def _frozen(column: pa.ChunkedArray | pa.Array, dtype: str) -> np.ndarray:
    # numba compiles one signature per read-only/writable mix; making every input read-only and
    # contiguous means one signature whatever the Arrow chunking (platform notes).
    arr = np.ascontiguousarray(column.to_numpy(), dtype=dtype)
    view = arr.view()
    view.flags.writeable = False
    return view


def split_at_accounts(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.Table]:
    """Regroup an ordered stream of record batches into tables that never split an account."""
    carry: pa.Table | None = None
    for batch in batches:
        if batch.num_rows == 0:
            continue
        table = pa.Table.from_batches([batch])
        if carry is not None:
            table = pa.concat_tables([carry, table])
        keys = table.column("account_key").to_numpy()
        cut = int(np.searchsorted(keys, keys[-1], side="left"))
        if cut == 0:
            carry = table
            continue
        yield table.slice(0, cut)
        carry = table.slice(cut)
    if carry is not None and carry.num_rows:
        yield carry


def run_kernels(bucket: pa.Table, plan: list[tuple[Any, dict[str, Any]]]) -> dict[str, pa.Table]:
    """Run each kernel indicator of `plan` on one bucket; return raw hits per indicator id.

    Args:
        bucket: postings of whole accounts sorted by (account_key, ts_s, txn_idx), with the base
            columns and every kernel input.
        plan: (indicator class, resolved params) for each kernel indicator.
    """
    keys = bucket.column("account_key").to_numpy()
    offsets = account_offsets(keys)
    ts = bucket.column("ts").to_numpy()
    txn_idx = bucket.column("txn_idx").to_numpy()
    cache: dict[tuple[str, str], np.ndarray] = {}
    out = {}
    for cls, params in plan:
        inputs = []
        for col, dtype in cls.kernel_inputs.items():
            if (col, dtype) not in cache:
                cache[(col, dtype)] = _frozen(bucket.column(col), dtype)
            inputs.append(cache[(col, dtype)])
        start, end, value, ev_ptr, ev_rows = cls.kernel(offsets, *inputs, *(params[p.name] for p in cls.params))
        out[cls.id] = pa.table({
            "account_key": pa.array(keys[start], pa.int32()),
            "window_start": pa.array(ts[start], pa.timestamp("us")),
            "window_end": pa.array(ts[end], pa.timestamp("us")),
            "value": pa.array(value, pa.float64()),
            "evidence": pa.ListArray.from_arrays(pa.array(ev_ptr, pa.int32()), pa.array(txn_idx[ev_rows], pa.int64())),
        }, schema=RAW_HIT_SCHEMA)
    return out
