"""Stage `collect` on Spark: the DuckDB ingest (`followmoney.ingest`) rebuilt on Spark DataFrames.

Same sources (CSV and Parquet files, in-memory Arrow-compatible tables), same profile, same
results: `txns` (with `txn_idx = file_idx * 2^40 + row`), `quarantine` (same reasons, in the same
order of checks, with the raw record as JSON), per-file reconciliation counts and the reject-rate
`MappingError`, fatal schema problems as `InputSchemaError`, then `accounts`, `postings`,
`identifiers` and `parties` as `ingest.derive` builds them. Every table is written to the run's
`SparkPlane`; only counts, the few quarantine examples of an error message and the column lists
come back to the driver, never rows.

Row numbers follow `ingest.read`: a CSV record is numbered with its physical line in the file
(header = line 1, empty lines skipped but counted), found with `zipWithIndex` over the file's
lines; a Parquet row with its 1-based position (`_metadata.row_index`); an in-memory row with its
1-based position. CSV lines are split by Python's `csv` module on the executors: a line with
another number of fields than the header, or broken quoting, is a `malformed_line` as DuckDB's
reject table makes it. Records spanning several lines (quoted newlines) are not supported here.

This module never imports duckdb (nor modules that do): it runs where only pyspark is installed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followmoney.engines.spark_plane import SparkPlane
from followmoney.errors import FollowMoneyError, InputSchemaError, MappingError, SchemaProblem
from followmoney.ingest.common import OPTIONAL, FileCount, iso_currencies, resolve_columns
from followmoney.schema import CHANNELS, PARTIES, REASON_TEXT, TRANSACTIONS, ReasonCode

if TYPE_CHECKING:  # pragma: no cover - typing only; pyspark is optional
    from pyspark.sql import Column, DataFrame, SparkSession

_OPT_TYPES = {c.name: ("boolean" if c.dtype == "BOOLEAN" else "string") for c in TRANSACTIONS if not c.required}
_FILE_STRIDE = 1 << 40  # rows per file in txn_idx, as in ingest.transactions
_NUMERIC = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*)$")
_TEMPORAL = re.compile(r"^(DATE|TIMESTAMP.*)$")
_SIDE_COLUMNS = {"payer_country", "beneficiary_country"}
_CSV_DELIMITERS = (",", "|", ";", "\t")  # the candidates DuckDB's sniffer tries
_SAMPLE_BYTES = 1 << 16

# Order of a quarantine row, as the DuckDB ingest inserts them: the malformed lines of every
# transactions file, then per file its rows failing a per-row check; then duplicates, missing rates
# and out-of-period rows of every file; then per parties file its malformed lines and failing rows.
_PHASE_MALFORMED, _PHASE_ROWS, _PHASE_DUP, _PHASE_RATE, _PHASE_PERIOD, _PHASE_PARTIES = 0, 1, 2, 3, 4, 5
QUARANTINE_ORDER = ["__k_phase", "__k_file", "__k_sub", "source_row"]
"""Columns of the plane's `quarantine` and `quarantine_parties` that give the DuckDB ingest's row order."""

QUARANTINE_TABLES = ("quarantine", "quarantine_parties")
"""The plane's quarantine tables (transactions, parties): the workspace's `quarantine` is both, in order."""


class SparkIngestError(FollowMoneyError):
    """An input the Spark ingest cannot read (it says which, and what to do instead)."""


@dataclass
class _Raw:
    """One source as read: `__row`, `__bad` (the raw text of a malformed CSV line, else NULL) and its
    columns, with their DuckDB-style types. Malformed lines stay in the one DataFrame, so the file is
    parsed once, by the one write that stages every row."""

    df: DataFrame
    available: dict[str, str]


# ----------------------------------------------------------------------------------------- reading

def _duck_type(dtype: Any) -> str:
    """The DuckDB name of a Spark column type, so type checks and messages read as on DuckDB."""
    from pyspark.sql import types as T

    simple = {T.StringType: "VARCHAR", T.ByteType: "TINYINT", T.ShortType: "SMALLINT", T.IntegerType: "INTEGER",
              T.LongType: "BIGINT", T.FloatType: "FLOAT", T.DoubleType: "DOUBLE", T.BooleanType: "BOOLEAN",
              T.DateType: "DATE", T.TimestampType: "TIMESTAMP WITH TIME ZONE", T.TimestampNTZType: "TIMESTAMP",
              T.BinaryType: "BLOB"}
    for kind, name in simple.items():
        if isinstance(dtype, kind):
            return name
    if isinstance(dtype, T.DecimalType):
        return f"DECIMAL({dtype.precision},{dtype.scale})"
    return dtype.simpleString().upper()


def _encoding(csv_opts: Mapping[str, Any]) -> str:
    enc = (csv_opts.get("encoding") or "utf-8").lower().replace("_", "-")
    return {"latin1": "latin-1", "iso-8859-1": "latin-1", "iso8859-1": "latin-1", "l1": "latin-1"}.get(enc, enc)


def _head_lines(path: Path, encoding: str) -> list[tuple[int, str]]:
    """(1-based line number, text) of the first lines of a file, read on the driver to sniff the layout."""
    with path.open("rb") as fh:
        block = fh.read(_SAMPLE_BYTES)
    text = block.decode(encoding, errors="replace").lstrip("\ufeff")
    lines = text.split("\n")
    if len(block) == _SAMPLE_BYTES:
        lines = lines[:-1]  # the last one may be cut
    return [(n, line.rstrip("\r")) for n, line in enumerate(lines, start=1)]


def _split(line: str, delim: str) -> list[str] | None:
    try:
        return next(csv.reader([line], delimiter=delim, quotechar='"', strict=True))
    except (csv.Error, StopIteration):
        return None


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sample lines into the most, and most consistent, columns."""
    best, best_score = ",", (-1.0, 0)
    for delim in _CSV_DELIMITERS:
        widths = [len(f) for f in (_split(line, delim) for line in lines[:50]) if f is not None]
        if not widths:
            continue
        first = widths[0]
        score = (sum(w == first for w in widths) / len(widths) if first > 1 else 0.0, first)
        if score > best_score:
            best, best_score = delim, score
    return best


def _line_parser(delim: str, n_cols: int, skip_index: int, encoding: str) -> Callable[[Any], Any]:
    """The function each executor runs over (line, 0-based index) pairs of one CSV file.

    Yields (line number, malformed raw line or None, fields...) with empty fields as None (DuckDB's
    all-varchar read gives NULL for an empty field).
    """

    def parse(pairs: Any) -> Any:
        for raw, idx in pairs:
            if idx == skip_index:
                continue
            try:
                line = raw.decode(encoding)
                bad = False
            except UnicodeDecodeError:
                line, bad = raw.decode(encoding, errors="replace"), True
            line = line.rstrip("\r")
            if idx == 0:
                line = line.lstrip("\ufeff")  # a byte-order mark is not data (DuckDB drops it too)
            if line == "":
                continue  # DuckDB skips empty lines without a record or a reject
            fields = None if bad else _split(line, delim)
            if fields is None or len(fields) != n_cols:
                yield (idx + 1, line, *([None] * n_cols))
            else:
                yield (idx + 1, None, *[f if f != "" else None for f in fields])

    return parse


