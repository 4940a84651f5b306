"""Tests of the ingest stage (stage `collect`): profiles, quarantine, the 1 % rule, schema errors, sources.

Every input is generated here, in `tmp_path`. Expected values are worked out from how each file is
built (which line holds which record, what a Berlin wall-clock time is in UTC, what 100 EUR at 1.10
is), never read back from the implementation. Most tests stop the pipeline after `collect`
(`to_stage="collect"`), which writes the workspace and `manifest.json` and is enough for ingest.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import followmoney
from followmoney.cli.main import main
from followmoney.errors import InputSchemaError, MappingError, ProfileError
from followmoney.ingest.read import expand_sources
from followmoney.ingest.transactions import load_transactions
from followmoney.profile import DEFAULTS, JURISDICTIONS, load_profile
from followmoney.schema import REASON_TEXT, ReasonCode
from followmoney.workspace import Workspace

HEADER = "txn_id,ts,amount,currency,payer_account,beneficiary_account,channel"
COLUMNS = HEADER.split(",")
CHANNELS = ("wire", "card", "cash", "p2p")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "profiles.md"


# ---------------------------------------------------------------- helpers
def good_lines(n: int, prefix: str = "t", currency: str = "USD", month: int = 1) -> list[str]:
    """`n` valid records `prefix0..`: dates in `month` of 2024, positive amounts, canonical channels."""
    return [
        f"{prefix}{i},2024-{month:02d}-{1 + i % 28:02d} {8 + i % 12:02d}:{i % 60:02d}:00,{10 + i}.25,{currency},"
        f"A{i % 9},B{i % 7},{CHANNELS[i % len(CHANNELS)]}"
        for i in range(n)
    ]


def write_lines(path: Path, lines: list[str], header: str | None = HEADER, eol: str = "\n",
                encoding: str = "utf-8") -> Path:
    """Write a CSV exactly as given (no newline translation), header first."""
    body = ([header] if header is not None else []) + lines
    path.write_bytes((eol.join(body) + eol).encode(encoding))
    return path


def file_line(path: Path, number: int, encoding: str = "utf-8") -> str:
    """Line `number` (1-based) of a file, without its line end."""
    return path.read_bytes().decode(encoding).split("\n")[number - 1].rstrip("\r")


@dataclass
class Collected:
    """What one scan (usually up to `collect`) left behind."""

    manifest: dict[str, Any]
    quarantine: list[dict[str, Any]]
    txns: pl.DataFrame
    postings: pl.DataFrame
    result: followmoney.api.ScanResult


def collect(out: Path, source: Any, to_stage: str | None = "collect", **kwargs: Any) -> Collected:
    """Scan `source` into `out` and read back the manifest file, quarantine, txns and postings."""
    result = followmoney.scan(source, out=out, to_stage=to_stage, **kwargs)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(result.workspace), read_only=True)
    try:
        quarantine = con.sql("SELECT * FROM quarantine ORDER BY source_file, source_row").pl().to_dicts()
        txns = con.sql("SELECT * FROM txns ORDER BY txn_idx").pl()
        postings = con.sql("SELECT p.*, a.account_id FROM postings p JOIN accounts a USING (account_key)").pl()
    finally:
        con.close()
    return Collected(manifest, quarantine, txns, postings, result)


@dataclass
class Ingested:
    """What `load_transactions` left in a throwaway workspace."""

    files: list[dict[str, Any]]  # FileCount.as_dict(): the manifest's inputs.transactions entries
    quarantine: list[dict[str, Any]]
    txns: pl.DataFrame


def ingest(source: Any, profile: dict[str, Any] | None = None, since: str | None = None,
           until: str | None = None) -> Ingested:
    """The collect stage's transaction loading alone, without the rest of a scan (fast)."""
    period = {k: v for k, v in (("since", since), ("until", until)) if v}
    prof = load_profile(profile, overrides={"period": period} if period else None)
    ws = Workspace(":memory:")
    try:
        counts = load_transactions(ws, expand_sources(source), prof)
        quarantine = pl.from_arrow(ws.arrow("SELECT * FROM quarantine ORDER BY source_file, source_row")).to_dicts()
        txns = pl.from_arrow(ws.arrow("SELECT * FROM txns ORDER BY txn_idx"))
    finally:
        ws.close()
    return Ingested([c.as_dict() for c in counts], quarantine, txns)


def assert_reconciled(manifest: dict[str, Any], table: str = "transactions") -> None:
    """read = loaded + quarantined for every file, reasons add up, and the run total balances."""
    files = manifest["inputs"][table]
    assert files, f"no {table} files in the manifest"
    for f in files:
        assert f["read"] == f["loaded"] + f["quarantined"], f
        assert sum(f["quarantined_by_reason"].values()) == f["quarantined"], f
    if table == "transactions":
        rec = manifest["reconciliation"]
        assert rec["balanced"] is True
        assert rec["read"] == sum(f["read"] for f in files)
        assert rec["loaded"] == sum(f["loaded"] for f in files)
        assert rec["quarantined"] == sum(f["quarantined"] for f in files)


def run_cli(args: list[str]) -> tuple[int, str]:
    """Invoke `followmoney ...` in-process; returns the exit code and everything printed."""
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output  # stdout and stderr together


