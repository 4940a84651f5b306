"""Pseudonymisation: no raw identifier of the input in the workspace or in any output; stable per key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from followmoney.errors import ParameterError
from followmoney.pseudonymise import ENV_VAR, pseudonym

KEY = "correct horse battery staple, 2024"


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory):
    from followmoney.simulate import simulate

    return simulate(tmp_path_factory.mktemp("pworld"), accounts=250, days=100, seed=5)


@pytest.fixture(scope="module")
def pseudonymised(small_world, tmp_path_factory: pytest.TempPathFactory):
    import followmoney

    mp = pytest.MonkeyPatch()
    mp.setenv(ENV_VAR, KEY)
    try:
        out = tmp_path_factory.mktemp("pscan") / "out"
        result = followmoney.scan(str(small_world.paths["transactions"]), parties=str(small_world.paths["parties"]),
                                  out=out, pseudonymise=True)
    finally:
        mp.undo()
    return result


def _raw_identifiers(world) -> set[str]:
    txns = pl.read_parquet(world.paths["transactions"])
    parties = pl.read_parquet(world.paths["parties"])
    found: set[str] = set()
    for frame, cols in ((txns, ("payer_account", "beneficiary_account", "device_id", "ip")),
                        (parties, ("account_id", "party_id", "name", "phone", "email", "address"))):
        for c in cols:
            if c in frame.columns:
                found |= set(frame[c].drop_nulls().cast(pl.String))
    return {v for v in found if v.strip()}


def _pattern(ids: set[str]) -> str:
    """An RE2 pattern matching any identifier as a whole token (DuckDB's RE2 runs it in linear time)."""
    alts = sorted((re.escape(v) for v in ids), key=lambda v: (-len(v), v))
    return r"(^|[^0-9A-Za-z_])(" + "|".join(alts) + r")([^0-9A-Za-z_]|$)"


def _leaks(texts: list[tuple[str, str]], pattern: str) -> list[tuple[str, str]]:
    """The (where, text) pairs in which the pattern finds an identifier."""
    import pyarrow as pa

    con = duckdb.connect()
    try:
        con.register("texts", pa.table({"where": [w for w, _ in texts], "v": [t for _, t in texts]}))
        return [(w, v[:80]) for w, v in con.execute("SELECT \"where\", v FROM texts WHERE regexp_matches(v, $p)",
                                                     {"p": pattern}).fetchall()]
    finally:
        con.close()


def test_no_raw_identifier_anywhere(pseudonymised, small_world):
    ids = _raw_identifiers(small_world)
    assert len(ids) > 500
    pattern = _pattern(ids)
    out = pseudonymised.out
    assert pseudonymised.n_alerts > 0, "the pseudonymised scan still finds the planted scenarios"
    texts: list[tuple[str, str]] = []
    # Every text column of every table in the workspace (inputs, derived tables, output tables, metadata).
    con = duckdb.connect(str(pseudonymised.workspace), read_only=True)
    try:
        tables = con.sql("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
        assert len(tables) > 10
        for (table,) in tables:
            for name, dtype, *_ in con.sql(f'DESCRIBE "{table}"').fetchall():
                if "VARCHAR" not in dtype:
                    continue
                expr = f'array_to_string("{name}", chr(31))' if dtype.endswith("[]") else f'"{name}"'
                texts += [(f"{table}.{name}", v) for (v,) in
                          con.sql(f'SELECT DISTINCT {expr} FROM "{table}" WHERE "{name}" IS NOT NULL').fetchall()]
    finally:
        con.close()
    # Every output table's text columns, and every other file (JSON, CSV, text, XML, HTML, GraphML, ...).
    files = [p for p in out.rglob("*") if p.is_file() and p.suffix not in (".duckdb", ".wal")]
    assert any(p.suffix == ".parquet" for p in files) and any(p.suffix == ".xml" for p in files)
    for path in files:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            for c, dtype in frame.schema.items():
                if dtype == pl.String:
                    texts += [(f"{path.name}.{c}", v) for v in frame[c].drop_nulls().unique().to_list()]
                elif dtype == pl.List(pl.String):
                    texts += [(f"{path.name}.{c}", v) for v in frame[c].explode().drop_nulls().unique().to_list()]
        else:
            texts.append((path.name, path.read_bytes().decode("utf-8", errors="replace")))
    assert len(texts) > 1000
    assert _leaks(texts, pattern) == []
    # The check itself finds a planted identifier.
    assert _leaks([("probe", f"paid by {sorted(ids)[0]} today")], pattern)


def test_manifest_records_it_never_the_key(pseudonymised):
    text = (pseudonymised.out / "manifest.json").read_text()
    assert KEY not in text
    collect = next(s for s in json.loads(text)["stages"] if s["name"] == "collect")
    facts = collect["notes"]["pseudonymisation"]
    assert facts["applied"] is True and ENV_VAR in facts["key_source"]
    assert "memo" in facts["dropped_columns"]


def test_same_key_same_pseudonyms_other_key_other(small_world, pseudonymised, tmp_path: Path, monkeypatch):
    import followmoney

    first = pl.read_parquet(pseudonymised.out / "alerts.parquet")["account_id"].sort().to_list()
    raw = pl.read_parquet(small_world.paths["parties"])["account_id"].to_list()
    expected = {pseudonym(KEY.encode(), "account", a) for a in raw}
    assert set(first) <= expected | {pseudonym(KEY.encode(), "account", a) for a in
                                     pl.read_parquet(small_world.paths["transactions"])["payer_account"].drop_nulls()}
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    monkeypatch.delenv(ENV_VAR, raising=False)
    again = followmoney.scan(str(small_world.paths["transactions"]), parties=str(small_world.paths["parties"]),
                             out=tmp_path / "again", pseudonymise=True, pseudonym_key_file=key_file,
                             to_stage="score")
    assert again.alerts["account_id"].sort().to_list() == first
    monkeypatch.setenv(ENV_VAR, "a different key of enough length")
    other = followmoney.scan(str(small_world.paths["transactions"]), parties=str(small_world.paths["parties"]),
                             out=tmp_path / "other", pseudonymise=True, to_stage="score")
    assert not set(other.alerts["account_id"]) & set(first)


def test_a_missing_or_short_key_is_refused(small_csv, tmp_path, monkeypatch):
    import followmoney

    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ParameterError, match=ENV_VAR):
        followmoney.scan(str(small_csv), out=tmp_path / "a", pseudonymise=True)
    monkeypatch.setenv(ENV_VAR, "short")
    with pytest.raises(ParameterError, match="shorter"):
        followmoney.scan(str(small_csv), out=tmp_path / "b", pseudonymise=True)