def _read_csv(spark: SparkSession, src: Any, csv_opts: Mapping[str, Any]) -> _Raw:
    from pyspark.sql import types as T

    encoding = _encoding(csv_opts)
    if encoding.startswith("utf-16") or encoding.startswith("utf-32"):
        raise SparkIngestError(f"{src.name}: the Spark ingest reads CSV in ASCII-compatible encodings only, not "
                               f"{encoding}; convert the file to UTF-8 or run collect with --engine duckdb.")
    try:
        head = [(n, t) for n, t in _head_lines(src.path, encoding) if t != ""]
    except (OSError, LookupError) as err:
        raise InputSchemaError([SchemaProblem(src.name, "-", "unreadable", f"a readable CSV file ({err})")]) from None
    delim = csv_opts.get("delimiter") or _sniff_delimiter([t for _, t in head])
    header = bool(csv_opts.get("header", True))
    if not head:
        names: list[str] = []
        skip = -1
    else:
        first = _split(head[0][1], delim) or [head[0][1]]
        if header:
            names, skip = first, head[0][0] - 1
        else:
            width = len(str(len(first) - 1))
            names, skip = [f"column{i:0{width}d}" for i in range(len(first))], -1
    schema = T.StructType([T.StructField("__row", T.LongType()), T.StructField("__bad", T.StringType()),
                           *[T.StructField(n, T.StringType()) for n in names]])
    # One partition per 64 MB: a small file is one partition, which zipWithIndex numbers without the
    # extra pass it needs to count the lines of the partitions before the last.
    parts = max(1, src.path.stat().st_size >> 26)
    lines = spark.sparkContext.textFile(src.path.as_posix(), minPartitions=parts, use_unicode=False)
    rows = lines.zipWithIndex().mapPartitions(_line_parser(delim, len(names), skip, encoding))
    return _Raw(spark.createDataFrame(rows, schema), dict.fromkeys(names, "VARCHAR"))


def _read_parquet(spark: SparkSession, src: Any) -> _Raw:
    from pyspark.sql import functions as F

    try:
        df = spark.read.parquet(src.path.as_posix())
        cols = df.columns
        df = df.select((F.col("_metadata.row_index") + 1).cast("bigint").alias("__row"),
                       F.lit(None).cast("string").alias("__bad"), *[F.col(f"`{c}`") for c in cols])
        available = {f.name: _duck_type(f.dataType) for f in df.schema.fields if f.name not in ("__row", "__bad")}
    except Exception as err:  # noqa: BLE001 - any reader failure is the user's file, reported as such
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputSchemaError([SchemaProblem(src.name, "-", "unreadable", f"a Parquet file ({first})")]) from None
    return _Raw(df, available)


def _read_memory(spark: SparkSession, src: Any) -> _Raw:
    import pyarrow as pa
    from pyspark.sql import functions as F

    data = src.data
    if isinstance(data, pa.Table):
        pass
    elif hasattr(data, "to_arrow_table"):  # a DuckDB relation, converted without importing duckdb
        data = data.to_arrow_table()
    elif hasattr(data, "to_arrow"):  # polars
        data = data.to_arrow()
    elif not isinstance(data, pa.Table):
        try:
            data = pa.Table.from_pandas(data, preserve_index=False)
        except Exception as err:  # noqa: BLE001
            raise SparkIngestError(f"{src.name}: the Spark ingest takes files or Arrow, polars, pandas or DuckDB "
                                   f"tables, not {type(src.data).__name__}.") from err
    # Spark's Arrow conversion knows plain types: dictionaries and large strings are flattened first.
    fields = []
    for f in data.schema:
        t = f.type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if pa.types.is_large_string(t):
            t = pa.string()
        fields.append(pa.field(f.name, t))
    data = data.cast(pa.schema(fields))
    data = data.add_column(0, "__row", pa.array(range(1, data.num_rows + 1), pa.int64()))
    df = spark.createDataFrame(data)
    available = {f.name: _duck_type(f.dataType) for f in df.schema.fields if f.name != "__row"}
    return _Raw(df.select("__row", F.lit(None).cast("string").alias("__bad"), *[_c(c) for c in available]), available)


def read_raw(spark: SparkSession, src: Any, csv_opts: Mapping[str, Any]) -> _Raw:
    """One source as a DataFrame with `__row` (numbered as `ingest.read.read_raw` numbers it) and its columns."""
    if src.kind == "csv":
        return _read_csv(spark, src, csv_opts)
    if src.kind == "parquet":
        return _read_parquet(spark, src)
    return _read_memory(spark, src)


# ------------------------------------------------------------------------------- field expressions

def _text(col: Column) -> Column:
    from pyspark.sql import functions as F

    return F.nullif(F.trim(col.cast("string")), F.lit(""))


def _number(text: Column, csv_opts: Mapping[str, Any]) -> Column:
    from pyspark.sql import functions as F

    if csv_opts.get("thousands"):
        text = F.replace(text, F.lit(csv_opts["thousands"]), F.lit(""))
    if csv_opts.get("decimal_comma"):
        text = F.replace(text, F.lit(","), F.lit("."))
    return text.try_cast("double")


def _coded(expr: Column, codes: Mapping[str, Any] | None) -> Column:
    from pyspark.sql import functions as F

    if not codes:
        return expr
    out = None
    for k, v in codes.items():
        out = (F.when(expr == F.lit(str(k)), F.lit(str(v))) if out is None
               else out.when(expr == F.lit(str(k)), F.lit(str(v))))
    return out.otherwise(expr)


_STRFTIME = {"Y": "yyyy", "m": "MM", "d": "dd", "H": "HH", "M": "mm", "S": "ss", "f": "SSSSSS", "y": "yy",
             "b": "MMM", "B": "MMMM", "I": "hh", "p": "a", "z": "[xxx][xx][x]", "j": "DDD", "a": "EEE",
             "A": "EEEE", "e": "d", "T": "HH:mm:ss", "F": "yyyy-MM-dd", "-m": "M", "-d": "d", "-H": "H",
             "-I": "h", "-M": "m", "-S": "s", "%": "%"}