# ---------------------------------------------------------------- 1. German statement export
GERMAN_HEADER = "Buchungsdatum;Kontonummer;Gegenkonto;Empfänger;Verwendungszweck;Soll;Haben"
OWN = "DE89370400440532013000"
GERMAN_ROWS = [
    # date, counterparty, name, description, debit, credit
    ("31.01.2024 14:05", "DE12500105170648489890", "Hausverwaltung Müller GmbH", "Miete Januar Whg. 3", "1.234,56", ""),
    ("15.07.2024 09:30", "DE02120300000000202051", "Gaststätte Zur Post", "Lohn Juli 2024", "", "2.500,00"),
    ("16.07.2024 23:10", "", "", "Bargeldauszahlung Geldautomat 0815", "200,00", ""),
    ("17.07.2024 00:15", "DE75512108001245126199", "Hotel Adler", "Kartenzahlung Hotel Adler Zi. 12", "89,90", ""),
    ("02.12.2024 18:45", "DE44500105175407324931", "J. Schmidt", "Echtzeitüberweisung Essen", "", "15,00"),
]
# Expected, worked out by hand: (UTC time, payer, beneficiary, amount, channel, memo, counterparty_name).
GERMAN_EXPECTED = [
    (datetime(2024, 1, 31, 13, 5), OWN, "DE12500105170648489890", 1234.56, "transfer", "Miete Januar Whg. 3",
     "Hausverwaltung Müller GmbH"),  # CET = UTC+1
    (datetime(2024, 7, 15, 7, 30), "DE02120300000000202051", OWN, 2500.00, "transfer", "Lohn Juli 2024",
     "Gaststätte Zur Post"),  # CEST = UTC+2
    (datetime(2024, 7, 16, 21, 10), OWN, None, 200.00, "atm", "Bargeldauszahlung Geldautomat 0815", None),
    (datetime(2024, 7, 16, 22, 15), OWN, "DE75512108001245126199", 89.90, "card", "Kartenzahlung Hotel Adler Zi. 12",
     "Hotel Adler"),  # just after midnight local: the previous day in UTC
    (datetime(2024, 12, 2, 17, 45), "DE44500105175407324931", OWN, 15.00, "p2p", "Echtzeitüberweisung Essen",
     "J. Schmidt"),
]

GERMAN_PROFILE_YAML = """\
name: de-sparkasse-umsaetze
reporting_currency: EUR
timezone: Europe/Berlin
transactions:
  timestamp_format: "%d.%m.%Y %H:%M"
  default_currency: EUR
  default_channel: transfer
  channel_rules:
    - {pattern: "(?i)geldautomat|bargeld", channel: atm}
    - {pattern: "(?i)kartenzahlung", channel: card}
    - {pattern: "(?i)echtzeit|paypal", channel: p2p}
  statement:
    account: Kontonummer
    date: Buchungsdatum
    debit: Soll
    credit: Haben
    counterparty: Gegenkonto
    counterparty_name: Empfänger
    description: Verwendungszweck
  csv:
    delimiter: ";"
    encoding: latin-1
    decimal_comma: true
    thousands: "."
"""


def german_csv(path: Path, rows: list[tuple[str, ...]] = GERMAN_ROWS) -> Path:
    """The debit/credit statement, latin-1 encoded as German bank exports usually are."""
    lines = [";".join((d, OWN, cp, name, desc, debit, credit)) for d, cp, name, desc, debit, credit in rows]
    return write_lines(path, lines, header=GERMAN_HEADER, eol="\r\n", encoding="latin-1")


def german_signed_csv(path: Path) -> Path:
    """The same statement with one signed `Betrag` column and a currency column."""
    lines = []
    for d, cp, name, desc, debit, credit in GERMAN_ROWS:
        amount = f"-{debit}" if debit else credit
        lines.append(";".join((d, OWN, cp, name, desc, amount, "EUR")))
    return write_lines(path, lines, header="Buchungsdatum;Kontonummer;Gegenkonto;Empfänger;Verwendungszweck;Betrag;Währung",
                       encoding="latin-1")


def german_profile(path: Path, signed: bool = False) -> Path:
    data = yaml.safe_load(GERMAN_PROFILE_YAML)
    if signed:
        st_ = data["transactions"]["statement"]
        del st_["debit"], st_["credit"]
        st_["amount"] = "Betrag"
        st_["currency"] = "Währung"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _normalised(txns: pl.DataFrame) -> list[tuple[Any, ...]]:
    return [(r["ts"], r["payer_account"], r["beneficiary_account"], round(r["amount"], 2), r["channel"], r["memo"],
             r["counterparty_name"]) for r in txns.sort("source_row").iter_rows(named=True)]


def test_german_statement_debit_credit_end_to_end(tmp_path: Path) -> None:
    src = german_csv(tmp_path / "umsaetze_2024.csv")
    prof = german_profile(tmp_path / "de_bank.yml")
    got = collect(tmp_path / "out", str(src), to_stage=None, profile=str(prof))
    assert _normalised(got.txns) == GERMAN_EXPECTED
    assert (got.txns["amount"] > 0).all()
    assert set(got.txns["currency"]) == {"EUR"}
    assert got.quarantine == []
    # The full pipeline ran and wrote its outputs.
    assert {"collect", "detect", "report"} <= {s["name"] for s in got.manifest["stages"]}
    assert (tmp_path / "out" / "report.html").exists()
    assert got.manifest["profile"]["sources"] == ["defaults", "file:de_bank.yml"]
    (f,) = got.manifest["inputs"]["transactions"]
    assert (f["file"], f["read"], f["loaded"], f["quarantined"]) == (str(src), 5, 5, 0)
    assert_reconciled(got.manifest)
    # Postings: the own account's legs are signed from its point of view.
    own = got.postings.filter(pl.col("account_id") == OWN).sort("ts")
    assert [round(a, 2) for a in own["amount"]] == [-1234.56, 2500.00, -200.00, -89.90, 15.00]
    # Local hour is Berlin time, the hour written in the file.
    assert own["local_hour"].to_list() == [14, 9, 23, 0, 18]


def test_german_statement_signed_amount_matches_debit_credit(tmp_path: Path) -> None:
    src = german_signed_csv(tmp_path / "konto.csv")
    prof = german_profile(tmp_path / "p.yml", signed=True)
    got = ingest(str(src), yaml.safe_load(prof.read_text(encoding="utf-8")))
    assert _normalised(got.txns) == GERMAN_EXPECTED
    assert got.files[0]["loaded"] == got.files[0]["read"] == 5


