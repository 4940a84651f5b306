"""Stage `collect` on Spark against the DuckDB ingest: same txns, quarantine, counts and derived tables.

Marked `spark` (see tests/test_spark_engine.py): needs pyspark and Java 17, runs in the one local
SparkSession of the test session, whose `spark.driver.maxResultSize` is too small for the postings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import require

from followmoney.errors import InputSchemaError, MappingError
from followmoney.pipeline.stage import Context, ScanOptions
from followmoney.pipeline.steps import s01_scope, s02_collect
from followmoney.progress import Progress
from followmoney.workspace import Workspace

pytestmark = pytest.mark.spark

SPARK_CONF = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.enabled": "false",
    "spark.driver.maxResultSize": "8m",
    "spark.driver.memory": "1g",
}
"""The settings of tests/test_spark_engine.py's session (whichever module starts it first)."""


@pytest.fixture(scope="session")
def spark_session_for_collect():
    """The one local SparkSession (shared with tests/test_spark_engine.py when both run)."""
    import shutil

    require(shutil.which("java") is not None, "Java is needed for Spark")
    pytest.importorskip("pyspark", reason="the Spark engine needs the spark extra")
    from followmoney.engines.spark import spark_session

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return spark_session("local[2]", app_name="followmoney-tests", conf=SPARK_CONF)


HEADER = "id;when;value;cur;src;dst;kind;mcc;city;device"
LINES = [
    "a1;2024-03-01 10:00:00;100.50;EUR;ACC1;ACC2;P2P;5411;Wien;d1",
    "a2;2024-03-01T23:30:00;20;eur;ACC2;ACC3;card;6051;Graz;",
    "a3;2024-03-02 08:00:00+02:00;1 234,5;EUR;ACC3;;cash;;Wien;d2",
    "short;line",                                   # malformed: too few fields
    "",                                             # empty line: skipped, but counted in line numbers
    ";2024-03-02 09:00:00;10;EUR;ACC1;ACC2;p2p;;;",  # missing txn_id
    "b1;;10;EUR;ACC1;ACC2;p2p;;;",                  # missing ts
    "b2;yesterday;10;EUR;ACC1;ACC2;p2p;;;",         # unparseable ts
    "b3;2024-03-02 09:00:00;;EUR;ACC1;ACC2;p2p;;;",  # missing amount
    "b4;2024-03-02 09:00:00;ten;EUR;ACC1;ACC2;p2p;;;",  # unparseable amount
    "b5;2024-03-02 09:00:00;-5;EUR;ACC1;ACC2;p2p;;;",  # amount not positive
    "b6;2024-03-02 09:00:00;5;EUR;ACC1;ACC2;;;;",   # missing channel
    "b7;2024-03-02 09:00:00;5;EUR;ACC1;ACC2;teleport;;;",  # unknown channel
    "b8;2024-03-02 09:00:00;5;;ACC1;ACC2;p2p;;;",   # missing currency
    "b9;2024-03-02 09:00:00;5;XXZ;ACC1;ACC2;p2p;;;",  # unknown currency
    "b10;2024-03-02 09:00:00;5;EUR;;;p2p;;;",       # no account
    "a1;2024-03-03 09:00:00;7;EUR;ACC1;ACC4;p2p;;;",  # duplicate of the first row
    "c1;2024-03-03 09:00:00;7;JPY;ACC1;ACC4;wire;;;",  # no exchange rate
    "c2;2023-12-31 22:30:00;7;EUR;ACC5;ACC1;p2p;;;",  # out of period (local day 2023-12-31)
    'c3;2024-03-04 00:30:00;"3,5";USD;ACC5;ACC6;transfer;;Linz;d1',
    "c4;2024-03-04 01:00:00;3;EUR;ACC6;ACC7;p2p;5411;;;extra",  # malformed: too many fields
]

PROFILE = {
    "timezone": "Europe/Vienna",
    "reporting_currency": "EUR",
    "max_reject_rate": 0.99,
    "period": {"since": "2024-01-01", "until": "2024-12-31"},
    "transactions": {
        "columns": {"txn_id": "id", "ts": "when", "amount": "value", "currency": "cur", "payer_account": "src",
                    "beneficiary_account": "dst", "channel": "kind", "mcc": "mcc", "city": "city",
                    "device_id": "device"},
        "codes": {"channel": {"P2P": "p2p"}},
        "csv": {"decimal_comma": True, "thousands": " "},
    },
}