def java_pattern(fmt: str) -> str:
    """A strftime format (DuckDB's `strptime`) as a Java DateTimeFormatter pattern (Spark's parsers).

    Raises:
        SparkIngestError: a directive without a Java equivalent.
    """
    out, literal, i = [], [], 0

    def flush() -> None:
        if literal:
            text = "".join(literal).replace("'", "''")
            out.append(f"'{text}'" if re.search(r"[A-Za-z']", text) else text)
            literal.clear()

    while i < len(fmt):
        if fmt[i] == "%":
            key = fmt[i + 1: i + 3] if fmt[i + 1: i + 2] == "-" else fmt[i + 1: i + 2]
            if key not in _STRFTIME:
                raise SparkIngestError(f"The timestamp format {fmt!r} uses %{key}, which the Spark ingest cannot "
                                       "translate; run collect with --engine duckdb or use another format.")
            if key == "%":
                literal.append("%")
            else:
                flush()
                out.append(_STRFTIME[key])
            i += 1 + len(key)
        else:
            literal.append(fmt[i])
            i += 1
    flush()
    return "".join(out)


def _to_utc(naive: Column, tz: str) -> Column:
    """A naive wall-clock time in `tz` as naive UTC (DuckDB's `timezone('UTC', timezone(tz, t))`)."""
    from pyspark.sql import functions as F

    if tz == "UTC":
        return naive
    return F.to_utc_timestamp(naive.cast("timestamp"), tz).cast("timestamp_ntz")


def _local(ts: Column, tz: str) -> Column:
    """A naive UTC time as wall-clock time in `tz` (DuckDB's `timezone(tz, timezone('UTC', ts))`)."""
    from pyspark.sql import functions as F

    if tz == "UTC":
        return ts
    return F.from_utc_timestamp(ts.cast("timestamp"), tz).cast("timestamp_ntz")


def _timestamp(col: Column, dtype: str, fmt: str | None, tz: str) -> Column:
    """Naive UTC timestamp, or NULL when the value does not parse (as `ingest.transactions._timestamp`)."""
    from pyspark.sql import functions as F

    if dtype.startswith("TIMESTAMP WITH TIME ZONE"):
        return col.cast("timestamp_ntz")  # the session is in UTC: the instant's UTC wall clock
    if _TEMPORAL.match(dtype):
        return _to_utc(col.cast("timestamp_ntz"), tz)
    text = F.trim(col.cast("string"))
    if fmt and "%z" in fmt:
        return F.try_to_timestamp(text, F.lit(java_pattern(fmt))).cast("timestamp_ntz")
    if fmt:
        return _to_utc(F.try_to_timestamp(text, F.lit(java_pattern(fmt))).cast("timestamp_ntz"), tz)
    # Values that carry their own offset are honoured; naive ones are in the profile's zone.
    return F.when(text.rlike(r"(Z|[+-][0-9]{2}:?[0-9]{2})$"), text.try_cast("timestamp").cast("timestamp_ntz")) \
        .otherwise(_to_utc(text.try_cast("timestamp_ntz"), tz))


def _c(name: str) -> Column:
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _plan_source(raw: _Raw, src: Any, settings: Mapping[str, Any],
                 problems: list[SchemaProblem]) -> tuple[dict[str, Column], dict[str, Column]] | None:
    """Check one source's columns and build its field expressions (raw text, parsed value); record problems.

    The checks and messages are those of `ingest.transactions._plan_source`.
    """
    from pyspark.sql import functions as F

    available = raw.available
    tx = settings["transactions"]
    csv_opts = tx["csv"]
    codes = tx["codes"] or {}
    tz = settings["timezone"]
    statement = tx["statement"]
    f_raw: dict[str, Column] = {}
    f_val: dict[str, Column] = {}
    examples = tuple(sorted(available)[:6])

    def col_of(name: str, canon: str) -> str | None:
        if name in available:
            return name
        problems.append(SchemaProblem(src.name, str(name), "missing_column",
                                      f"a column '{name}' (mapped to {canon})", examples))
        return None

    def check_type(col: str, canon: str, ok: re.Pattern[str] | None) -> None:
        dtype = available[col]
        if dtype == "VARCHAR" or ok is None or ok.match(dtype):
            return
        rows = raw.df.select(_c(col).cast("string").alias("v")).distinct().limit(3).collect()
        expected = "a date or timestamp" if ok is _TEMPORAL else "a number"
        problems.append(SchemaProblem(src.name, col, "wrong_dtype", f"{canon}: text or {expected}, got {dtype}",
                                      tuple(str(r[0]) for r in rows)))

    if statement:
        cols = {k: col_of(v, f"statement.{k}") for k, v in statement.items() if k not in ("channel", "currency", "txn_id")}
        for k in ("channel", "currency", "txn_id"):
            if k in statement:
                cols[k] = col_of(statement[k], f"statement.{k}")
        if any(v is None for v in cols.values()):
            return None
        acct = _text(_c(cols["account"]))
        cp = _text(_c(cols["counterparty"])) if "counterparty" in cols else F.lit(None).cast("string")
        if "amount" in cols:
            check_type(cols["amount"], "amount", _NUMERIC)
            amt_raw = _text(_c(cols["amount"]))
            signed = _number(amt_raw, csv_opts)
        else:
            d_raw, c_raw = _text(_c(cols["debit"])), _text(_c(cols["credit"]))
            amt_raw = F.coalesce(c_raw, d_raw)
            d, c = _number(d_raw, csv_opts), _number(c_raw, csv_opts)
            signed = F.when(d.isNull() & c.isNull(), F.lit(None).cast("double")) \
                .otherwise(F.coalesce(c, F.lit(0.0)) - F.abs(F.coalesce(d, F.lit(0.0))))
        check_type(cols["date"], "ts", _TEMPORAL)
        f_raw["ts"] = _text(_c(cols["date"]))
        f_val["ts"] = _timestamp(_c(cols["date"]), available[cols["date"]], tx["timestamp_format"], tz)
        f_raw["amount"] = amt_raw
        f_val["amount"] = F.abs(signed)
        f_val["payer_account"] = F.when(signed < 0, acct).otherwise(cp)
        f_val["beneficiary_account"] = F.when(signed < 0, cp).otherwise(acct)
        stem = Path(src.name).name
        f_raw["txn_id"] = (_text(_c(cols["txn_id"])) if "txn_id" in cols
                           else F.concat(F.lit(stem + ":"), F.col("__row").cast("string")))
        if "description" in cols:
            f_val["memo"] = _text(_c(cols["description"]))
        if "counterparty_name" in cols:
            f_val["counterparty_name"] = _text(_c(cols["counterparty_name"]))
        mapped = {k: cols[k] for k in ("channel", "currency") if k in cols}
    else:
        mapped = resolve_columns(available, tx["columns"] or {})
        reported = set()  # mapped to a column the file lacks: reported once, here
        for canon, src_col in list(mapped.items()):
            if src_col not in available:
                col_of(src_col, canon)
                del mapped[canon]
                reported.add(canon)
        required = ["txn_id", "ts", "amount", "payer_account", "beneficiary_account"]
        if not tx["default_currency"]:
            required.append("currency")
        if not (tx["default_channel"] or tx["channel_rules"]):
            required.append("channel")
        for canon in required:
            if canon not in mapped and canon not in reported:
                hint = (tx["columns"] or {}).get(canon)
                problems.append(SchemaProblem(
                    src.name, hint or canon, "missing_column",
                    f"a column for '{canon}'" + ("" if hint else " (map it in the profile's transactions.columns)"),
                    examples))
        if any(c not in mapped for c in required):
            return None
        check_type(mapped["ts"], "ts", _TEMPORAL)
        check_type(mapped["amount"], "amount", _NUMERIC)
        f_raw["txn_id"] = _text(_c(mapped["txn_id"]))
        f_raw["ts"] = _text(_c(mapped["ts"]))
        f_val["ts"] = _timestamp(_c(mapped["ts"]), available[mapped["ts"]], tx["timestamp_format"], tz)
        f_raw["amount"] = _text(_c(mapped["amount"]))
        f_val["amount"] = (_c(mapped["amount"]).cast("double") if _NUMERIC.match(available[mapped["amount"]])
                           else _number(f_raw["amount"], csv_opts))
        for side in ("payer_account", "beneficiary_account"):
            f_val[side] = _coded(_text(_c(mapped[side])), codes.get(side))
        for opt in OPTIONAL:
            if opt in mapped:
                col = _c(mapped[opt])
                if opt == "is_refund":
                    f_val[opt] = _coded(_text(col), codes.get(opt)).try_cast("boolean")
                else:
                    f_val[opt] = _coded(_text(col), codes.get(opt))
    # Channel: a column (with code mapping), else rules on the memo, else the default.
    if "channel" in mapped:
        f_raw["channel"] = _text(_c(mapped["channel"]))
        f_val["channel"] = F.lower(_coded(f_raw["channel"], codes.get("channel")))
    else:
        default = F.lit(tx["default_channel"]).cast("string")
        memo = F.coalesce(f_val.get("memo", F.lit(None).cast("string")), F.lit(""))
        rules = None
        for r in tx["channel_rules"] or []:
            cond = memo.rlike(str(r["pattern"]))
            rules = F.when(cond, F.lit(r["channel"])) if rules is None else rules.when(cond, F.lit(r["channel"]))
        f_raw["channel"] = rules.otherwise(default) if rules is not None else default
        f_val["channel"] = f_raw["channel"]
    if "currency" in mapped:
        f_raw["currency"] = _text(_c(mapped["currency"]))
        f_val["currency"] = F.upper(_coded(f_raw["currency"], codes.get("currency")))
    else:
        f_raw["currency"] = F.lit(tx["default_currency"]).cast("string")
        f_val["currency"] = f_raw["currency"]
    return f_raw, f_val