def test_german_statement_generated_ids_are_stable(tmp_path: Path) -> None:
    src = german_csv(tmp_path / "umsaetze.csv")
    prof = german_profile(tmp_path / "p.yml")
    first = collect(tmp_path / "o1", str(src), profile=str(prof)).txns
    again = ingest(str(src), yaml.safe_load(prof.read_text(encoding="utf-8"))).txns
    ids = first.sort("source_row")["txn_id"].to_list()
    assert all(ids) and len(set(ids)) == len(ids)
    assert again.sort("source_row")["txn_id"].to_list() == ids
    # A later export of the same account with one more booking keeps the ids of the earlier rows.
    extra = ("03.12.2024 10:00", "DE12500105170648489890", "Hausverwaltung Müller GmbH", "Miete Dezember", "1.234,56", "")
    german_csv(src, [*GERMAN_ROWS, extra])
    grown = ingest(str(src), yaml.safe_load(prof.read_text(encoding="utf-8"))).txns.sort("source_row")
    assert grown["txn_id"].to_list()[: len(ids)] == ids
    assert grown.height == len(ids) + 1 and grown["txn_id"][-1] not in ids


# ---------------------------------------------------------------- 2. every quarantine reason
@dataclass(frozen=True)
class Bad:
    """One bad record and what its quarantine row must say."""

    reason: ReasonCode
    line: str
    column: str | None
    raw: str | None
    profile: dict[str, Any] | None = None
    period: tuple[str, str] | None = None


T = "2024-01-05 10:00:00"
BAD_CASES = {
    "malformed_extra_field": Bad(ReasonCode.MALFORMED_LINE, f"x1,{T},10.00,USD,A1,B1,wire,EXTRA", None, None),
    "malformed_short": Bad(ReasonCode.MALFORMED_LINE, f"x1,{T},10.00", None, None),
    "missing_txn_id": Bad(ReasonCode.MISSING_VALUE, f",{T},10.00,USD,A1,B1,wire", "txn_id", None),
    "missing_ts": Bad(ReasonCode.MISSING_VALUE, "x2,,10.00,USD,A1,B1,wire", "ts", None),
    "missing_amount": Bad(ReasonCode.MISSING_VALUE, f"x3,{T},,USD,A1,B1,wire", "amount", None),
    "missing_currency": Bad(ReasonCode.MISSING_VALUE, f"x3,{T},10.00,,A1,B1,wire", "currency", None),
    "missing_channel": Bad(ReasonCode.MISSING_VALUE, f"x3,{T},10.00,USD,A1,B1,", "channel", None),
    "unparseable_timestamp": Bad(ReasonCode.UNPARSEABLE_TIMESTAMP, "x4,2024-02-30 10:00:00,10.00,USD,A1,B1,wire",
                                 "ts", "2024-02-30 10:00:00"),
    "unparseable_amount": Bad(ReasonCode.UNPARSEABLE_AMOUNT, f"x5,{T},1O0.00,USD,A1,B1,wire", "amount", "1O0.00"),
    "negative_amount": Bad(ReasonCode.AMOUNT_NOT_POSITIVE, f"x6,{T},-25.00,USD,A1,B1,wire", "amount", "-25.00"),
    "zero_amount": Bad(ReasonCode.AMOUNT_NOT_POSITIVE, f"x6,{T},0.00,USD,A1,B1,wire", "amount", "0.00"),
    "unknown_channel": Bad(ReasonCode.UNKNOWN_CHANNEL, f"x7,{T},10.00,USD,A1,B1,pigeon", "channel", "pigeon"),
    "unknown_currency": Bad(ReasonCode.UNKNOWN_CURRENCY, f"x8,{T},10.00,XYZ,A1,B1,wire", "currency", "XYZ"),
    "no_account": Bad(ReasonCode.NO_ACCOUNT, f"x9,{T},10.00,USD,,,wire", "payer_account", None),
    "duplicate_in_file": Bad(ReasonCode.DUPLICATE_TXN_ID, "t5,2024-01-20 10:00:00,99.00,USD,A1,B2,wire",
                             "txn_id", "t5"),
    "no_rate_for_currency": Bad(ReasonCode.NO_EXCHANGE_RATE, f"xa,{T},10.00,GBP,A1,B1,wire", "currency", "GBP",
                                profile={"rates": "RATES"}),
    "no_rate_before_first_date": Bad(ReasonCode.NO_EXCHANGE_RATE, "xb,2023-12-31 10:00:00,10.00,EUR,A1,B1,wire",
                                     "currency", "EUR", profile={"rates": "RATES"}),
    "out_of_scope_after": Bad(ReasonCode.OUT_OF_SCOPE, "xc,2024-02-01 00:00:00,10.00,USD,A1,B1,wire", "ts",
                              "2024-02-01", period=("2024-01-01", "2024-01-31")),
    "out_of_scope_before": Bad(ReasonCode.OUT_OF_SCOPE, "xd,2023-12-31 23:59:59,10.00,USD,A1,B1,wire", "ts",
                               "2023-12-31 23:59:59", period=("2024-01-01", "2024-01-31")),
}


def test_every_reason_code_has_a_case() -> None:
    assert {c.reason for c in BAD_CASES.values()} == set(ReasonCode)


# These go through a whole `followmoney.scan(...)` (manifest file included); the rest through the
# loader alone, whose per-file counts are what the manifest records.
THROUGH_SCAN = {"malformed_extra_field", "unparseable_timestamp", "duplicate_in_file", "no_rate_for_currency",
                "out_of_scope_after"}


