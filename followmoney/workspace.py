"""The case workspace: one DuckDB database file per scan holding every table of the case.

Memory is bounded by DuckDB's `memory_limit` with spilling to a temporary directory beside the
database, so inputs larger than RAM still scan. The session time zone is UTC: timestamps are
stored in UTC and only converted to local time where a rule needs the local hour.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from followmoney.errors import PipelineError

MEMORY_SHARE = 0.33
"""Share of physical memory given to DuckDB by default (`default_memory_limit`)."""


def default_memory_limit(total_bytes: int | None = None) -> str:
    """DuckDB's memory limit when none is given: a third of physical memory, in whole MiB.

    DuckDB's limit bounds its buffer manager only; the Python process also holds numba kernel
    buffers, Arrow batches handed between DuckDB and the kernels, and the allocator's slack, so the
    process peaks above the limit: at 10^8 transactions on a 24 GB machine a 40 % limit (9.6 GiB) gave a
    peak of 11.4 GiB during `detect` (10.0 GiB while sorting postings at `collect`), at the edge of the
    12 GB budget, so a third is left to DuckDB; what does not fit spills to the workspace's temp directory.

    Args:
        total_bytes: physical memory to size for; this machine's when None.
    """
    if total_bytes is None:
        try:
            total_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            return "4GB"
    return f"{max(256, int(total_bytes * MEMORY_SHARE) // 1024**2)}MiB"


def spill_directory(path: str | Path) -> Path:
    """Where a workspace file spills what exceeds the memory limit: `<name>.spill` beside it.

    On the workspace's own disk rather than the system temp folder, which is often a small RAM disk:
    sorting postings at 10^8 transactions spills tens of GB.
    """
    return Path(path).with_suffix(".spill")


class Rows:
    """Rows of a finished query, with the cursor-style accessors callers use."""

    def __init__(self, rows: list[tuple[Any, ...]], description: Any):
        self.rows = rows
        self.description = description

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every row."""
        return self.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        """The first row, or None."""
        return self.rows[0] if self.rows else None


class Workspace:
    """A DuckDB database holding the case tables.

    Args:
        path: database file, or ":memory:" for a throwaway workspace (tests, cases).
        memory_limit: DuckDB memory limit, e.g. "8GB"; defaults to `default_memory_limit()` (a third of the
            machine). Beyond it DuckDB spills to `spill_directory(path)` (file workspaces).
        threads: DuckDB worker threads; defaults to every core.
        read_only: open an existing workspace without changing it (temporary tables still work).
    """

    def __init__(self, path: str | Path = ":memory:", memory_limit: str | None = None, threads: int | None = None,
                 read_only: bool = False):
        self.path = str(path)
        self.read_only = read_only
        self.con = duckdb.connect(self.path, read_only=read_only)
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute(f"SET memory_limit = '{memory_limit or default_memory_limit()}'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if self.path != ":memory:":
            self.con.execute(f"SET temp_directory = '{spill_directory(self.path).as_posix()}'")
        # Reading files in their stored order keeps source row numbers meaningful.
        self.con.execute("SET preserve_insertion_order = true")

    @contextmanager
    def unordered(self) -> Iterator[None]:
        """Let DuckDB write the statements inside in any row order (`preserve_insertion_order = false`).

        For tables whose order nobody relies on (rows carry their own key): the insert runs in parallel
        without order-preserving batches, which is faster and holds less in memory. Not for tables read
        in stored order (postings) nor for reads that number rows by position (CSV line numbers).
        """
        self.con.execute("SET preserve_insertion_order = false")
        try:
            yield
        finally:
            self.con.execute("SET preserve_insertion_order = true")

    def sql(self, query: str, params: dict[str, Any] | None = None) -> Rows:
        """Run a statement with `$named` parameters and fetch its rows.

        Results are always drained: DuckDB 2.0 refuses other work on a connection while a result
        is partly fetched, which a bare `fetchone()` would leave behind.
        """
        cur = self.con.execute(query, params or {})
        description = cur.description
        return Rows(cur.fetchall() if description else [], description)

    def has(self, table: str) -> bool:
        """Whether a table or view exists in the workspace."""
        row = self.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name = $t", {"t": table}).fetchone()
        row_v = self.sql(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = $t AND NOT internal", {"t": table}
        ).fetchone()
        return bool(row and row[0]) or bool(row_v and row_v[0])

    def count(self, table: str) -> int:
        """Rows in a table."""
        self.require(table)
        return int(self.sql(f'SELECT count(*) FROM "{table}"').fetchone()[0])

    def columns(self, table: str) -> list[str]:
        """Column names of a table, in order."""
        self.require(table)
        return [r[0] for r in self.sql(f'DESCRIBE "{table}"').fetchall()]

    def require(self, *tables: str) -> None:
        """Raise a `PipelineError` naming every missing table."""
        missing = [t for t in tables if not self.has(t)]
        if missing:
            raise PipelineError(
                f"The workspace {self.path} has no table {', '.join(missing)}: run the stage that produces it first."
            )

    def drop(self, name: str) -> None:
        """Drop a table or view if it exists."""
        for kind, listing, col in (("VIEW", "duckdb_views()", "view_name"), ("TABLE", "duckdb_tables()", "table_name")):
            found = self.sql(f"SELECT count(*) FROM {listing} WHERE {col} = $n", {"n": name}).fetchone()
            if found and found[0]:
                self.con.execute(f'DROP {kind} "{name}"')

    def arrow(self, query: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Query result as an Arrow table."""
        return self.con.sql(query, params=params or None).to_arrow_table()

    def register(self, name: str, data: Any) -> None:
        """Expose an in-memory table (Arrow, polars, pandas) to SQL under `name`.

        DuckDB 2.0 refuses to register while a result of this connection is partly fetched (a
        `fetchone()` leaves it open); running and draining a trivial query settles that first.
        """
        self.con.execute("SELECT 1").fetchall()
        self.con.register(name, data)

    def put(self, table: str, data: Any) -> int:
        """Create or replace a table from an Arrow table, polars DataFrame or DuckDB relation."""
        self.register("__fm_put", data)
        try:
            self.con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM __fm_put')
        finally:
            self.con.unregister("__fm_put")
        return self.count(table)

    def get_meta(self, key: str, default: Any = None) -> Any:
        """A value stored by an earlier stage (JSON), so stages can resume on a saved workspace."""
        import json

        if not self.has("__fm_meta"):
            return default
        row = self.sql("SELECT value FROM __fm_meta WHERE key = $k", {"k": key}).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value for later stages."""
        import json

        self.con.execute("CREATE TABLE IF NOT EXISTS __fm_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        self.con.execute(
            "INSERT OR REPLACE INTO __fm_meta VALUES ($k, $v)", {"k": key, "v": json.dumps(value, default=str)}
        )

    def close(self) -> None:
        """Checkpoint and close the database."""
        try:
            if self.path != ":memory:" and not self.read_only:
                self.con.execute("CHECKPOINT")
        finally:
            self.con.close()