def _json_value(col: Column, dtype: str) -> Column:
    """A column as DuckDB's `to_json` shows it: timestamps as text (`+00` for instants), the rest as is."""
    from pyspark.sql import functions as F

    if dtype == "TIMESTAMP" or dtype == "DATE":
        return col.cast("string")
    if dtype.startswith("TIMESTAMP WITH TIME ZONE"):
        return F.concat(col.cast("timestamp_ntz").cast("string"), F.lit("+00"))
    return col


def _record(columns: list[tuple[str, Column, str]]) -> Column:
    """`to_json` of a row of (name, value, DuckDB type), nulls kept as DuckDB keeps them."""
    from pyspark.sql import functions as F

    return F.to_json(F.struct(*[_json_value(v, t).alias(n) for n, v, t in columns]), {"ignoreNullFields": "false"})


def _reasons(spark_cols: Mapping[str, Column], iso: list[str]) -> list[tuple[ReasonCode, str, Column, Column]]:
    """The per-row checks in `ingest.transactions._reason_case` order: reason, column, condition, raw value."""
    from pyspark.sql import functions as F

    c = spark_cols
    null = F.lit(None).cast("string")
    return [
        (ReasonCode.MISSING_VALUE, "txn_id", c["txn_id"].isNull(), null),
        (ReasonCode.MISSING_VALUE, "ts", c["__raw_ts"].isNull(), null),
        (ReasonCode.UNPARSEABLE_TIMESTAMP, "ts", c["ts"].isNull(), c["__raw_ts"]),
        (ReasonCode.MISSING_VALUE, "amount", c["__raw_amount"].isNull(), null),
        (ReasonCode.UNPARSEABLE_AMOUNT, "amount", c["amount"].isNull(), c["__raw_amount"]),
        (ReasonCode.AMOUNT_NOT_POSITIVE, "amount", c["amount"] <= 0, c["__raw_amount"]),
        (ReasonCode.MISSING_VALUE, "channel", c["__raw_channel"].isNull(), null),
        (ReasonCode.UNKNOWN_CHANNEL, "channel", ~c["channel"].isin(list(CHANNELS)), c["__raw_channel"]),
        (ReasonCode.MISSING_VALUE, "currency", c["__raw_currency"].isNull(), null),
        (ReasonCode.UNKNOWN_CURRENCY, "currency", ~c["currency"].isin(iso), c["__raw_currency"]),
        (ReasonCode.NO_ACCOUNT, "payer_account", c["payer_account"].isNull() & c["beneficiary_account"].isNull(), null),
    ]


def _case(pairs: list[tuple[Column, Column]]) -> Column:
    from pyspark.sql import functions as F

    out = None
    for cond, value in pairs:
        out = F.when(cond, value) if out is None else out.when(cond, value)
    return out