@pytest.mark.parametrize("case_id", list(BAD_CASES))
def test_one_bad_row_is_quarantined_with_its_line(tmp_path: Path, case_id: str) -> None:
    bad = BAD_CASES[case_id]
    n_good, at = 200, 137  # the bad record follows 137 good ones: line 1 header + 137 + 1
    lines = good_lines(n_good)
    lines.insert(at, bad.line)
    src = write_lines(tmp_path / f"{case_id}.csv", lines)
    profile = dict(bad.profile or {})
    if profile.get("rates") == "RATES":
        rates = tmp_path / "rates.csv"
        rates.write_text("date,currency,rate\n2024-01-01,EUR,1.10\n", encoding="utf-8")
        profile["rates"] = str(rates)
    since, until = bad.period or (None, None)
    if case_id in THROUGH_SCAN:
        got: Collected | Ingested = collect(tmp_path / "out", str(src), profile=profile or None, since=since,
                                            until=until)
        assert_reconciled(got.manifest)
        files = got.manifest["inputs"]["transactions"]
    else:
        got = ingest(str(src), profile or None, since, until)
        files = got.files

    (q,) = got.quarantine
    assert q["reason"] == bad.reason.value
    assert q["table_name"] == "transactions"
    assert q["source_file"] == str(src)
    assert q["source_row"] == at + 2
    assert file_line(src, q["source_row"]) == bad.line  # it points at the bad line itself
    assert q["column_name"] == bad.column
    if bad.reason == ReasonCode.OUT_OF_SCOPE:
        assert q["raw_value"].startswith(bad.raw)
    else:
        assert q["raw_value"] == bad.raw
    if bad.reason == ReasonCode.MALFORMED_LINE:
        assert q["raw_record"] == bad.line
    else:
        record = json.loads(q["raw_record"])
        if "__file_idx" not in record:  # rejected while parsing: the record as read
            assert ",".join(record[c] or "" for c in COLUMNS) == bad.line
        assert record["txn_id"] == (bad.line.split(",")[0] or None)

    (f,) = files
    assert (f["file"], f["read"], f["loaded"], f["quarantined"]) == (str(src), n_good + 1, n_good, 1)
    assert f["quarantined_by_reason"] == {bad.reason.value: 1}
    assert got.txns.height == n_good
    if bad.reason == ReasonCode.DUPLICATE_TXN_ID:
        # The first occurrence (line 7: t5 is the sixth record) is the one loaded.
        kept = got.txns.filter(pl.col("txn_id") == "t5").to_dicts()
        assert [(k["source_row"], k["amount"]) for k in kept] == [(7, 15.25)]


@pytest.mark.parametrize("order", ["a_first", "b_first"])
def test_duplicate_across_files_first_in_input_order_wins(tmp_path: Path, order: str) -> None:
    a = write_lines(tmp_path / "a.csv", good_lines(200, prefix="a"))
    b_lines = good_lines(200, prefix="b")
    dup = "a17,2024-01-09 11:00:00,5.00,USD,Z1,Z2,wire"
    b_lines.insert(41, dup)
    b = write_lines(tmp_path / "b.csv", b_lines)
    sources = [str(a), str(b)] if order == "a_first" else [str(b), str(a)]
    got = collect(tmp_path / "out", sources)
    (q,) = got.quarantine
    assert q["reason"] == "duplicate_txn_id" and q["column_name"] == "txn_id" and q["raw_value"] == "a17"
    if order == "a_first":
        assert (q["source_file"], q["source_row"]) == (str(b), 43)
        assert file_line(b, 43) == dup
        kept_file, kept_row = str(a), 19
    else:
        assert (q["source_file"], q["source_row"]) == (str(a), 19)
        assert file_line(a, 19).startswith("a17,")
        kept_file, kept_row = str(b), 43
    kept = got.txns.filter(pl.col("txn_id") == "a17").to_dicts()
    assert len(kept) == 1 and kept[0]["source_row"] == kept_row
    assert got.manifest["inputs"]["transactions"][kept[0]["source_file_idx"]]["file"] == kept_file
    assert [f["file"] for f in got.manifest["inputs"]["transactions"]] == sources
    assert_reconciled(got.manifest)
    assert got.manifest["reconciliation"]["read"] == 401


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_line_numbers_after_malformed_and_empty_lines(tmp_path: Path, eol: str) -> None:
    lines = good_lines(400)
    bad_amount = "y1,2024-01-05 10:00:00,ten,USD,A1,B1,wire"
    bad_ts = "y2,05/01/2024,10.00,USD,A1,B1,wire"
    malformed = ["m1,2024-01-05 10:00:00,1.00,USD,A,B,wire,x", "m2;only;semicolons", "m3,2024-01-05,1,USD"]
    # Indices into the final list (0-based, header excluded): line number = index + 2.
    for idx, text in sorted([(20, malformed[0]), (60, malformed[1]), (61, bad_amount), (150, ""),
                             (300, malformed[2]), (350, bad_ts)]):
        lines.insert(idx, text)
    src = write_lines(tmp_path / "mixed.csv", lines, eol=eol)
    got = collect(tmp_path / "out", str(src))

    by_line = {q["source_row"]: q for q in got.quarantine}
    expected = {22: ("malformed_line", malformed[0]), 62: ("malformed_line", malformed[1]),
                63: ("unparseable_amount", bad_amount), 302: ("malformed_line", malformed[2]),
                352: ("unparseable_timestamp", bad_ts)}
    assert {k: v["reason"] for k, v in by_line.items()} == {k: v[0] for k, v in expected.items()}
    for number, (_, text) in expected.items():
        assert file_line(src, number) == text
    assert by_line[22]["raw_record"] == malformed[0]
    assert by_line[63]["raw_value"] == "ten" and by_line[352]["raw_value"] == "05/01/2024"
    # Every loaded record knows its own line.
    for txn_id, row in got.txns.select("txn_id", "source_row").iter_rows():
        assert file_line(src, row).split(",")[0] == txn_id
    (f,) = got.manifest["inputs"]["transactions"]
    assert (f["read"], f["loaded"], f["quarantined"]) == (405, 400, 5)
    assert_reconciled(got.manifest)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kinds=st.lists(st.sampled_from(["good", "good", "good", "long", "short", "amount", "empty"]),
                      min_size=1, max_size=40),
       crlf=st.booleans())
