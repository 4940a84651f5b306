"""The oracle harness for kernels that replaced SQL rules: run both on the same random postings.

A kernel indicator runs as a scan runs it (kernel pass, decoding of evidence and details); its
former SQL, kept verbatim in `benchmarks/baselines/<ID>.sql` (the same text is the plain-SQL
baseline of `bench_catalogue.py`), runs on the same workspace through the SQL engine path; the two
must agree on every hit: account, window, value, evidence transactions in order and details.
Floating sums may be added up in another order than DuckDB's, so values compare to 1e-9 relative.
"""

from __future__ import annotations

import json
import re
import tempfile
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, settings

from followmoney import registry
from followmoney.engines.duckdb import DuckDBEngine
from followmoney.params import resolve
from followmoney.pipeline.stage import Context, ScanOptions
from followmoney.pipeline.steps import s01_scope, s02_collect, s04_indicators, s05_detect
from followmoney.progress import Progress
from followmoney.workspace import Workspace

BASELINES = Path(__file__).resolve().parents[1] / "benchmarks" / "baselines"


def former_sql(indicator_id: str) -> str:
    """The rule's SQL as it was before it became a kernel, one row per hit (without its comment lines)."""
    text = (BASELINES / f"{indicator_id}.sql").read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.startswith("--"))


T0 = datetime(2024, 1, 1)
COLUMNS = ["txn_id", "ts", "amount", "currency", "payer_account", "beneficiary_account", "channel", "mcc", "memo",
           "counterparty_name", "city"]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TIMEZONES = ["UTC", "America/New_York", "Asia/Tokyo"]


def table_of(rows: list[dict[str, Any]]) -> pa.Table:
    """Transactions of `rows` (dicts by column; missing keys are NULL) with every column of COLUMNS."""
    return pa.table({c: pa.array([r.get(c) for r in rows], pa.timestamp("us") if c == "ts" else
                                 pa.float64() if c == "amount" else pa.string()) for c in COLUMNS})


def hit(account: str, start: Any, end: Any, value: float, evidence: list[str], details: list[tuple[str, Any]]) -> tuple:
    """One hit as the harness compares it."""
    return (account, start, end, value, evidence, details)


def run_both(indicator: str, oracle: str, rows: list[dict[str, Any]], params: dict[str, Any],
             parties: pa.Table | None = None, timezone: str = "UTC",
             lists: dict[str, str] | None = None) -> tuple[list[tuple], list[tuple]]:
    """Hits of the indicator as a scan runs it, and of `oracle` (its former SQL) on the same workspace.

    Each hit is (account_id, window_start, window_end, value, evidence txn ids, details as ordered
    (key, value) pairs), sorted.
    """
    cls = registry.get(indicator)
    ws = Workspace(":memory:", threads=1)
    tmp = tempfile.TemporaryDirectory()
    try:
        profile: dict[str, Any] = {"timezone": timezone}
        if lists:
            profile["lists"] = {}
            for name, text in lists.items():
                path = Path(tmp.name) / f"{name}.csv"
                path.write_text(text, encoding="utf-8")
                profile["lists"][name] = {"path": str(path)}
        options = ScanOptions(sources=[table_of(rows)], parties=[parties] if parties is not None else None,
                              indicators=[cls.id], overrides={cls.id: dict(params)}, profile=profile)
        ctx = Context(ws=ws, options=options, out=Path("."), progress=Progress(False))
        for stage in (s01_scope, s02_collect, s04_indicators, s05_detect):
            stage.STAGE.run(ctx)
        got = [hit(a, s, e, v, list(ev), list(json.loads(d).items())) for a, s, e, v, ev, d in ws.sql(
            """SELECT account_id, window_start, window_end, value, evidence_txn_ids, details FROM hits
               WHERE indicator_id = $i""", {"i": cls.id}).fetchall()]
        full = resolve(cls.id, cls.params, params)
        names = set(re.findall(r"\$([A-Za-z_]\w*)", oracle))
        table = DuckDBEngine(ws).run_sql_indicator(SimpleNamespace(id=cls.id, sql=oracle),  # type: ignore[arg-type]
                                                   {k: v for k, v in full.items() if k in names})
        account_id = dict(ws.sql("SELECT account_key, account_id FROM accounts").fetchall())
        txn_id = dict(ws.sql("SELECT txn_idx, txn_id FROM txns").fetchall())
        want = [hit(account_id[r["account_key"]], r["window_start"], r["window_end"], r["value"],
                     [txn_id[i] for i in r["evidence"]], list(json.loads(r["details"]).items()))
                for r in table.to_pylist()]
        return sorted(got, key=repr), sorted(want, key=repr)
    finally:
        ws.close()
        tmp.cleanup()


def assert_same_hits(got: list[tuple], want: list[tuple]) -> None:
    """Equal hits; floats (value and float details) to 1e-9 relative."""
    assert [h[:3] + (h[4],) for h in got] == [h[:3] + (h[4],) for h in want]
    for g, w in zip(got, want, strict=True):
        assert g[3] == pytest.approx(w[3], rel=1e-9, abs=1e-12), (g, w)
        assert [k for k, _ in g[5]] == [k for k, _ in w[5]], (g, w)
        for (_, x), (_, y) in zip(g[5], w[5], strict=True):
            if isinstance(y, float) and isinstance(x, (int, float)) and not isinstance(x, bool):
                assert x == pytest.approx(y, rel=1e-9, abs=1e-9), (g, w)
            else:
                assert x == y, (g, w)


