"""The DuckDB engine's kernel pass: stored order is trusted only as far as it is checked."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from followmoney import registry
from followmoney.engines import duckdb as engine_module
from followmoney.engines.duckdb import DuckDBEngine
from followmoney.pipeline.stage import Context, ScanOptions
from followmoney.pipeline.steps import s01_scope, s02_collect
from followmoney.progress import Progress
from followmoney.workspace import Workspace


@pytest.fixture()
def ws(small_csv: Path):
    ws = Workspace(":memory:", threads=1)
    ctx = Context(ws=ws, options=ScanOptions(sources=[str(small_csv)]), out=small_csv.parent, progress=Progress(False))
    for stage in (s01_scope, s02_collect):
        stage.STAGE.run(ctx)
    yield ws
    ws.close()


def _plan():
    flw = registry.get("FLW01")
    return [(flw, {p.name: p.default for p in flw.params})]


def test_sorted_postings_are_read_without_a_sort(ws, monkeypatch):
    calls = []
    original = DuckDBEngine._kernel_pass

    def spy(self, plan, progress, sort):
        calls.append(sort)
        return original(self, plan, progress, sort)

    monkeypatch.setattr(DuckDBEngine, "_kernel_pass", spy)
    hits = DuckDBEngine(ws, bucket_rows=7).run_kernel_indicators(_plan())
    assert calls == [False]
    assert hits["FLW01"].num_rows == 1


def test_unsorted_postings_fall_back_to_a_sort_with_the_same_hits(ws, monkeypatch):
    expected = DuckDBEngine(ws, bucket_rows=7).run_kernel_indicators(_plan())["FLW01"]
    # Store postings newest first: every account is out of order.
    ws.sql("CREATE OR REPLACE TABLE postings AS SELECT * FROM postings ORDER BY ts_s DESC, account_key DESC")
    calls = []
    original = DuckDBEngine._kernel_pass

    def spy(self, plan, progress, sort):
        calls.append(sort)
        return original(self, plan, progress, sort)

    monkeypatch.setattr(DuckDBEngine, "_kernel_pass", spy)
    got = DuckDBEngine(ws, bucket_rows=7).run_kernel_indicators(_plan())["FLW01"]
    assert calls == [False, True]
    assert got.equals(expected)


def test_order_check_catches_an_account_that_comes_back():
    import pyarrow as pa

    first = pa.table({"account_key": pa.array([1, 2], pa.int32()), "ts_s": [5, 6], "txn_idx": [1, 2]})
    again = pa.table({"account_key": pa.array([1], pa.int32()), "ts_s": [9], "txn_idx": [3]})
    last = engine_module._check_order(first, None)
    with pytest.raises(engine_module._OutOfOrder):
        engine_module._check_order(again, last)


def test_prefetch_keeps_order_passes_errors_and_stops_its_thread():
    import threading

    batches = [pa.record_batch({"x": [i]}) for i in range(7)]
    assert [b.column(0)[0].as_py() for b in engine_module.prefetched(iter(batches))] == list(range(7))

    def failing():
        yield batches[0]
        raise ValueError("reader broke")

    with pytest.raises(ValueError, match="reader broke"):
        list(engine_module.prefetched(failing()))
    # A consumer that stops early (a kernel failed) must not leave the pump blocked on a full queue.
    gen = engine_module.prefetched(iter(batches * 10), depth=1)
    next(gen)
    gen.close()
    assert not any(t.name == "followmoney-prefetch" for t in threading.enumerate())


def test_kernels_run_side_by_side_with_the_same_hits(scanned, monkeypatch):
    """With two threads the kernels of a bucket share a pool; every table is the sequential one."""
    from concurrent.futures import ThreadPoolExecutor

    plan = [(cls, {p.name: p.default for p in cls.params}) for cls in registry.all() if cls.kernel is not None]
    submitted = []

    class CountingPool(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            submitted.append(fn)
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(engine_module, "ThreadPoolExecutor", CountingPool)
    ws = Workspace(scanned.workspace, read_only=True, threads=1)
    try:
        alone = DuckDBEngine(ws, bucket_rows=50_000).run_kernel_indicators(plan)
        assert submitted == []
        ws.con.execute("SET threads = 2")
        pooled = DuckDBEngine(ws, bucket_rows=50_000).run_kernel_indicators(plan)
    finally:
        ws.close()
    assert len(submitted) >= len(plan) * 2, "every kernel of every bucket goes through the pool"
    assert sum(t.num_rows for t in alone.values()) > 0
    for ind_id, table in alone.items():
        assert pooled[ind_id].equals(table), ind_id