def test_line_numbers_property(kinds: list[str], crlf: bool) -> None:
    """Whatever the mix of good, malformed, bad and empty lines, every row points at its own line."""
    texts = []
    for n, kind in enumerate(["good", "good", *kinds]):  # two good lines first, so the sniffer sees the shape
        texts.append({"good": f"g{n},2024-03-01 10:00:00,{n + 1}.00,EUR,A{n},B{n},card",
                      "long": f"l{n},2024-03-01 10:00:00,1.00,EUR,A,B,card,extra",
                      "short": f"s{n},2024-03-01",
                      "amount": f"a{n},2024-03-01 10:00:00,n/a,EUR,A,B,card",
                      "empty": ""}[kind])
    with tempfile.TemporaryDirectory() as tmp:
        src = write_lines(Path(tmp) / "p.csv", texts, eol="\r\n" if crlf else "\n")
        ws = Workspace(":memory:")
        try:
            counts = load_transactions(ws, expand_sources(str(src)),
                                       load_profile({"max_reject_rate": 0.99, "transactions": {"csv": {"delimiter": ","}}}))
            quarantine = ws.sql("SELECT source_row, reason, raw_record FROM quarantine").fetchall()
            loaded = ws.sql("SELECT txn_id, source_row FROM txns").fetchall()
        finally:
            ws.close()
        for row, reason, record in quarantine:
            line = file_line(src, row)
            assert line[:1] in {"malformed_line": ("l", "s"), "unparseable_amount": ("a",)}[reason], (row, reason)
            if reason == "malformed_line":
                assert record == line
        for txn_id, row in loaded:
            assert file_line(src, row).split(",")[0] == txn_id
        non_empty = [t for t in texts if t]
        assert len(loaded) == sum(t.startswith("g") for t in non_empty)
        assert counts[0].read == len(non_empty) == counts[0].loaded + sum(counts[0].quarantined.values())


def test_in_memory_sources_number_rows_from_one(tmp_path: Path) -> None:
    n = 201
    frame = pl.DataFrame({
        "txn_id": [f"m{i}" for i in range(n)],
        "ts": [datetime(2024, 1, 1 + i % 28, 12) for i in range(n)],
        "amount": [-3.0 if i == 57 else 10.0 + i for i in range(n)],
        "currency": ["EUR"] * n,
        "payer_account": [f"P{i % 5}" for i in range(n)],
        "beneficiary_account": [f"Q{i % 3}" for i in range(n)],
        "channel": ["card"] * n,
    })
    got = collect(tmp_path / "pl", frame)
    (q,) = got.quarantine
    assert (q["source_file"], q["source_row"], q["reason"], q["column_name"]) == (
        "<transactions table 1>", 58, "amount_not_positive", "amount")
    assert json.loads(q["raw_record"])["txn_id"] == "m57"
    assert got.txns.height == 200 and got.txns["ts"][0] == datetime(2024, 1, 1, 12)
    assert_reconciled(got.manifest)

    arrow = frame.to_arrow()
    summer = timezone(timedelta(hours=2))  # 14:00 on a Berlin summer clock is 12:00 UTC
    berlin = pa.array([datetime(2024, 7, 1, 14, tzinfo=summer)] * n, pa.timestamp("us", tz="Europe/Berlin"))
    arrow = arrow.set_column(arrow.schema.get_field_index("ts"), "ts", berlin)
    got = ingest(arrow)
    (q,) = got.quarantine
    assert (q["source_row"], q["reason"]) == (58, "amount_not_positive")
    # A zone-aware column is an instant: it is stored as that instant in UTC.
    assert set(got.txns["ts"]) == {datetime(2024, 7, 1, 12)}


def test_parties_row_without_account_is_quarantined(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "t.csv", good_lines(50))
    rows = [f"A{i},P{i},holder,Person {i},1980-01-{1 + i % 28:02d},+49 30 {i:06d}" for i in range(200)]
    rows.insert(88, ",P999,holder,Nobody,1990-05-05,+49 30 999999")
    parties = write_lines(tmp_path / "parties.csv", rows, header="account_id,party_id,relation,name,birth_date,phone")
    got = collect(tmp_path / "out", str(src), parties=str(parties))
    (q,) = got.quarantine
    assert (q["table_name"], q["reason"], q["column_name"]) == ("parties", "missing_value", "account_id")
    assert (q["source_file"], q["source_row"]) == (str(parties), 90)
    assert file_line(parties, 90).startswith(",P999,")
    (p,) = got.manifest["inputs"]["parties"]
    assert (p["file"], p["read"], p["loaded"], p["quarantined"]) == (str(parties), 201, 200, 1)
    assert_reconciled(got.manifest, "parties")
    assert got.manifest["reconciliation"]["read"] == 50  # the transactions' reconciliation is unchanged


# ---------------------------------------------------------------- 3. the 1 % rule
def _five_percent_bad_ts(path: Path) -> tuple[Path, list[str]]:
    lines = good_lines(200)
    bad = [f"w{i},{5 + i:02d}/01/2024 10:00,10.00,USD,A1,B1,wire" for i in range(10)]
    for i, text in enumerate(bad):
        lines.insert(15 + 19 * i, text)
    return write_lines(path, lines), [t.split(",")[1] for t in bad]


def test_mapping_error_from_the_api(tmp_path: Path) -> None:
    src, bad_values = _five_percent_bad_ts(tmp_path / "export.csv")
    with pytest.raises(MappingError) as info:
        followmoney.scan(str(src), out=tmp_path / "out", to_stage="collect")
    (problem,) = info.value.problems
    assert (problem.file, problem.column, problem.reason) == (str(src), "ts", "unparseable_timestamp")
    assert list(problem.examples) == bad_values[:3]  # the first ones in file order
    assert "10 of 210" in problem.detail