def _inputs(tmp: Path) -> tuple[list[str], list[str], dict[str, Any]]:
    """Two CSV files (different delimiters) and a Parquet file of messy rows, parties, a rates file."""
    one = tmp / "a_first.csv"
    one.write_text("\n".join([HEADER, *LINES]) + "\n", encoding="utf-8")
    two = tmp / "b_second.csv"
    rows2 = [HEADER.replace(";", ","), "a2,2024-03-05 10:00:00,5,EUR,ACC9,ACC1,p2p,,,d9",  # duplicate across files
             "d1,2024-03-05 11:00:00,12,USD,ACC9,ACC2,wire,,Wien,", "d2,2024-03-05 12:00:00,0,EUR,ACC9,ACC2,wire,,,"]
    two.write_bytes(("\r\n".join(rows2) + "\r\n").encode("utf-8"))
    three = tmp / "c_third.parquet"
    pq.write_table(pa.table({
        "id": ["p1", "p2", "d1", "p3", "p4"],
        "when": pa.array([1709290800_000000, 1709294400_000000, 1709298000_000000, None, 1709301600_000000],
                         pa.timestamp("us")),
        "value": [10.0, 2.5, 3.0, 4.0, -1.0],
        "cur": ["EUR", "USD", "EUR", "EUR", "EUR"],
        "src": ["ACC1", "ACC10", "ACC1", "ACC1", "ACC1"],
        "dst": ["ACC10", None, "ACC2", "ACC2", "ACC2"],
        "kind": ["transfer", "atm", "p2p", "p2p", "p2p"],
        "mcc": [None, "6011", None, None, None],
        "city": ["Wien", None, None, None, None],
        "device": [None, None, None, None, None],
    }), three)
    parties = tmp / "parties.csv"
    parties.write_text("\n".join([
        "account_id,party_id,relation,name,birth_date,phone,email,address,declared_income",
        "ACC1,P1,holder,Ann,1990-01-02,+43 (1) 234,Ann@X.org,  Main  St 1 ,1000",
        "ACC1,P0,signatory,Bob,1980-05-06,,,,",
        "ACC2,P2,,Cid,not a date,0043 1 234,,,",
        ",P3,holder,Dee,,,,,",
        "ACC8,P8,holder,Eve,,,eve@y.org,main st 1,12x",
        "ACC3,P3",
    ]) + "\n", encoding="utf-8")
    rates = tmp / "rates.csv"
    rates.write_text("date,currency,rate\n2024-01-01,USD,0.9\n2024-03-04,USD,0.95\n2024-01-01,EUR,1.0\n",
                     encoding="utf-8")
    profile = json.loads(json.dumps(PROFILE))
    profile["rates"] = str(rates)
    return [str(one), str(two), str(three)], [str(parties)], profile


def _collect(tmp: Path, engine: str, spark: Any, sources: list[str], parties: list[str] | None,
             profile: dict[str, Any]) -> tuple[Workspace, Context]:
    ws = Workspace(":memory:", threads=1)
    options = ScanOptions(sources=sources, parties=parties, profile=profile, engine=engine, spark=spark)
    ctx = Context(ws=ws, options=options, out=tmp, progress=Progress(False))
    s01_scope.STAGE.run(ctx)
    s02_collect.STAGE.run(ctx)
    return ws, ctx


def _close(ws: Workspace, ctx: Context) -> None:
    if ctx.spark_plane is not None:
        from followmoney.engines.handoff import close_plane

        close_plane(ctx)
    ws.close()


def _tables(ws: Workspace) -> dict[str, pa.Table]:
    """Every table collect produces, in the order each is stored (txns by txn_idx: it is written unordered)."""
    out = {"txns": ws.arrow("SELECT * FROM txns ORDER BY txn_idx")}
    for name in ("quarantine", "accounts", "postings", "identifiers", "parties", "city_codes", "branch_codes"):
        if ws.has(name):
            out[name] = ws.arrow(f'SELECT * FROM "{name}"')
    return out


def _mapping_error(ws: Workspace | None, ctx: Context, counts: list[dict[str, Any]]) -> str | None:
    """The MappingError message of the 1% reject-rate rule: DuckDB's check on `ws`, else Spark's on the plane."""
    from followmoney.engines import spark_collect
    from followmoney.ingest import transactions

    try:
        if ws is not None:
            files = [transactions.FileCount(f["file"], f["sha256"], read=f["read"]) for f in counts]
            transactions.check_reject_rates(ws, files, {i: f["loaded"] for i, f in enumerate(counts)}, 0.01,
                                            "transactions")
        else:
            files = [spark_collect.FileCount(f["file"], f["sha256"], read=f["read"], loaded=f["loaded"]) for f in counts]
            spark_collect.check_reject_rates(ctx.spark_plane["quarantine"], files, 0.01, "transactions")
    except MappingError as err:
        return str(err)
    return None


