"""Every file a scan writes, checked against the frozen contracts of followmoney.schema and the docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from followmoney.schema import (
    ALERTS,
    CHANNELS,
    LABEL_TXNS,
    LABELS,
    OUTPUT_TABLES,
    PARTIES,
    ROLES,
    TRANSACTIONS,
)

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _described(path: Path) -> list[tuple[str, str]]:
    con = duckdb.connect()
    try:
        return [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path.as_posix()}')").fetchall()]
    finally:
        con.close()


@pytest.mark.parametrize("table", sorted(OUTPUT_TABLES))
def test_output_parquet_matches_contract(scanned, table):
    path = scanned.out / f"{table}.parquet"
    assert path.exists(), f"{table}.parquet must always be written"
    assert _described(path) == [(c.name, c.dtype) for c in OUTPUT_TABLES[table]]
    frame = pl.read_parquet(path)
    for c in OUTPUT_TABLES[table]:
        if c.required:
            assert frame[c.name].null_count() == 0, f"{table}.{c.name} must not be null"


def test_alert_contract_semantics(scanned):
    alerts = pl.read_parquet(scanned.out / "alerts.parquet")
    assert alerts.height > 0
    assert alerts["rank"].to_list() == list(range(1, alerts.height + 1))
    ordered = alerts.sort(["score", "account_id"], descending=[True, False])
    assert ordered["account_id"].to_list() == alerts["account_id"].to_list()
    assert all(round(s, 6) == s and 0 <= s <= 1 for s in alerts["score"])
    assert set(alerts["role_hypothesis"].drop_nulls()) <= set(ROLES)
    hits = pl.read_parquet(scanned.out / "hits.parquet")
    for row in alerts.iter_rows(named=True):
        mine = hits.filter(pl.col("account_id") == row["account_id"])
        assert sorted(mine["indicator_id"].unique()) == row["indicators"]
        for ind in row["indicators"]:
            assert ind in row["alert_reason"]
        assert row["n_evidence"] == len({t for ids in mine["evidence_txn_ids"] for t in ids})
    csv = pl.read_csv(scanned.out / "alerts.csv")
    assert csv.columns == [c.name for c in ALERTS]
    assert csv.height == alerts.height


def test_hit_evidence_is_inside_the_window_and_touches_the_account(scanned, world):
    hits = pl.read_parquet(scanned.out / "hits.parquet")
    txns = pl.read_parquet(world.paths["transactions"]).select("txn_id", "ts", "payer_account", "beneficiary_account")
    ev = hits.explode("evidence_txn_ids").rename({"evidence_txn_ids": "txn_id"}).join(txns, on="txn_id", how="left")
    assert ev["ts"].null_count() == 0, "every evidence id is a real transaction"
    assert ev.filter((pl.col("ts") < pl.col("window_start")) | (pl.col("ts") > pl.col("window_end"))).height == 0
    touching = (pl.col("payer_account") == pl.col("account_id")) | (pl.col("beneficiary_account") == pl.col("account_id"))
    assert ev.filter(~touching.fill_null(False)).height == 0
    for p in hits["params"]:
        assert isinstance(json.loads(p), dict)


def test_cluster_members_are_alerted_or_justified_by_an_edge(scanned):
    clusters = pl.read_parquet(scanned.out / "clusters.parquet")
    alerted = set(scanned.alerts["account_id"])
    for row in clusters.iter_rows(named=True):
        assert re.fullmatch(r"C[0-9a-f]{10}", row["cluster_id"])
        if row["account_id"] not in alerted:
            assert row["role"] == "controller"


def test_folders_and_report(scanned):
    out = scanned.out
    for name in ("cases", "str", "exports"):
        assert (out / name).is_dir()
    cases = sorted((out / "cases").glob("*.json"))
    assert len(cases) == len(list((out / "str").glob("*.txt"))) > 0
    for path in cases:
        case = json.loads(path.read_text())
        subjects = {s["account_id"] for s in case["subjects"]}
        victims = {v["account_id"] for v in case["possible_victims"]}
        assert not subjects & victims, "a possible victim is never a subject"
        assert all(h["evidence_txn_ids"] for h in case["hits"])
    assert (out / "exports" / "clusters.graphml").stat().st_size > 0
    page = (out / "report.html").read_text()
    for heading in ("Overview", "Data quality", "The 11 stages", "Indicators", "Top alerts", "Cases"):
        assert heading in page
    assert "data:image/png;base64," in page


def test_report_escapes_data(small_csv: Path, tmp_path: Path):
    import followmoney

    text = small_csv.read_text().replace("S1", "<script>alert(1)</script>")
    path = tmp_path / "evil.csv"
    path.write_text(text)
    result = followmoney.scan(str(path), out=tmp_path / "out")
    page = (result.out / "report.html").read_text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _doc_table(text: str, heading: str) -> list[tuple[str, str]]:
    """The (column, type) rows of the Markdown table under a `### heading`."""
    section = text.split(f"### {heading}\n", 1)[1].split("\n### ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] and not set(cells[0]) <= {"-"} and cells[0] != "column":
            rows.append((cells[0], cells[1]))
    return rows


@pytest.mark.parametrize(("doc", "heading", "columns"), [
    ("schema.md", "transactions", TRANSACTIONS), ("schema.md", "parties", PARTIES),
    ("outputs.md", "alerts", ALERTS), ("outputs.md", "hits", OUTPUT_TABLES["hits"]),
    ("outputs.md", "clusters", OUTPUT_TABLES["clusters"]), ("outputs.md", "quarantine", OUTPUT_TABLES["quarantine"]),
    ("outputs.md", "labels", LABELS), ("outputs.md", "label_txns", LABEL_TXNS),
])
def test_docs_state_the_same_contracts(doc, heading, columns):
    assert _doc_table((DOCS / doc).read_text(), heading) == [(c.name, c.dtype) for c in columns]


def test_docs_list_every_channel():
    text = (DOCS / "schema.md").read_text()
    for ch in CHANNELS:
        assert f"`{ch}`" in text