def test_mapping_error_from_the_cli(tmp_path: Path) -> None:
    src, bad_values = _five_percent_bad_ts(tmp_path / "export.csv")
    code, text = run_cli(["scan", str(src), "--out", str(tmp_path / "out"), "--no-progress"])
    assert code == 2, text
    for needle in (str(src), " ts ", "unparseable_timestamp", repr(bad_values[0]), "mapping"):
        assert needle in text
    assert "Traceback" not in text


def test_wrong_timestamp_format_in_the_profile_stops_the_cli(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "bank.csv", good_lines(300))
    prof = tmp_path / "wrong.yml"
    prof.write_text('transactions:\n  timestamp_format: "%d.%m.%Y %H:%M"\n', encoding="utf-8")
    code, text = run_cli(["scan", str(src), "--profile", str(prof), "--out", str(tmp_path / "out")])
    assert code == 2, text
    assert str(src) in text and "unparseable_timestamp" in text and "300 of 300" in text
    assert "'2024-01-01 08:00:00'" in text  # the first value that failed
    assert "Traceback" not in text


@pytest.mark.parametrize(("n_bad", "fails"), [(2, False), (3, True)])
def test_the_rule_is_more_than_one_percent(tmp_path: Path, n_bad: int, fails: bool) -> None:
    # 200 good + 2 bad: 2 of 202 rows (0.99 %) passes; 200 + 3: 3 of 203 (1.48 %) stops.
    lines = good_lines(200) + [f"z{i},2024-01-05 10:00:00,abc,USD,A1,B1,wire" for i in range(n_bad)]
    src = write_lines(tmp_path / "edge.csv", lines)
    if fails:
        with pytest.raises(MappingError, match="unparseable_amount"):
            ingest(str(src))
    else:
        assert ingest(str(src)).files[0]["quarantined_by_reason"] == {"unparseable_amount": 2}


def test_rule_can_be_relaxed_and_ignores_out_of_scope(tmp_path: Path) -> None:
    src, _ = _five_percent_bad_ts(tmp_path / "export.csv")
    got = ingest(str(src), {"max_reject_rate": 0.10})
    assert got.files[0]["quarantined_by_reason"] == {"unparseable_timestamp": 10}
    # Half the rows outside the period is scoping, not a mapping error.
    two_months = write_lines(tmp_path / "two.csv", good_lines(100, prefix="j") + good_lines(100, prefix="f", month=2))
    got = collect(tmp_path / "scoped", str(two_months), since="2024-02-01")
    assert got.manifest["inputs"]["transactions"][0]["quarantined_by_reason"] == {"out_of_scope": 100}
    assert set(got.txns["txn_id"].str.slice(0, 1)) == {"f"}
    assert_reconciled(got.manifest)


# ---------------------------------------------------------------- 4. fatal schema errors
def test_missing_required_column_via_cli(tmp_path: Path) -> None:
    header = "txn_id,ts,currency,payer_account,beneficiary_account,channel"
    src = write_lines(tmp_path / "no_amount.csv", ["t1,2024-01-01 10:00:00,USD,A,B,wire"], header=header)
    code, text = run_cli(["scan", str(src), "--out", str(tmp_path / "out")])
    assert code == 2, text
    assert str(src) in text and "amount" in text and "missing_column" in text
    assert "a column for 'amount'" in text
    assert "Traceback" not in text


def test_mapped_column_that_does_not_exist(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "x.csv", good_lines(3))
    with pytest.raises(InputSchemaError) as info:
        ingest(str(src), {"transactions": {"columns": {"amount": "Betrag"}}})
    (problem,) = info.value.problems
    assert (problem.file, problem.column, problem.reason) == (str(src), "Betrag", "missing_column")
    assert "amount" in problem.detail


def _parquet(path: Path, **override: Any) -> Path:
    cols: dict[str, Any] = {"txn_id": ["p1", "p2"], "ts": [datetime(2024, 1, 1), datetime(2024, 1, 2)],
                            "amount": [1.0, 2.0], "currency": ["USD", "USD"], "payer_account": ["A", "B"],
                            "beneficiary_account": ["B", "A"], "channel": ["wire", "card"]}
    cols.update(override)
    pq.write_table(pa.table(cols), path)
    return path


def test_wrong_dtypes_and_all_files_reported_at_once(tmp_path: Path) -> None:
    boolean = _parquet(tmp_path / "bool_ts.parquet", ts=[True, False])
    listed = _parquet(tmp_path / "list_ts.parquet", ts=[["2024-01-01"], ["2024-01-02"]])
    flag_amount = _parquet(tmp_path / "bool_amount.parquet", amount=[True, True])
    no_amount = write_lines(tmp_path / "no_amount.csv", ["t1,2024-01-01,USD,A,B,wire"],
                            header="txn_id,ts,currency,payer_account,beneficiary_account,channel")
    fine = _parquet(tmp_path / "fine.parquet")
    sources = [str(p) for p in (fine, boolean, listed, flag_amount, no_amount)]
    with pytest.raises(InputSchemaError) as info:
        followmoney.scan(sources, out=tmp_path / "api", to_stage="collect")
    found = {(p.file, p.column, p.reason) for p in info.value.problems}
    assert found == {(str(boolean), "ts", "wrong_dtype"), (str(listed), "ts", "wrong_dtype"),
                     (str(flag_amount), "amount", "wrong_dtype"), (str(no_amount), "amount", "missing_column")}
    code, text = run_cli(["scan", *sources, "--out", str(tmp_path / "cli")])
    assert code == 2, text
    for src in sources[1:]:
        assert src in text
    assert str(fine) not in text
    assert "BOOLEAN" in text and "VARCHAR[]" in text
    assert "date or timestamp" in text and "a number" in text
    assert "4 problem(s)" in text and "Traceback" not in text