def test_ingest_on_spark_matches_duckdb_on_messy_inputs(spark_session_for_collect, tmp_path):
    sources, parties, profile = _inputs(tmp_path)
    duck_ws, duck_ctx = _collect(tmp_path, "duckdb", None, sources, parties, profile)
    spark_ws, spark_ctx = _collect(tmp_path, "spark", spark_session_for_collect, sources, parties, profile)
    try:
        assert spark_ctx.spark_plane is not None and duck_ctx.spark_plane is None
        duck, on_spark = _tables(duck_ws), _tables(spark_ws)
        assert sorted(on_spark) == sorted(duck)
        reasons = set(duck["quarantine"].column("reason").to_pylist())
        # Every reason code occurs, or the comparison below would not cover it.
        from followmoney.schema import ReasonCode

        assert reasons == {r.value for r in ReasonCode}, reasons
        assert duck["postings"].num_rows > 0 and duck["parties"].num_rows > 0
        for name, table in duck.items():
            other = on_spark[name]
            assert other.schema.names == table.schema.names, name
            assert other.cast(table.schema).equals(table), (name, table.to_pylist(), other.to_pylist())
            assert other.schema == table.schema, (name, table.schema, other.schema)
        assert spark_ws.get_meta("inputs") == duck_ws.get_meta("inputs")
        counts = duck_ws.get_meta("inputs")["transactions"]
        assert all(f["read"] == f["loaded"] + f["quarantined"] for f in counts)
        # The reject-rate rule at the default 1% over these quarantines: the same MappingError. (Checked on
        # the tables just built rather than by a second ingest, which would cost half a minute of Spark jobs.)
        assert _mapping_error(duck_ws, spark_ctx, counts) is not None
        assert _mapping_error(duck_ws, spark_ctx, counts) == _mapping_error(None, spark_ctx, counts)
    finally:
        _close(duck_ws, duck_ctx)
        _close(spark_ws, spark_ctx)


def test_a_fatal_schema_problem_is_the_same_error_on_spark(spark_session_for_collect, tmp_path):
    sources, parties, profile = _inputs(tmp_path)
    # A mapped column the files lack, and a required column left unmapped: every file, both problems.
    profile["transactions"]["columns"]["amount"] = "amount_eur"
    del profile["transactions"]["columns"]["payer_account"]
    messages = []
    for engine, spark in (("duckdb", None), ("spark", spark_session_for_collect)):
        ws = Workspace(":memory:", threads=1)
        ctx = Context(ws=ws, options=ScanOptions(sources=sources, parties=parties, profile=profile, engine=engine,
                                                 spark=spark), out=tmp_path, progress=Progress(False))
        try:
            s01_scope.STAGE.run(ctx)
            with pytest.raises(InputSchemaError) as err:
                s02_collect.STAGE.run(ctx)
            messages.append(str(err.value))
        finally:
            _close(ws, ctx)
    assert "amount_eur" in messages[0] and "payer_account" in messages[0]
    assert messages[1] == messages[0]


def test_the_spark_ingest_never_imports_duckdb():
    import subprocess
    import sys

    code = ("import sys, followmoney.engines.spark_collect, followmoney.engines.spark_plane; "
            "assert 'duckdb' not in sys.modules, 'duckdb imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("fmt", "values"), [
    ("%d/%m/%Y %H:%M", ["01/02/2024 10:30", "31/12/2023 23:59", "32/01/2024 10:00", "1/2/2024", ""]),
    ("%Y%m%d %H%M%S", ["20240201 103000", "2024-02-01 10:30:00"]),
    ("%d.%m.%y %I:%M %p", ["01.02.24 10:30 PM", "01.02.24 10:30"]),
    ("%Y-%m-%dT%H:%M:%S%z", ["2024-02-01T10:30:00+01:00", "2024-02-01T10:30:00+0100", "2024-02-01T10:30:00Z"]),
])
def test_timestamp_formats_parse_alike(spark_session_for_collect, fmt, values):
    """A profile's strftime format, translated for Spark, accepts and rejects the values DuckDB's strptime does."""
    import duckdb
    from pyspark.sql import functions as F

    from followmoney.engines.spark_collect import _timestamp

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    expr = f"try_strptime(v, '{fmt}')" + (" AT TIME ZONE 'UTC'" if "%z" in fmt else "")
    duck = [con.execute(f"SELECT {expr} FROM (SELECT ? AS v)", [v]).fetchone()[0] for v in values]
    df = spark_session_for_collect.createDataFrame([(v,) for v in values], "v string")
    on_spark = [r[0] for r in df.select(_timestamp(F.col("v"), "VARCHAR", fmt, "UTC")).collect()]
    assert on_spark == [d.replace(tzinfo=None) if d is not None else None for d in duck]
