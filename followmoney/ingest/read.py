"""Bring input sources into the workspace as raw tables with their source row numbers.

A source is a file (CSV or Parquet), a folder or glob of them, or an in-memory table (Arrow,
polars, pandas or a DuckDB relation). CSV is read as text so that nothing is coerced before
validation; malformed lines are captured by DuckDB's reject tables instead of failing the read.
"""

from __future__ import annotations

import glob
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from followmoney.errors import InputSchemaError, SchemaProblem
from followmoney.workspace import Workspace

FILE_KINDS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class InputSource:
    """One input: a file, or an in-memory table with a display name."""

    name: str
    kind: str  # csv | parquet | memory
    path: Path | None = None
    data: Any = None

    def sha256(self) -> str | None:
        """Hash of the file's bytes, for the manifest; None for in-memory tables."""
        if self.path is None:
            return None
        h = hashlib.sha256()
        with self.path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()


def expand_sources(items: Any, role: str = "transactions") -> list[InputSource]:
    """Turn paths, folders, globs and in-memory tables into an ordered list of sources.

    Folders contribute their CSV and Parquet files (recursively, sorted by path) so that the order,
    and with it duplicate handling and row numbering, is the same on every run.

    Raises:
        InputSchemaError: when a path does not exist or a file has an unsupported extension.
    """
    if items is None:
        return []
    if not isinstance(items, list | tuple):
        items = [items]
    out: list[InputSource] = []
    problems: list[SchemaProblem] = []
    for n, item in enumerate(items):
        if isinstance(item, str | Path):
            text = str(item)
            if any(ch in text for ch in "*?["):
                paths = [Path(p) for p in sorted(glob.glob(text, recursive=True)) if Path(p).is_file()]
                if not paths:
                    problems.append(SchemaProblem(text, "-", "no_files", "the glob to match at least one file"))
            elif Path(text).is_dir():
                paths = sorted(p for p in Path(text).rglob("*") if p.suffix.lower() in FILE_KINDS and p.is_file())
                if not paths:
                    problems.append(SchemaProblem(text, "-", "no_files", "a folder with .csv or .parquet files"))
            elif Path(text).is_file():
                paths = [Path(text)]
            else:
                problems.append(SchemaProblem(text, "-", "not_found", f"an existing {role} file, folder or glob"))
                continue
            for p in paths:
                kind = FILE_KINDS.get(p.suffix.lower())
                if kind is None:
                    problems.append(SchemaProblem(str(p), "-", "unsupported_format", "a .csv or .parquet file"))
                else:
                    out.append(InputSource(str(p), kind, path=p))
        else:
            out.append(InputSource(f"<{role} table {n + 1}>", "memory", data=item))
    if problems:
        raise InputSchemaError(problems, headline=f"Cannot find the {role} input.")
    return out


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_raw(ws: Workspace, src: InputSource, table: str, csv: dict[str, Any]) -> dict[str, Any]:
    """Load one source into `table` with a `__row` column (source row number) and all columns as read.

    For CSV the row number is the line number in the file (header is line 1), assuming one line per
    record; for other sources it is the 1-based row position. Malformed CSV lines are returned for
    the quarantine rather than loaded.

    Returns:
        {"rejects": list of (line, raw_line, message)} for CSV; empty lists otherwise.
    """
    con = ws.con
    ws.drop(table)
    if src.kind == "memory":
        data = src.data
        if isinstance(data, duckdb.DuckDBPyRelation):
            # A relation may belong to the caller's own connection: bring it over as Arrow.
            data = data.to_arrow_table()
        ws.register("__fm_src", data)
        try:
            con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM __fm_src')
        finally:
            con.unregister("__fm_src")
        _add_row_numbers(ws, table, offset=1)
        return {"rejects": []}
    path = _quote(src.path.as_posix())
    if src.kind == "parquet":
        # A view, not a copy: Parquet is typed and numbered by the reader, so it is read once, later.
        try:
            con.execute(
                f'CREATE OR REPLACE VIEW "{table}" AS SELECT file_row_number + 1 AS __row, '
                f"* EXCLUDE (file_row_number) FROM read_parquet({path}, file_row_number = true)"
            )
            con.execute(f'SELECT * FROM "{table}" LIMIT 0')
        except Exception as err:  # noqa: BLE001 - any reader failure is the user's file, reported as such
            raise InputSchemaError([SchemaProblem(src.name, "-", "unreadable", f"a Parquet file ({err})")]) from None
        return {"rejects": []}
    opts = ["all_varchar = true", "store_rejects = true", f"header = {bool(csv.get('header', True))}"]
    if csv.get("delimiter"):
        opts.append(f"delim = {_quote(csv['delimiter'])}")
    encoding = (csv.get("encoding") or "utf-8").lower().replace("_", "-")
    # DuckDB knows ISO-8859-1 by one name only.
    encoding = {"latin1": "latin-1", "iso-8859-1": "latin-1", "iso8859-1": "latin-1", "l1": "latin-1"}.get(encoding,
                                                                                                        encoding)
    if encoding not in ("utf-8", "utf8"):
        opts.append(f"encoding = {_quote(encoding)}")
    try:
        con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM read_csv({path}, {", ".join(opts)})')
        # One line can have several errors (a short line: one per missing column); it is one reject.
        rejects = con.execute(
            "SELECT line, min(csv_line), min(error_message) FROM reject_errors GROUP BY line ORDER BY line"
        ).fetchall()
    except Exception as err:  # noqa: BLE001
        raise InputSchemaError([SchemaProblem(src.name, "-", "unreadable", f"a readable CSV file ({err})")]) from None
    finally:
        con.execute("DROP TABLE IF EXISTS reject_errors")
        con.execute("DROP TABLE IF EXISTS reject_scans")
    blank = [] if encoding.startswith("utf-16") else _empty_lines(src.path)
    _add_csv_line_numbers(ws, table, [int(r[0]) for r in rejects], header=bool(csv.get("header", True)),
                          empty_lines=blank)
    # With CRLF line ends DuckDB reports the line with the previous line's '\n' in front of it.
    return {"rejects": [(int(r[0]), r[1].strip("\r\n") if r[1] else r[1], r[2]) for r in rejects]}