def test_missing_input_and_unreadable_rates_are_user_errors(tmp_path: Path) -> None:
    code, text = run_cli(["scan", str(tmp_path / "nowhere.csv"), "--out", str(tmp_path / "o1")])
    assert code == 2 and "nowhere.csv" in text and "Traceback" not in text
    src = write_lines(tmp_path / "t.csv", good_lines(5))
    prof = tmp_path / "p.yml"
    prof.write_text(f"rates: {tmp_path / 'no_rates.csv'}\n", encoding="utf-8")
    code, text = run_cli(["scan", str(src), "--profile", str(prof), "--out", str(tmp_path / "o2")])
    assert code == 2, text
    assert "no_rates.csv" in text and "Traceback" not in text and "Internal error" not in text


# ---------------------------------------------------------------- 5. currencies, time zones, sources
def test_currency_conversion_asof_the_date(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,rate\n2024-01-15,EUR,1.20\n2024-01-01,EUR,1.10\n2024-01-01,GBP,1.25\n",
                     encoding="utf-8")
    rows = [("e1", "2024-01-10 10:00:00", "100.00", "EUR", 110.00),  # the 1 Jan rate still applies
            ("e2", "2024-01-15 00:00:00", "100.00", "EUR", 120.00),  # a rate applies from its own date
            ("e3", "2024-03-31 23:00:00", "100.00", "eur", 120.00),  # the latest rate; code upper-cased
            ("g1", "2024-02-01 10:00:00", "10.00", "GBP", 12.50),
            ("u1", "2024-02-01 10:00:00", "50.00", "USD", 50.00)]  # the reporting currency itself
    lines = [f"{i},{ts},{a},{c},ACC,OTHER,wire" for i, ts, a, c, _ in rows] + good_lines(200)
    src = write_lines(tmp_path / "fx.csv", lines)
    got = collect(tmp_path / "out", str(src), profile={"rates": str(rates), "reporting_currency": "USD"})
    conv = {r["txn_id"]: r for r in got.txns.filter(pl.col("txn_id").is_in([r[0] for r in rows])).to_dicts()}
    for txn_id, _, amount, _, expected in rows:
        assert conv[txn_id]["amount"] == pytest.approx(float(amount))  # the original amount is kept
        assert conv[txn_id]["amount_rc"] == pytest.approx(expected)
    assert conv["e3"]["currency"] == "EUR"
    legs = got.postings.filter(pl.col("account_id") == "ACC").sort("ts")
    assert [round(a, 2) for a in legs["amount"]] == [-110.0, -120.0, -12.5, -50.0, -120.0]
    assert got.quarantine == []


def test_naive_timestamps_are_local_and_offsets_are_honoured(tmp_path: Path) -> None:
    rows = [("n1", "2024-01-15 10:00:00", datetime(2024, 1, 15, 15)),   # EST = UTC-5
            ("n2", "2024-07-15 10:00:00", datetime(2024, 7, 15, 14)),   # EDT = UTC-4
            ("n3", "2024-07-15T10:00:00", datetime(2024, 7, 15, 14)),
            ("o1", "2024-01-15T10:00:00+01:00", datetime(2024, 1, 15, 9)),
            ("o2", "2024-01-15 10:00:00+0530", datetime(2024, 1, 15, 4, 30)),
            ("o3", "2024-01-15T10:00:00Z", datetime(2024, 1, 15, 10)),
            ("o4", "2024-01-15T22:00:00-05:00", datetime(2024, 1, 16, 3))]
    src = write_lines(tmp_path / "tz.csv", [f"{i},{ts},5.00,USD,A,B,card" for i, ts, _ in rows])
    got = collect(tmp_path / "out", str(src), profile={"timezone": "America/New_York"})
    assert dict(got.txns.select("txn_id", "ts").iter_rows()) == {i: utc for i, _, utc in rows}
    hours = dict(got.postings.filter(pl.col("account_id") == "A").select("txn_idx", "local_hour").iter_rows())
    by_id = dict(got.txns.select("txn_id", "txn_idx").iter_rows())
    assert hours[by_id["n1"]] == 10 and hours[by_id["o4"]] == 22  # local hour, New York time


def test_timestamp_format_with_an_offset(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "z.csv", ["k1,15/01/2024 10:00 +0200,5.00,USD,A,B,card"])
    got = ingest(str(src), {"timezone": "Asia/Tokyo", "transactions": {"timestamp_format": "%d/%m/%Y %H:%M %z"}})
    assert got.txns["ts"].to_list() == [datetime(2024, 1, 15, 8)]  # the offset wins over the profile's zone


def test_period_days_are_local_days(tmp_path: Path) -> None:
    # Berlin is UTC+1 in January: 00:30 on 15 Jan local is 23:30 on 14 Jan in UTC, and is in scope.
    rows = ["b1,2024-01-14 23:59:00,5.00,EUR,A,B,card",   # local 14 Jan: before the period
            "b2,2024-01-15 00:30:00,5.00,EUR,A,B,card",   # local 15 Jan: first day
            "b3,2024-01-31 23:30:00,5.00,EUR,A,B,card",   # local 31 Jan: last day (UTC 22:30)
            "b4,2024-02-01 00:10:00,5.00,EUR,A,B,card"]   # local 1 Feb: after (UTC 31 Jan 23:10)
    src = write_lines(tmp_path / "p.csv", rows)
    got = ingest(str(src), {"timezone": "Europe/Berlin"}, since="2024-01-15", until="2024-01-31")
    assert sorted(got.txns["txn_id"]) == ["b2", "b3"]
    assert {(q["source_row"], q["reason"]) for q in got.quarantine} == {(2, "out_of_scope"), (5, "out_of_scope")}