def _parsed_source(i: int, raw: _Raw, f_raw: dict[str, Column], f_val: dict[str, Column], iso: list[str]) -> DataFrame:
    """One source's rows with their first failing check, parsed fields, and the raw record for the quarantine."""
    from pyspark.sql import functions as F

    raw_cols = [c for c in raw.df.columns if c not in ("__row", "__bad")]
    carried = [_c(c).alias(f"__src_{k}") for k, c in enumerate(raw_cols)]
    null = F.lit(None).cast("string")
    inner = raw.df.select(
        F.col("__row"), F.col("__bad"), f_raw["txn_id"].alias("txn_id"), f_raw["ts"].alias("__raw_ts"), f_val["ts"].alias("ts"),
        f_raw["amount"].alias("__raw_amount"), f_val["amount"].alias("amount"),
        f_raw["currency"].alias("__raw_currency"), f_val["currency"].alias("currency"),
        f_raw["channel"].alias("__raw_channel"), f_val["channel"].alias("channel"),
        f_val["payer_account"].alias("payer_account"), f_val["beneficiary_account"].alias("beneficiary_account"),
        *[f_val.get(c, null).cast(_OPT_TYPES[c]).alias(c) for c in OPTIONAL], *carried)
    cols = {c: F.col(c) for c in inner.columns}
    # A malformed line comes first: its fields are not read at all (as DuckDB's reject table keeps it).
    bad = F.col("__bad").isNotNull()
    null = F.lit(None).cast("string")
    checks = [(ReasonCode.MALFORMED_LINE, None, bad, null), *_reasons(cols, iso)]
    reason = _case([(cond, F.lit(code.value)) for code, _, cond, _ in checks])
    column = _case([(cond, F.lit(col).cast("string")) for _, col, cond, _ in checks])
    raw_value = _case([(cond, val.cast("string")) for _, _, cond, val in checks])
    record = _record([("__row", F.col("__row"), "BIGINT"),
                      *[(c, F.col(f"__src_{k}"), raw.available[c]) for k, c in enumerate(raw_cols)]])
    return inner.select(
        F.lit(i).cast("int").alias("__file_idx"), F.col("__row").cast("bigint").alias("__row"),
        reason.alias("__reason"), column.alias("__column"), raw_value.alias("__raw"),
        F.when(bad, F.col("__bad")).when(reason.isNotNull(), record).alias("__record"),
        # The malformed lines of every file are quarantined before any file's failing rows.
        F.when(bad, F.lit(_PHASE_MALFORMED)).otherwise(F.lit(_PHASE_ROWS)).alias("__k_phase0"),
        F.col("txn_id").cast("string"), F.col("ts").cast("timestamp_ntz"), F.col("amount").cast("double"),
        F.col("currency").cast("string"), F.col("payer_account").cast("string"),
        F.col("beneficiary_account").cast("string"), F.col("channel").cast("string"), *[F.col(c) for c in OPTIONAL])


# ------------------------------------------------------------------------------------ transactions

def _read_rates(path: str, rc: str) -> list[tuple[str, date, float]]:
    """The rates file (date, currency, rate) read on the driver: a small reference table, like the profile."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if line.strip()]
        reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter=_sniff_delimiter(lines))
        rows = [(str(r["currency"]).strip().upper(), date.fromisoformat(str(r["date"]).strip()), float(r["rate"]))
                for r in reader]
    except (OSError, KeyError, ValueError, TypeError, csv.Error) as err:
        raise InputSchemaError([SchemaProblem(
            str(path), "-", "unreadable_rates",
            f"a CSV with columns date (YYYY-MM-DD), currency, rate ({type(err).__name__}: {err})")],
            headline="The exchange-rate file cannot be used.") from None
    return [*rows, (rc, date(1900, 1, 1), 1.0)]


def _daily_rates(spark: SparkSession, rates: list[tuple[str, date, float]], first: date, last: date) -> DataFrame:
    """One row per currency and day of [first, last] with the rate in force (the latest on or before it).

    DuckDB's ASOF join, as an equi-join: the rate table is small, each rate row becomes the days until
    the next rate of its currency.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    df = spark.createDataFrame(rates, "currency string, date date, rate double")
    nxt = F.lead("date").over(Window.partitionBy("currency").orderBy("date"))
    df = df.withColumn("__until", F.coalesce(F.date_sub(nxt, 1), F.lit(last)))
    start = F.greatest(F.col("date"), F.lit(first))
    end = F.least(F.col("__until"), F.lit(last))
    return df.where(start <= end).select(
        "currency", F.explode(F.sequence(start, end)).alias("__day"), "rate")


def _kept_record(with_rc: bool) -> Column:
    """JSON of a kept row as the DuckDB ingest's views show it (`__fm_good`, or `__fm_conv` with `amount_rc`)."""
    from pyspark.sql import functions as F

    types = {"__file_idx": "INTEGER", "__row": "BIGINT", "ts": "TIMESTAMP"}
    names = ["__file_idx", "__row", "txn_id", "ts", "amount", "currency", "payer_account", "beneficiary_account",
             "channel", *OPTIONAL] + (["amount_rc"] if with_rc else [])
    return _record([(n, F.col(n), types.get(n, "")) for n in names])