def _empty_lines(path: Path) -> list[int]:
    """1-based numbers of the empty lines of a file: DuckDB skips them without a record or a reject.

    The common file has none; that is settled by a scan at C speed, the line loop runs only otherwise.
    """
    with path.open("rb") as fh:
        head = fh.read(2)
        found = head[:1] == b"\n" or head == b"\r\n"
        tail = head
        while not found:
            block = fh.read(1 << 23)
            if not block:
                break
            chunk = tail + block
            found = b"\n\n" in chunk or b"\n\r\n" in chunk
            tail = chunk[-2:]
    if not found:
        return []
    with path.open("rb") as fh:
        return [n for n, line in enumerate(fh, start=1) if line in (b"\n", b"\r\n", b"\r")]


def _add_row_numbers(ws: Workspace, table: str, offset: int) -> None:
    # rowid follows insertion order because the table was created from the source in order.
    ws.con.execute(
        f'CREATE OR REPLACE TABLE "{table}" AS SELECT rowid + {offset} AS __row, * FROM "{table}" ORDER BY rowid'
    )


def _add_csv_line_numbers(ws: Workspace, table: str, rejected_lines: list[int], header: bool,
                          empty_lines: list[int] | tuple[int, ...] = ()) -> None:
    """Number each loaded record with its line in the file.

    The lines without a record are the header (the first non-empty line), the rejected lines and the
    empty lines, which DuckDB skips silently. With those lines n_1 < n_2 < ..., the i-th has
    g_i = n_i - i record lines before it, so record k (1-based) sits on line k + #{i : g_i < k}.
    """
    empty = set(empty_lines)
    others = empty | set(rejected_lines)
    if header:
        first = 1
        while first in empty:
            first += 1
        others.add(first)
    gaps = [n - i for i, n in enumerate(sorted(others), start=1)]
    ws.con.execute("CREATE OR REPLACE TEMP TABLE __fm_gaps (g BIGINT)")
    if gaps:
        ws.con.executemany("INSERT INTO __fm_gaps VALUES (?)", [(g,) for g in gaps])
    # Qualified names: unqualified `rowid` in the subquery would be the gaps table's own rowid.
    ws.con.execute(
        f"""CREATE OR REPLACE TABLE "{table}" AS
        SELECT (t.rowid + 1) + (SELECT count(*) FROM __fm_gaps AS gp WHERE gp.g < t.rowid + 1) AS __row, t.*
        FROM "{table}" AS t ORDER BY t.rowid"""
    )


def quarantine_rejects(ws: Workspace, src: InputSource, rejects: list[tuple[int, str, str]], table_name: str) -> int:
    """Send malformed CSV lines to the quarantine; returns how many there were."""
    for line, text, _message in rejects:
        ws.sql("INSERT INTO quarantine VALUES ($f, $r, $t, 'malformed_line', NULL, NULL, $raw)",
               {"f": src.name, "r": line, "t": table_name, "raw": text})
    return len(rejects)