def test_folder_and_glob_inputs_in_sorted_order(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    (folder / "2024-02").mkdir(parents=True)
    write_lines(folder / "2024-02" / "b.csv", good_lines(3, prefix="c"))
    write_lines(folder / "b.csv", good_lines(3, prefix="b"))
    write_lines(folder / "a.csv", [*good_lines(3, prefix="a"), "b1,2024-01-09 09:00:00,1.00,USD,X,Y,wire"])
    _parquet(folder / "c.parquet")
    (folder / "README.md").write_text("not an input\n", encoding="utf-8")

    # b.csv is tiny, so its one duplicate is a third of it: relax the 1 % rule for this test.
    got = collect(tmp_path / "dir", str(folder), profile={"max_reject_rate": 0.5})
    expected = [folder / "2024-02" / "b.csv", folder / "a.csv", folder / "b.csv", folder / "c.parquet"]
    assert [f["file"] for f in got.manifest["inputs"]["transactions"]] == [str(p) for p in expected]
    # File order decides duplicates: a.csv's b1 comes first, b.csv's b1 (line 3) is the duplicate.
    (q,) = got.quarantine
    assert (q["reason"], q["source_file"], q["source_row"]) == ("duplicate_txn_id", str(folder / "b.csv"), 3)
    assert got.txns["txn_id"].to_list() == ["c0", "c1", "c2", "a0", "a1", "a2", "b1", "b0", "b2", "p1", "p2"]
    assert_reconciled(got.manifest)

    got = ingest(str(folder / "*.csv"), {"max_reject_rate": 0.5})
    assert [f["file"] for f in got.files] == [str(folder / "a.csv"),
                                                                           str(folder / "b.csv")]


# ---------------------------------------------------------------- profiles: layers, jurisdictions, checks
@pytest.mark.parametrize(("code", "currency", "zone"), [("US", "USD", "America/New_York"),
                                                          ("CA", "CAD", "America/Toronto"),
                                                          ("EU", "EUR", "Europe/Brussels"),
                                                          ("UK", "GBP", "Europe/London")])
def test_jurisdictions(code: str, currency: str, zone: str) -> None:
    prof = load_profile(jurisdiction=code.lower())
    assert (prof["jurisdiction"], prof["reporting_currency"], prof["timezone"]) == (code, currency, zone)
    assert prof.sources == ["defaults", f"jurisdiction:{code}"]
    assert prof["indicators"]["CSH01"]["threshold"] == 10000


def test_scan_with_a_jurisdiction(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "t.csv", good_lines(10, currency="EUR"))
    got = collect(tmp_path / "out", str(src), jurisdiction="EU")
    assert got.manifest["profile"]["settings"]["reporting_currency"] == "EUR"
    assert got.txns.height == 10


def test_merge_order(tmp_path: Path) -> None:
    path = tmp_path / "bank.yml"
    path.write_text("jurisdiction: UK\ntimezone: Europe/Dublin\nperiod: {since: 2023-01-01, until: 2024-12-31}\n"
                    "transactions:\n  columns: {amount: Betrag}\n", encoding="utf-8")
    prof = load_profile(path, overrides={"period": {"since": "2024-06-01"}})
    assert prof.sources == ["defaults", "jurisdiction:UK", "file:bank.yml", "overrides"]
    assert prof["reporting_currency"] == "GBP"                      # from the jurisdiction
    assert prof["timezone"] == "Europe/Dublin"                       # the file beats the jurisdiction
    assert str(prof["period"]["since"]) == "2024-06-01"              # options beat the file
    assert str(prof["period"]["until"]) == "2024-12-31"              # ... key by key
    assert prof["max_reject_rate"] == DEFAULTS["max_reject_rate"]    # untouched default
    assert prof["transactions"]["columns"] == {"amount": "Betrag"}
    # An explicit jurisdiction beats the one the file names.
    assert load_profile(path, jurisdiction="CA")["reporting_currency"] == "CAD"


@pytest.mark.parametrize(("settings_", "message"), [
    ({"transactons": {}}, "Did you mean 'transactions'"),
    ({"transactions": {"csv": {"delimeter": ";"}}}, "Did you mean 'delimiter'"),
    ({"timezone": "Europe/Berln"}, "timezone 'Europe/Berln'"),
    ({"period": {"since": "2024-13-01"}}, "period.since"),
    ({"period": {"since": "2024-03-01", "until": "2024-02-01"}}, "after period.until"),
    ({"transactions": {"channel_rules": [{"pattern": "(unclosed", "channel": "atm"}]}}, "regular expression"),
    ({"transactions": {"channel_rules": [{"regex": "atm", "channel": "atm"}]}}, "'pattern' and 'channel'"),
    ({"transactions": {"statement": {"account": "Konto", "date": "Datum", "debit": "Soll"}}}, "both 'debit' and 'credit'"),
    ({"max_reject_rate": 1.5}, "max_reject_rate"),
])
def test_bad_profiles_are_profile_errors(settings_: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError, match=re.escape(message)):
        load_profile(settings_)


def test_bad_period_via_cli_is_exit_2(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "t.csv", good_lines(5))
    code, text = run_cli(["scan", str(src), "--since", "2024-02-30", "--out", str(tmp_path / "out")])
    assert code == 2 and "period.since" in text and "Traceback" not in text


# ---------------------------------------------------------------- docs/profiles.md stays true
def _key_paths(mapping: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in mapping.items():
        out.append(prefix + key)
        if isinstance(value, dict) and value and prefix + key not in ("indicators", "scoring.weights"):
            out += _key_paths(value, f"{prefix}{key}.")
    return out


def test_profiles_doc_covers_every_key_reason_and_jurisdiction() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [k for k in _key_paths(DEFAULTS) if f"`{k}`" not in text]
    assert not missing, f"docs/profiles.md does not document {missing}"
    assert all(f"`{code.value}`" in text for code in ReasonCode)
    assert all(REASON_TEXT[code] in text for code in ReasonCode)
    assert all(j in text for j in JURISDICTIONS)


def test_profiles_doc_examples_load_and_match_the_test() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 2
    for block in blocks:
        data = yaml.safe_load(block)
        if isinstance(data, dict) and set(data) <= set(DEFAULTS):
            load_profile(data)
    assert yaml.safe_load(GERMAN_PROFILE_YAML) in [yaml.safe_load(b) for b in blocks]
