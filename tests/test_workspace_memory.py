"""Workspace memory defaults: a bounded DuckDB limit and a spill folder on the workspace's disk."""

from __future__ import annotations

from pathlib import Path

from followmoney.workspace import MEMORY_SHARE, Workspace, default_memory_limit, spill_directory


def _mb(setting: str) -> float:
    """DuckDB's reported memory limit (e.g. '9.5 GiB', '953.6 MiB') in MiB."""
    value, unit = setting.split()
    return float(value) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "TiB": 1024**2}[unit]


def test_default_limit_is_a_share_of_the_machine() -> None:
    assert default_memory_limit(24 * 1024**3) == f"{int(24 * 1024 * MEMORY_SHARE)}MiB"
    # Under half the machine, so the process (DuckDB plus kernels and Arrow buffers) stays below it.
    assert int(default_memory_limit(24 * 1024**3)[:-3]) < 12 * 1024
    assert default_memory_limit(64 * 1024**2) == "256MiB"  # a floor DuckDB can work with


def test_workspace_applies_the_default_and_spills_beside_the_file(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "workspace.duckdb")
    try:
        limit = ws.sql("SELECT current_setting('memory_limit')").fetchone()[0]
        # DuckDB shows the limit truncated to one decimal (e.g. '7.7 GiB' for 7954 MiB).
        assert 0 <= int(default_memory_limit()[:-3]) - _mb(limit) < 0.1 * 1024
        temp = ws.sql("SELECT current_setting('temp_directory')").fetchone()[0]
        assert Path(temp) == spill_directory(tmp_path / "workspace.duckdb") == tmp_path / "workspace.spill"
    finally:
        ws.close()


def test_explicit_limit_wins_and_a_sort_larger_than_it_spills(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "workspace.duckdb", memory_limit="64MB", threads=1)
    try:
        assert _mb(ws.sql("SELECT current_setting('memory_limit')").fetchone()[0]) <= 64
        # ~200 MB of rows sorted under a 64 MB limit: only possible by spilling to the temp directory.
        ws.sql("""CREATE TABLE big AS SELECT (i * 7919) % 3000000 AS k, repeat('x', 40) || i AS pad
                  FROM range(3000000) AS t(i) ORDER BY k""")
        assert ws.count("big") == 3_000_000
        assert ws.sql("SELECT min(k) = 0 AND max(k) = 2999999 FROM big").fetchone()[0]
    finally:
        ws.close()