def load_transactions(spark: SparkSession, plane: SparkPlane, sources: list[Any], settings: Mapping[str, Any],
                      progress: Callable[[int], None] | None = None) -> list[FileCount]:
    """Load every transactions source into the plane's `txns`, failing rows into its `quarantine`.

    Args:
        spark: the session (UTC).
        plane: where `txns` and `quarantine` are written.
        sources: the inputs in order (`ingest.read.InputSource`).
        settings: the resolved profile's settings.
        progress: called with 1 per source planned.

    Returns:
        Per-file reconciliation counts.

    Raises:
        InputSchemaError: missing columns or unusable types in any file (all reported at once).
        MappingError: a file where more than `max_reject_rate` of rows fail for one reason.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    tx = settings["transactions"]
    iso = iso_currencies()
    problems: list[SchemaProblem] = []
    raws, plans = [], []
    for src in sources:
        raw = read_raw(spark, src, tx["csv"])
        raws.append(raw)
        plans.append(_plan_source(raw, src, settings, problems))
    if problems:
        raise InputSchemaError(problems)
    parts = []
    for i, (raw, plan) in enumerate(zip(raws, plans, strict=True)):
        assert plan is not None  # problems were raised above
        parts.append(_parsed_source(i, raw, *plan, iso))
        if progress:
            progress(1)
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.unionByName(part)

    good = F.col("__reason").isNull()
    # Duplicates among the rows passing every per-row check: the first in input order is kept.
    rank = F.row_number().over(Window.partitionBy(F.col("txn_id"), good).orderBy("__file_idx", "__row"))
    rows = rows.withColumn("__dup", good & (rank > 1))
    kept = good & ~F.col("__dup")
    rates_path, rc = settings["rates"], settings["reporting_currency"]
    converted = bool(rates_path)
    if converted:
        rates = _read_rates(str(rates_path), rc)
        # The days the rows passing the per-row checks span (no shuffle for duplicates needed to know
        # them): the rate table is expanded over these days only.
        span = rows.where(good).agg(F.min(F.to_date("ts")), F.max(F.to_date("ts"))).collect()[0]
        first, last = span[0] or date(1970, 1, 1), span[1] or date(1970, 1, 1)
        daily = _daily_rates(spark, rates, first, last)
        rows = rows.withColumn("__day", F.to_date("ts")).join(
            F.broadcast(daily), on=["currency", "__day"], how="left").drop("__day")
        # DuckDB's round(x, 2) is round(x * 100) / 100 in doubles; so is this (Spark's round of a double
        # is half-up on its shortest decimal form, which agrees on every value x * 100 can take).
        rows = rows.withColumn("amount_rc", F.when(kept, F.round(F.col("amount") * F.col("rate") * 100, 0) / 100)
                               .cast("double")).drop("rate")
        has_rate = F.col("amount_rc").isNotNull()
    else:
        has_rate = F.lit(True)
    tz = settings["timezone"]
    since, until = settings["period"]["since"], settings["period"]["until"]
    local = _local(F.col("ts"), tz)
    outside = F.lit(False)
    if since:
        outside = outside | (local < F.lit(datetime.fromisoformat(str(since))))
    if until:
        outside = outside | (local >= F.lit(datetime.fromisoformat(str(until)) + timedelta(days=1)))
    rows = rows.withColumn("__outside", kept & has_rate & outside)
    # The first failing check of each row, in the DuckDB ingest's order: per-row checks, duplicates,
    # missing rate (only with a rates file), outside the period.
    steps: list[tuple[Column, Column | int, Column, Column, Column, Column]] = [
        (~good, F.col("__k_phase0"), F.col("__reason"), F.col("__column"), F.col("__raw"), F.col("__record")),
        (F.col("__dup"), _PHASE_DUP, F.lit(ReasonCode.DUPLICATE_TXN_ID.value), F.lit("txn_id"), F.col("txn_id"),
         _kept_record(False))]
    if converted:
        steps.append((~has_rate, _PHASE_RATE, F.lit(ReasonCode.NO_EXCHANGE_RATE.value), F.lit("currency"),
                      F.col("currency"), _kept_record(True)))
    steps.append((F.col("__outside"), _PHASE_PERIOD, F.lit(ReasonCode.OUT_OF_SCOPE.value), F.lit("ts"),
                  F.col("ts").cast("string"), _kept_record(converted)))
    rows = rows.select(
        "*", *[_case([(s[0], s[k]) for s in steps]).alias(name)
               for k, name in ((2, "__q_reason"), (3, "__q_column"), (4, "__q_raw"), (5, "__q_record"))],
        _case([(s[0], F.lit(s[1]) if isinstance(s[1], int) else s[1]) for s in steps]).alias("__k_phase"))
    # Written once: `txns`, the quarantine and the counts are all read from this one materialisation.
    staged = plane.put("staged_rows", rows.drop("__reason", "__column", "__raw", "__record", "__dup", "__outside",
                                                  "__k_phase0"))
    names = F.element_at(F.array(*[F.lit(s.name) for s in sources]), F.col("__file_idx") + 1)
    quarantined = staged.where(F.col("__q_reason").isNotNull()).select(
        names.alias("source_file"), F.col("__row").alias("source_row"), F.lit("transactions").alias("table_name"),
        F.col("__q_reason").alias("reason"), F.col("__q_column").alias("column_name"),
        F.col("__q_raw").alias("raw_value"), F.col("__q_record").alias("raw_record"),
        F.col("__k_phase"), F.col("__file_idx").alias("__k_file"),
        F.lit(1).alias("__k_sub"))
    present = [c for c in OPTIONAL if any(p is not None and c in p[1] for p in plans)]
    txns = staged.where(F.col("__q_reason").isNull()).select(
        (F.col("__file_idx").cast("bigint") * _FILE_STRIDE + F.col("__row")).alias("txn_idx"),
        "txn_id", "ts", "amount", "currency", "payer_account", "beneficiary_account", "channel", *present,
        (F.col("amount_rc") if converted else F.col("amount")).alias("amount_rc"),
        F.col("__file_idx").alias("source_file_idx"), F.col("__row").alias("source_row"))
    # Counts: rows read per file (malformed lines included), loaded, quarantined by reason.
    counts = [FileCount(s.name, s.sha256()) for s in sources]
    for r in staged.groupBy("__file_idx").agg(
            F.count(F.lit(1)).alias("n"), F.count(F.when(F.col("__q_reason").isNull(), 1)).alias("loaded")).collect():
        counts[r["__file_idx"]].read += int(r["n"])
        counts[r["__file_idx"]].loaded = int(r["loaded"])
    plane.put("txns", txns, rows=sum(fc.loaded for fc in counts))
    plane.put("quarantine", quarantined)
    plane.drop("staged_rows")
    check_reject_rates(plane["quarantine"], counts, float(settings["max_reject_rate"]), "transactions")
    return counts


def check_reject_rates(quarantine: DataFrame, counts: list[FileCount], limit: float, table_name: str) -> None:
    """Fill per-file quarantine counts and stop when one reason takes
    more than `limit` of a file's rows: `ingest.transactions.check_reject_rates` on Spark.

    Raises:
        MappingError: naming each file, reason and up to three examples.
    """
    from pyspark.sql import functions as F

    q = quarantine.where(F.col("table_name") == table_name)
    by_file: dict[int, dict[str, int]] = {}
    for r in q.groupBy("__k_file", "reason").count().collect():
        by_file.setdefault(int(r["__k_file"]), {})[r["reason"]] = int(r["count"])
    for i, fc in enumerate(counts):
        fc.quarantined = by_file.get(i, {})
    problems = []
    for i, fc in enumerate(counts):
        for reason, n in sorted(fc.quarantined.items()):
            if reason == ReasonCode.OUT_OF_SCOPE.value or n <= limit * fc.read:
                continue
            rows = q.where((F.col("__k_file") == i) & (F.col("reason") == reason)).orderBy("source_row").select(
                F.coalesce("column_name", F.lit("-")), F.coalesce("raw_value", "raw_record", F.lit(""))).limit(3).collect()
            problems.append(SchemaProblem(
                fc.file, rows[0][0], reason,
                f"at most {limit:.0%} of rows failing for one reason; {n} of {fc.read} rows: "
                f"{REASON_TEXT[ReasonCode(reason)]}; check the profile's mapping",
                tuple(r[1] for r in rows)))
    if problems:
        raise MappingError(problems, headline="Too many rows fail for the same reason: this looks like a mapping error, "
                                              "not bad rows. The rejected rows are in the quarantine table.")


# ----------------------------------------------------------------------------------------- parties

def load_parties(spark: SparkSession, plane: SparkPlane, sources: list[Any],
                 settings: Mapping[str, Any]) -> list[FileCount]:
    """Load parties files into the plane's `parties`, failing rows into its `quarantine_parties`.

    As `ingest.parties.load_parties`: rows without an account or with unparseable dates or amounts
    are quarantined; the parties table keeps file and row order (in `__file_idx`, `__row`).

    Raises:
        InputSchemaError: a file without an `account_id` column (after mapping).
        MappingError: more than `max_reject_rate` of a file's rows failing for one reason.
    """
    from pyspark.sql import functions as F

    cfg = settings["parties"]
    csv_opts = cfg["csv"]
    fmt = cfg["date_format"]
    problems, parts, counts = [], [], []
    null = F.lit(None).cast("string")
    for i, src in enumerate(sources):
        raw = read_raw(spark, src, csv_opts)
        available = set(raw.available)
        lower = {a.lower(): a for a in available}
        mapping = {c.name: (cfg["columns"] or {}).get(c.name, lower.get(c.name, c.name)) for c in PARTIES}
        counts.append(FileCount(src.name, src.sha256()))
        if mapping["account_id"] not in available:
            problems.append(SchemaProblem(src.name, mapping["account_id"], "missing_column",
                                          "a column for 'account_id' (map it in the profile's parties.columns)",
                                          tuple(sorted(available)[:6])))
            continue
        values, checks = [], []
        for c in PARTIES:
            if mapping[c.name] not in available:
                values.append(F.lit(None).cast({"DATE": "date", "DOUBLE": "double"}.get(c.dtype, "string")).alias(c.name))
                continue
            text = _text(_c(mapping[c.name]))
            if c.dtype == "DATE":
                expr = (F.try_to_timestamp(text, F.lit(java_pattern(fmt))).cast("date") if fmt
                        else text.try_cast("date"))
                checks.append((text.isNotNull() & expr.isNull(), ReasonCode.UNPARSEABLE_TIMESTAMP, c.name, text))
            elif c.dtype == "DOUBLE":
                expr = _number(text, csv_opts)
                checks.append((text.isNotNull() & expr.isNull(), ReasonCode.UNPARSEABLE_AMOUNT, c.name, text))
            else:
                expr = text
            values.append(expr.alias(c.name))
        checks.insert(0, (_text(_c(mapping["account_id"])).isNull(), ReasonCode.MISSING_VALUE, "account_id", null))
        bad = F.col("__bad").isNotNull()
        checks.insert(0, (bad, ReasonCode.MALFORMED_LINE, None, null))
        reason = _case([(w, F.lit(r.value)) for w, r, _, _ in checks])
        column = _case([(w, F.lit(c).cast("string")) for w, _, c, _ in checks])
        raw_value = _case([(w, v.cast("string")) for w, _, _, v in checks])
        raw_cols = [c for c in raw.df.columns if c not in ("__row", "__bad")]
        record = _record([("__row", F.col("__row"), "BIGINT"), *[(c, _c(c), raw.available[c]) for c in raw_cols]])
        parts.append(raw.df.select(F.lit(i).cast("int").alias("__file_idx"), F.col("__row").cast("bigint"),
                                   reason.alias("__reason"), column.alias("__column"), raw_value.alias("__raw"),
                                   F.when(bad, F.col("__bad")).when(reason.isNotNull(), record).alias("__record"),
                                   F.when(bad, F.lit(0)).otherwise(F.lit(1)).alias("__k_sub"), *values))
    if problems:
        raise InputSchemaError(problems, headline="The parties input cannot be loaded.")
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.unionByName(part)
    staged = plane.put("staged_party_rows", rows)
    names = F.element_at(F.array(*[F.lit(s.name) for s in sources]), F.col("__file_idx") + 1)
    quarantined = staged.where(F.col("__reason").isNotNull()).select(
        names.alias("source_file"), F.col("__row").alias("source_row"), F.lit("parties").alias("table_name"),
        F.col("__reason").alias("reason"), F.col("__column").alias("column_name"), F.col("__raw").alias("raw_value"),
        F.col("__record").alias("raw_record"), F.lit(_PHASE_PARTIES).alias("__k_phase"),
        F.col("__file_idx").alias("__k_file"), F.col("__k_sub"))
    # Kept in file and row order (the DuckDB table's insertion order), without the ordering columns.
    plane.put("parties", staged.where(F.col("__reason").isNull()).orderBy("__file_idx", "__row").select(
        *[c.name for c in PARTIES]))
    # Kept apart from the transactions' quarantine: the workspace's table is the two read in order.
    plane.put("quarantine_parties", quarantined)
    for r in staged.groupBy("__file_idx").agg(
            F.count(F.lit(1)).alias("n"), F.count(F.when(F.col("__reason").isNull(), 1)).alias("loaded")).collect():
        counts[r["__file_idx"]].read += int(r["n"])
        counts[r["__file_idx"]].loaded = int(r["loaded"])
    plane.drop("staged_party_rows")
    check_reject_rates(plane["quarantine_parties"], counts, float(settings["max_reject_rate"]), "parties")
    return counts


# ----------------------------------------------------------------------------------------- derived

def build_accounts(plane: SparkPlane) -> DataFrame:
    """`accounts(account_key, account_id, party_id, is_customer)` as `ingest.derive.build_accounts`."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    txns = plane["txns"]
    ids = txns.select(F.col("payer_account").alias("account_id")).where(F.col("account_id").isNotNull()) \
        .union(txns.select(F.col("beneficiary_account").alias("account_id")).where(F.col("account_id").isNotNull()))
    has_parties = plane.has("parties") and plane["parties"].limit(1).count() > 0
    if has_parties:
        parties = plane["parties"]
        ids = ids.union(parties.select("account_id"))
        holder = F.coalesce(F.col("relation"), F.lit("holder")) == "holder"
        p = parties.groupBy("account_id").agg(F.min(F.when(holder, F.col("party_id"))).alias("party_id")) \
            .withColumn("__p", F.lit(True))
    ids = ids.distinct()
    # One ordered window over the distinct ids: the dense keys follow account_id order exactly.
    key = (F.row_number().over(Window.orderBy("account_id")) - 1).cast("int")
    if has_parties:
        out = ids.join(p, on="account_id", how="left").select(
            key.alias("account_key"), "account_id", "party_id", F.col("__p").isNotNull().alias("is_customer"))
    else:
        out = ids.select(key.alias("account_key"), "account_id", F.lit(None).cast("string").alias("party_id"),
                         F.lit(True).alias("is_customer"))
    return plane.put("accounts", out, order_by=["account_key"])


