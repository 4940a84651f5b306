"""Public test helpers: load an indicator's case file and run a case through the real pipeline.

Third-party indicator packs reuse these to test their own indicators the way the built-in
catalogue is tested: each case's rows are ingested, validated and run by the DuckDB engine, so a
case checks the same code path as a scan.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import yaml

from followmoney.indicator import Indicator
from followmoney.pipeline.stage import Context, ScanOptions
from followmoney.pipeline.steps import s01_scope, s02_collect, s04_indicators, s05_detect
from followmoney.progress import Progress
from followmoney.workspace import Workspace


@dataclass(frozen=True)
class Case:
    """One case of an indicator's case file."""

    indicator: str
    name: str
    rows: pa.Table
    expect_hits: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    expect_evidence: dict[str, list[str]] = field(default_factory=dict)
    description: str = ""
    flips: dict[str, Any] = field(default_factory=dict)
    """Parameter values that each, alone, move this positive case across its boundary (no hit)."""
    parties: pa.Table | None = None
    """Optional KYC rows (CSV text in the case file) for indicators with `requires_parties`."""
    lists: dict[str, str] = field(default_factory=dict)
    """Optional name lists, name to CSV text (`value,tag`), added through the profile as a scan would."""


def _table(rows: str) -> pa.Table:
    opts = pacsv.ConvertOptions(column_types={c: pa.string() for c in (
        "txn_id", "ts", "payer_account", "beneficiary_account", "channel", "currency", "mcc", "memo")},
        strings_can_be_null=True)
    table = pacsv.read_csv(io.BytesIO(rows.strip().encode()), convert_options=opts)
    if "txn_id" not in table.column_names:
        table = table.append_column("txn_id", pa.array([f"t{i + 1}" for i in range(table.num_rows)]))
    if "currency" not in table.column_names:
        table = table.append_column("currency", pa.array(["USD"] * table.num_rows))
    return table


def load_cases(cls: type[Indicator]) -> list[Case]:
    """The cases of an indicator, from the `.cases.yml` file next to its module."""
    path = Path(cls.case_file())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if data.get("indicator") != cls.id:
        raise ValueError(f"{path} is for {data.get('indicator')!r}, not {cls.id}")
    return [Case(cls.id, name, _table(c["rows"]), tuple(c.get("expect_hits", [])), c.get("params") or {},
                 c.get("expect_evidence") or {}, c.get("description", ""), c.get("flips") or {},
                 _parties(c["parties"]) if c.get("parties") else None, c.get("lists") or {})
            for name, c in data["cases"].items()]


def _parties(rows: str) -> pa.Table:
    opts = pacsv.ConvertOptions(column_types={c: pa.string() for c in (
        "account_id", "party_id", "phone", "business_hours", "birth_date", "opened_at")},
        strings_can_be_null=True)
    return pacsv.read_csv(io.BytesIO(rows.strip().encode()), convert_options=opts)


def run_rows(cls: type[Indicator], rows: pa.Table, params: dict[str, Any] | None = None,
             profile: dict[str, Any] | None = None, parties: pa.Table | None = None,
             lists: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Ingest `rows` (and optional `parties`) into a throwaway workspace, run one indicator, return its hits.

    `lists` (name to CSV text) are written to a temporary folder and added through the profile's
    `lists` section, the way a user supplies them.
    """
    import tempfile

    ws = Workspace(":memory:", threads=1)
    tmp = tempfile.TemporaryDirectory()
    try:
        if lists:
            profile = dict(profile or {})
            profile["lists"] = dict(profile.get("lists") or {})
            for name, text in lists.items():
                path = Path(tmp.name) / f"{name}.csv"
                path.write_text(text, encoding="utf-8")
                profile["lists"][name] = {"path": str(path)}
        options = ScanOptions(sources=[rows], parties=[parties] if parties is not None else None,
                              indicators=[cls.id], overrides={cls.id: dict(params or {})}, profile=profile)
        ctx = Context(ws=ws, options=options, out=Path("."), progress=Progress(False))
        for stage in (s01_scope, s02_collect, s04_indicators, s05_detect):
            stage.STAGE.run(ctx)
        cur = ws.sql("SELECT * FROM hits ORDER BY account_id, window_start")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        ws.close()
        tmp.cleanup()


def run_case(case: Case, cls: type[Indicator]) -> list[dict[str, Any]]:
    """Run one case; returns its hits."""
    return run_rows(cls, case.rows, case.params, parties=case.parties, lists=case.lists)
