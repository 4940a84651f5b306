"""Write output files so that an interrupted scan never leaves a half-written file that looks finished.

Every file is written under a temporary name in the same folder and renamed into place when it is
complete; a rename within one file system is atomic.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from followmoney.schema import OUTPUT_TABLES, column_names
from followmoney.workspace import Workspace

PARTIAL = ".partial"


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it to `path`, on failure remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + PARTIAL)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: str | Path, text: str) -> Path:
    """Write a UTF-8 text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_table(ws: Workspace, table: str, path: str | Path) -> int:
    """Write a contract table to Parquet with exactly its contract's columns, in order."""
    cols = ", ".join(f'"{c}"' for c in column_names(OUTPUT_TABLES[table]))
    with atomic_path(path) as tmp:
        ws.sql(f"COPY (SELECT {cols} FROM \"{table}\") TO '{tmp.as_posix()}' (FORMAT parquet)")
    return ws.count(table)


def write_alerts_csv(ws: Workspace, path: str | Path) -> int:
    """Alerts as CSV for spreadsheets: list columns joined with '; '."""
    with atomic_path(path) as tmp:
        ws.sql(f"""COPY (SELECT account_id, party_id, score, rank, alert_reason, array_to_string(families, '; ') AS families,
                          array_to_string(indicators, '; ') AS indicators, first_ts, last_ts, n_evidence, role_hypothesis
                   FROM alerts ORDER BY rank) TO '{tmp.as_posix()}' (FORMAT csv, HEADER true)""")
    return ws.count("alerts")