def build_postings(plane: SparkPlane, timezone: str, mcc_groups: DataFrame | None) -> DataFrame:
    """Two legs per transaction, as `ingest.derive.build_postings`, stored sorted by (account_key, ts_s, txn_idx).

    Also writes `city_codes` and `branch_codes` (dense codes over the distinct values) to the plane.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    t = plane["txns"].alias("t")
    accounts = plane["accounts"]
    present = set(t.columns)
    optional = [c.name for c in TRANSACTIONS if not c.required and c.name in present and c.name not in _SIDE_COLUMNS]
    has_country = bool({"payer_country", "beneficiary_country"} & present)
    with_mg = "mcc" in present and mcc_groups is not None
    if with_mg:
        t = t.join(F.broadcast(mcc_groups.select(F.col("mcc").alias("__mg_mcc"), F.col("merchant_group").alias("__mg"))),
                   F.col("t.mcc") == F.col("__mg_mcc"), "left").drop("__mg_mcc")
        group = F.col("__mg")
    else:
        group = F.lit(None).cast("string")
    channel_code = F.lit(-1)
    for i, c in reversed(list(enumerate(CHANNELS))):
        channel_code = F.when(F.col("channel") == c, F.lit(i)).otherwise(channel_code)
    codes = {"channel_code": channel_code.cast("tinyint")}
    for col, table in (("city", "city_codes"), ("branch_id", "branch_codes")):
        name = f"{col.split('_')[0]}_code"
        if col in present:
            dense = plane.put(table, plane["txns"].where(F.col(col).isNotNull()).select(F.col(col).alias("value"))
                              .distinct().select("value", (F.row_number().over(Window.orderBy("value")) - 1)
                                                 .cast("int").alias("code")), order_by=["code"])
            t = t.join(F.broadcast(dense.select(F.col("value").alias(f"__{table}_v"), F.col("code").alias(f"__{table}"))),
                       F.col(col) == F.col(f"__{table}_v"), "left").drop(f"__{table}_v")
            codes[name] = F.coalesce(F.col(f"__{table}"), F.lit(-1)).cast("int")
        else:
            codes[name] = F.lit(-1).cast("int")
    white = (F.col("atm_owner_type") == "white_label") if "atm_owner_type" in present else F.lit(False)
    codes["is_white_label"] = F.coalesce(white, F.lit(False)).cast("tinyint")
    # Crypto exchanges are recognised by channel or by MCC 6051 (quasi-cash / crypto), not by name.
    codes["is_crypto"] = F.coalesce((F.col("channel") == "crypto") | (group == "crypto_quasi_cash"),
                                    F.lit(False)).cast("tinyint")
    local = _local(F.col("ts"), timezone)
    micros = F.unix_micros(F.col("ts").cast("timestamp"))
    keys = accounts.select("account_id", "account_key")

    def leg(own: str, other: str, sign: int, cp_country: str) -> DataFrame:
        a = keys.select(F.col("account_id").alias("__own_id"), F.col("account_key"))
        c = keys.select(F.col("account_id").alias("__cp_id"), F.col("account_key").alias("counterparty_key"))
        df = t.join(a, F.col(own) == F.col("__own_id"), "inner").join(c, F.col(other) == F.col("__cp_id"), "left")
        extra = [codes[k].alias(k) for k in ("channel_code", "city_code", "branch_code", "is_white_label", "is_crypto")]
        extra += [F.col(c) for c in optional]
        if has_country:
            extra.append((F.col(cp_country) if cp_country in present else F.lit(None).cast("string"))
                         .alias("counterparty_country"))
        return df.select(
            F.col("account_key").cast("int"), F.col("ts"),
            # DuckDB casts epoch(ts), a double, to BIGINT by rounding half away from zero; so does this.
            F.round(micros / 1e6, 0).cast("bigint").alias("ts_s"),
            (F.col("amount_rc") * sign).alias("amount"), F.col("txn_idx"),
            F.col("counterparty_key").cast("int"), F.col("channel"),
            F.hour(local).cast("int").alias("local_hour"),
            F.datediff(F.to_date(local), F.lit(date(1970, 1, 1))).cast("int").alias("local_day"),
            group.alias("merchant_group"), *extra)

    postings = leg("payer_account", "beneficiary_account", -1, "beneficiary_country").unionByName(
        leg("beneficiary_account", "payer_account", 1, "payer_country"))
    # At most two legs per transaction: the file count follows from the transactions' count.
    return plane.put("postings", postings, order_by=["account_key", "ts_s", "txn_idx"],
                     rows=2 * plane["txns"].count())


def build_identifiers(plane: SparkPlane) -> DataFrame:
    """`identifiers(account_id, kind, value, source)` as `ingest.derive.build_identifiers`."""
    from pyspark.sql import functions as F

    parts = []
    if plane.has("parties"):
        p = plane["parties"]
        parts += [
            p.select("account_id", F.lit("phone").alias("kind"),
                     F.regexp_replace("phone", "[^0-9+]", "").alias("value"), F.lit("parties").alias("source")),
            p.select("account_id", F.lit("email").alias("kind"), F.lower(F.trim("email")).alias("value"),
                     F.lit("parties").alias("source")),
            p.select("account_id", F.lit("address").alias("kind"),
                     F.lower(F.regexp_replace(F.trim("address"), r"\s+", " ")).alias("value"),
                     F.lit("parties").alias("source")),
        ]
    txns = plane["txns"]
    for col, kind in (("device_id", "device"), ("ip", "ip")):
        if col in txns.columns:
            # The initiating side of an online transaction is the payer (the beneficiary for a cash-in).
            parts.append(txns.where(F.col(col).isNotNull()).select(
                F.coalesce("payer_account", "beneficiary_account").alias("account_id"), F.lit(kind).alias("kind"),
                F.trim(col).alias("value"), F.lit("transactions").alias("source")))
    if not parts:
        empty = plane.spark.createDataFrame([], "account_id string, kind string, value string, source string")
        return plane.put("identifiers", empty)
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part)
    out = out.where(F.col("account_id").isNotNull() & F.col("value").isNotNull() & (F.col("value") != "")).distinct()
    return plane.put("identifiers", out, order_by=["kind", "value", "account_id", "source"])


@dataclass
class CollectResult:
    """What `collect_all` produced: per-file counts of transactions and parties."""

    transactions: list[FileCount]
    parties: list[FileCount]


def collect_all(plane: SparkPlane, sources: list[Any], party_sources: list[Any], settings: Mapping[str, Any],
                mcc_groups: DataFrame | None = None, progress: Callable[[int], None] | None = None) -> CollectResult:
    """Stage `collect` on Spark: transactions, parties, then accounts, postings and identifiers, all in `plane`.

    Args:
        plane: the run's Spark plane (its session must be in UTC).
        sources: transactions inputs, in order.
        party_sources: parties inputs, in order (may be empty).
        settings: the resolved profile's settings.
        mcc_groups: the merchant dictionary (`mcc`, `merchant_group`) as a DataFrame, when there is one.
        progress: called with 1 per transactions source and per derived table.

    Raises:
        FollowMoneyError: the session is not in UTC, or an input cannot be loaded.
    """
    spark = plane.spark
    tz = spark.conf.get("spark.sql.session.timeZone")
    if tz != "UTC":
        raise FollowMoneyError(f"The Spark session's time zone is {tz}; set spark.sql.session.timeZone=UTC "
                               "so that Spark and DuckDB read the same instants.")
    counts = load_transactions(spark, plane, sources, settings, progress)
    party_counts = load_parties(spark, plane, party_sources, settings) if party_sources else []
    build_accounts(plane)
    build_postings(plane, settings["timezone"], mcc_groups)
    build_identifiers(plane)
    if progress:
        progress(3)
    return CollectResult(counts, party_counts)
