"""`followmoney indicators list`: the catalogue at 80 columns, and what a data file supports."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from followmoney import registry
from followmoney.cli.main import main

NARROW = {"COLUMNS": "80"}


def _run(*args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(main, ["indicators", *args], env=env or NARROW)
    return result


def _rows(output: str) -> dict[str, list[str]]:
    """Table rows by indicator id, folded cells joined back (continuation lines have no id)."""
    rows: dict[str, list[str]] = {}
    last = None
    for line in output.splitlines():
        if not line.startswith("│"):
            last = None
            continue
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells[0]) == 5 and cells[0][:3].isalpha() and cells[0][3:].isdigit():
            last = cells[0]
            rows[last] = cells
        elif last is not None and not cells[0]:
            rows[last] = [" ".join(x for x in (a, b) if x) for a, b in zip(rows[last], cells, strict=True)]
    return rows


@pytest.fixture()
def txns_csv(tmp_path: Path) -> Path:
    """Transactions with card, cash and p2p rows, MCCs and counterparty names but no memo column."""
    path = tmp_path / "txns.csv"
    path.write_text(
        "txn_id,ts,amount,currency,payer_account,beneficiary_account,channel,mcc,counterparty_name\n"
        "t1,2024-03-01T10:00,50,USD,C1,B1,card,5411,FRESHMART\n"
        "t2,2024-03-02T23:00,80,USD,C2,B1,card,,\n"
        "t3,2024-03-03T18:00,400,USD,,B1,cash,,\n"
        "t4,2024-03-04T18:00,40,USD,B1,S1,card,7011,STARLIGHT MOTEL\n",
        encoding="utf-8")
    return path


@pytest.fixture()
def parties_csv(tmp_path: Path) -> Path:
    path = tmp_path / "kyc.csv"
    path.write_text("account_id,party_id,account_type,business_type,business_hours,home_city\n"
                    "B1,E1,business,nail salon,09-19,Chicago\n", encoding="utf-8")
    return path


def test_bare_group_and_list_print_the_same_catalogue_within_80_columns():
    bare, listed = _run(), _run("list")
    assert bare.exit_code == 0 and listed.exit_code == 0, bare.output + listed.output
    assert bare.output == listed.output
    rows = _rows(listed.output)
    assert set(rows) == {c.id for c in registry.all()}
    assert rows["BUS02"][:4] == ["BUS02", "business_after_hours_takings", "front_business", "sql"]
    assert max(len(line) for line in listed.output.splitlines()) <= 80


def test_wide_adds_sources_and_titles():
    narrow, wide = _run("list"), _run("list", "--wide", env={"COLUMNS": "200"})
    assert "sources" not in narrow.output
    assert "sources" in wide.output and "title" in wide.output
    assert "FT21" in _rows(wide.output)["PAY07"][4]


def test_data_without_parties_skips_the_kyc_rules_with_the_reason(txns_csv: Path):
    result = _run("list", "--data", str(txns_csv))
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    rows = _rows(result.output)
    assert rows["CSH01"][2] == "yes"
    assert rows["BUS02"][2] == "no" and rows["EXT02"][2] == "no"
    # Reasons fold inside their cell; _rows joins them back.
    assert rows["BUS02"][3] == "parties columns absent or empty: business_hours"
    # No memo column: the memo rules say so.
    assert rows["EXT02"][3] == "columns absent or empty: memo"
    assert "can run on this data" in result.output


def test_parties_columns_make_the_front_business_rules_runnable(txns_csv: Path, parties_csv: Path):
    result = _run("list", "--data", str(txns_csv), "--parties", str(parties_csv), "-i", "front_business")
    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    assert set(rows) == {c.id for c in registry.select(["front_business"])}
    assert rows["BUS02"][2] == "yes" and rows["BUS03"][2] == "yes"


def test_the_answer_matches_the_skip_reasons_of_a_scan(txns_csv: Path, tmp_path: Path):
    import followmoney
    from followmoney.cli.indicators import data_support

    ids = [c.id for c in registry.all()]
    plan = data_support([str(txns_csv)], [], None, None, ids)
    result = followmoney.scan(str(txns_csv), out=tmp_path / "out", to_stage="indicators")
    skipped = {s["indicator_id"]: s["reason"] for s in result.manifest["skipped_indicators"]}
    assert {i: r for i, (ok, r) in plan.items() if not ok} == skipped


def test_parquet_schema_is_read_without_rows(tmp_path: Path):
    path = tmp_path / "empty.parquet"
    schema = pa.schema([("txn_id", pa.string()), ("ts", pa.timestamp("us")), ("amount", pa.float64()),
                        ("currency", pa.string()), ("payer_account", pa.string()),
                        ("beneficiary_account", pa.string()), ("channel", pa.string()), ("memo", pa.string())])
    pq.write_table(schema.empty_table(), path)
    result = _run("list", "--data", str(path), "-i", "EXT02", "-i", "RUN01")
    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    assert rows["EXT02"][2] == "yes"
    assert rows["RUN01"][2] == "no" and "counterparty_name" in rows["RUN01"][3]


def test_profile_mapping_renames_columns(tmp_path: Path):
    path = tmp_path / "bank.csv"
    path.write_text("id;when;amt;ccy;from;to;chan;descr\n1;2024-01-01;5;USD;A;B;p2p;x\n", encoding="utf-8")
    profile = tmp_path / "bank.yml"
    profile.write_text("transactions:\n  columns: {txn_id: id, ts: when, amount: amt, currency: ccy, "
                       "payer_account: from, beneficiary_account: to, channel: chan, memo: descr}\n"
                       "  csv: {delimiter: ';'}\n", encoding="utf-8")
    result = _run("list", "--data", str(path), "--profile", str(profile), "-i", "EXT02")
    assert result.exit_code == 0, result.output
    assert _rows(result.output)["EXT02"][2] == "yes"


def test_parties_without_data_is_a_usage_error(parties_csv: Path):
    result = _run("list", "--parties", str(parties_csv))
    assert result.exit_code == 2
    assert "--data" in result.output


def test_missing_data_file_is_a_clear_error(tmp_path: Path):
    result = _run("list", "--data", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
