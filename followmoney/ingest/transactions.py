"""Map, parse and validate transaction files onto the canonical `txns` table.

Two passes: first every source is opened and its columns checked against the mapping, so all
fatal problems of all files are reported at once; then each source is normalised by one SQL view
that parses every field and gives each failing row its first reason code. Failing rows go to
`quarantine` with their source file and row; the others are de-duplicated across files (first
occurrence wins, in input order), converted to the reporting currency when a rates file is given,
numbered with the integer `txn_idx` that every later stage uses, and written once into `txns`:
every check is a view or a small key table over the parsed rows, so no staging copy is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from followmoney.errors import InputSchemaError, MappingError, SchemaProblem
from followmoney.ingest.common import OPTIONAL, FileCount, iso_currencies, resolve_columns
from followmoney.ingest.read import InputSource, quarantine_rejects, read_raw
from followmoney.profile import Profile
from followmoney.schema import CHANNELS, QUARANTINE, REASON_TEXT, TRANSACTIONS, ReasonCode
from followmoney.workspace import Workspace

_FILE_STRIDE = 1 << 40  # rows per file in txn_idx; far beyond any file
_OPT_TYPES = {c.name: c.dtype for c in TRANSACTIONS if not c.required}
_TEXTUAL = ("VARCHAR",)
_NUMERIC = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*)$")
_TEMPORAL = re.compile(r"^(DATE|TIMESTAMP.*)$")


def _q(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(col: str) -> str:
    return f"NULLIF(trim(CAST({col} AS VARCHAR)), '')"


def _number(text_expr: str, csv: dict[str, Any]) -> str:
    expr = text_expr
    if csv.get("thousands"):
        expr = f"replace({expr}, {_q(csv['thousands'])}, '')"
    if csv.get("decimal_comma"):
        expr = f"replace({expr}, ',', '.')"
    return f"TRY_CAST({expr} AS DOUBLE)"


def _coded(expr: str, codes: dict[str, Any] | None) -> str:
    if not codes:
        return expr
    whens = " ".join(f"WHEN {_q(k)} THEN {_q(v)}" for k, v in codes.items())
    return f"(CASE {expr} {whens} ELSE {expr} END)"


def _timestamp(col: str, dtype: str, fmt: str | None, tz: str) -> str:
    """Expression giving a naive UTC timestamp, or NULL when the value does not parse."""

    def to_utc(naive: str) -> str:
        return naive if tz == "UTC" else f"timezone('UTC', timezone({_q(tz)}, {naive}))"

    if dtype.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"timezone('UTC', {col})"
    if _TEMPORAL.match(dtype):
        return to_utc(f"CAST({col} AS TIMESTAMP)")
    text = f"trim(CAST({col} AS VARCHAR))"
    if fmt and "%z" in fmt:
        return f"timezone('UTC', try_strptime({text}, {_q(fmt)}))"
    if fmt:
        return to_utc(f"try_strptime({text}, {_q(fmt)})")
    # Values that carry their own offset are honoured; naive ones are in the profile's zone.
    return (
        f"(CASE WHEN regexp_matches({text}, '(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$') "
        f"THEN timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ)) ELSE {to_utc(f'TRY_CAST({text} AS TIMESTAMP)')} END)"
    )


class _Fields:
    """The per-source SQL expressions of every canonical field: raw text and parsed value."""

    def __init__(self) -> None:
        self.raw: dict[str, str] = {}
        self.value: dict[str, str] = {}


def _plan_source(ws: Workspace, src: InputSource, table: str, available: dict[str, str], profile: Profile,
                 problems: list[SchemaProblem]) -> _Fields | None:
    """Check one source's columns and build its field expressions; record fatal problems."""
    tx = profile["transactions"]
    csv = tx["csv"]
    codes = tx["codes"] or {}
    tz = profile["timezone"]
    statement = tx["statement"]
    f = _Fields()
    examples = tuple(sorted(available)[:6])

    def col_of(name: str, canon: str) -> str | None:
        if name in available:
            return name
        problems.append(SchemaProblem(src.name, str(name), "missing_column",
                                      f"a column '{name}' (mapped to {canon})", examples))
        return None

    def check_type(col: str, canon: str, ok: re.Pattern[str] | None) -> None:
        dtype = available[col]
        if dtype in _TEXTUAL or ok is None or ok.match(dtype):
            return
        rows = ws.sql(f'SELECT DISTINCT CAST({_ident(col)} AS VARCHAR) FROM "{table}" LIMIT 3').fetchall()
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
        acct = _text(_ident(cols["account"]))
        cp = _text(_ident(cols["counterparty"])) if "counterparty" in cols else "NULL"
        if "amount" in cols:
            check_type(cols["amount"], "amount", _NUMERIC)
            amt_raw = _text(_ident(cols["amount"]))
            signed = _number(amt_raw, csv)
        else:
            d_raw, c_raw = _text(_ident(cols["debit"])), _text(_ident(cols["credit"]))
            amt_raw = f"coalesce({c_raw}, {d_raw})"
            d, c = _number(d_raw, csv), _number(c_raw, csv)
            signed = f"(CASE WHEN {d} IS NULL AND {c} IS NULL THEN NULL ELSE coalesce({c}, 0) - abs(coalesce({d}, 0)) END)"
        check_type(cols["date"], "ts", _TEMPORAL)
        f.raw["ts"] = _text(_ident(cols["date"]))
        f.value["ts"] = _timestamp(_ident(cols["date"]), available[cols["date"]], tx["timestamp_format"], tz)
        f.raw["amount"] = amt_raw
        f.value["amount"] = f"abs({signed})"
        f.value["__signed"] = signed
        f.value["payer_account"] = f"(CASE WHEN {signed} < 0 THEN {acct} ELSE {cp} END)"
        f.value["beneficiary_account"] = f"(CASE WHEN {signed} < 0 THEN {cp} ELSE {acct} END)"
        stem = Path(src.name).name
        f.raw["txn_id"] = _text(_ident(cols["txn_id"])) if "txn_id" in cols else f"({_q(stem + ':')} || CAST(__row AS VARCHAR))"
        if "description" in cols:
            f.value["memo"] = _text(_ident(cols["description"]))
        if "counterparty_name" in cols:
            f.value["counterparty_name"] = _text(_ident(cols["counterparty_name"]))
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
        f.raw["txn_id"] = _text(_ident(mapped["txn_id"]))
        f.raw["ts"] = _text(_ident(mapped["ts"]))
        f.value["ts"] = _timestamp(_ident(mapped["ts"]), available[mapped["ts"]], tx["timestamp_format"], tz)
        f.raw["amount"] = _text(_ident(mapped["amount"]))
        f.value["amount"] = (f"CAST({_ident(mapped['amount'])} AS DOUBLE)" if _NUMERIC.match(available[mapped["amount"]])
                             else _number(f.raw["amount"], csv))
        for side in ("payer_account", "beneficiary_account"):
            f.value[side] = _coded(_text(_ident(mapped[side])), codes.get(side))
        for opt in OPTIONAL:
            if opt in mapped:
                col = _ident(mapped[opt])
                if opt == "is_refund":
                    f.value[opt] = f"TRY_CAST({_coded(_text(col), codes.get(opt))} AS BOOLEAN)"
                else:
                    f.value[opt] = _coded(_text(col), codes.get(opt))
    # Channel: a column (with code mapping), else rules on the memo, else the default.
    if "channel" in mapped:
        f.raw["channel"] = _text(_ident(mapped["channel"]))
        f.value["channel"] = f"lower({_coded(f.raw['channel'], codes.get('channel'))})"
    else:
        default = _q(tx["default_channel"]) if tx["default_channel"] else "NULL"
        memo = f.value.get("memo", "NULL")
        rules = " ".join(f"WHEN regexp_matches(coalesce({memo}, ''), {_q(r['pattern'])}) THEN {_q(r['channel'])}"
                         for r in tx["channel_rules"] or [])
        f.raw["channel"] = f"(CASE {rules} ELSE {default} END)" if rules else default
        f.value["channel"] = f.raw["channel"]
    if "currency" in mapped:
        f.raw["currency"] = _text(_ident(mapped["currency"]))
        f.value["currency"] = f"upper({_coded(f.raw['currency'], codes.get('currency'))})"
    else:
        f.raw["currency"] = _q(tx["default_currency"]) if tx["default_currency"] else "NULL"
        f.value["currency"] = f.raw["currency"]
    return f


def _reason_case() -> tuple[str, str, str]:
    """CASE expressions giving, for each row, its first failing check: reason, column, raw value.

    They read the columns of the per-source projection (`__raw_*` as read, the rest parsed), so each
    field is parsed once however many checks look at it.
    """
    checks = [
        (ReasonCode.MISSING_VALUE, "txn_id", "txn_id IS NULL", "NULL"),
        (ReasonCode.MISSING_VALUE, "ts", "__raw_ts IS NULL", "NULL"),
        (ReasonCode.UNPARSEABLE_TIMESTAMP, "ts", "ts IS NULL", "__raw_ts"),
        (ReasonCode.MISSING_VALUE, "amount", "__raw_amount IS NULL", "NULL"),
        (ReasonCode.UNPARSEABLE_AMOUNT, "amount", "amount IS NULL", "__raw_amount"),
        (ReasonCode.AMOUNT_NOT_POSITIVE, "amount", "amount <= 0", "__raw_amount"),
        (ReasonCode.MISSING_VALUE, "channel", "__raw_channel IS NULL", "NULL"),
        (ReasonCode.UNKNOWN_CHANNEL, "channel", f"channel NOT IN ({', '.join(_q(c) for c in CHANNELS)})", "__raw_channel"),
        (ReasonCode.MISSING_VALUE, "currency", "__raw_currency IS NULL", "NULL"),
        (ReasonCode.UNKNOWN_CURRENCY, "currency", "currency NOT IN (SELECT code FROM __fm_iso4217)", "__raw_currency"),
        (ReasonCode.NO_ACCOUNT, "payer_account", "payer_account IS NULL AND beneficiary_account IS NULL", "NULL"),
    ]
    reason = "CASE " + " ".join(f"WHEN {cond} THEN {_q(code.value)}" for code, _, cond, _ in checks) + " END"
    column = "CASE " + " ".join(f"WHEN {cond} THEN {_q(col)}" for _, col, cond, _ in checks) + " END"
    raw = "CASE " + " ".join(f"WHEN {cond} THEN CAST({val} AS VARCHAR)" for _, _, cond, val in checks) + " END"
    return reason, column, raw


def _create_tables(ws: Workspace) -> None:
    cols = ", ".join(f"{c.name} {c.dtype}" for c in QUARANTINE)
    ws.sql(f"CREATE OR REPLACE TABLE quarantine ({cols})")
    # Not TEMP: the per-source views that read it live in the workspace's schema.
    ws.sql("CREATE OR REPLACE TABLE __fm_iso4217 (code VARCHAR)")
    ws.con.executemany("INSERT INTO __fm_iso4217 VALUES (?)", [(c,) for c in iso_currencies()])


def load_transactions(ws: Workspace, sources: list[InputSource], profile: Profile,
                      progress: Any = None) -> list[FileCount]:
    """Load every source into `txns`, sending failing rows to `quarantine`.

    Args:
        ws: the case workspace.
        sources: the transaction inputs, in order.
        profile: resolved profile (mapping, codes, formats, time zone, rates, period).
        progress: optional callable(advance: int) called once per source.

    Returns:
        Per-file reconciliation counts.

    Raises:
        InputSchemaError: missing columns or unusable types in any file (all reported at once).
        MappingError: a file where more than `max_reject_rate` of rows fail for one reason.
    """
    _create_tables(ws)
    csv = profile["transactions"]["csv"]
    raw_names = [f"__fm_raw_{i}" for i in range(len(sources))]
    counts: list[FileCount] = []
    problems: list[SchemaProblem] = []
    plans: list[_Fields | None] = []
    for i, src in enumerate(sources):
        info = read_raw(ws, src, raw_names[i], csv)
        fc = FileCount(src.name, src.sha256())
        fc.read = quarantine_rejects(ws, src, info["rejects"], "transactions")
        available = {r[0]: r[1] for r in ws.sql(f'DESCRIBE "{raw_names[i]}"').fetchall() if r[0] != "__row"}
        plans.append(_plan_source(ws, src, raw_names[i], available, profile, problems))
        counts.append(fc)
    if problems:
        raise InputSchemaError(problems)
    opt_cols = [c.name for c in TRANSACTIONS if not c.required]
    reason, column, raw_value = _reason_case()
    views = [f"__fm_parsed_{i}" for i in range(len(sources))]
    for i, plan in enumerate(plans):
        assert plan is not None  # problems were raised above
        opt = ", ".join(f"CAST({plan.value.get(c, 'NULL')} AS {_OPT_TYPES[c]}) AS {c}" for c in opt_cols)
        # A view, not a staging table: rows are parsed where they are read and only the rows that are
        # kept are ever written, once, into `txns`; the failing ones go to the quarantine from here.
        ws.sql(
            f"""CREATE OR REPLACE VIEW {views[i]} AS
            SELECT CAST({i} AS INTEGER) AS __file_idx, CAST(__row AS BIGINT) AS __row, {reason} AS __reason,
                   {column} AS __column, {raw_value} AS __raw, CAST(txn_id AS VARCHAR) AS txn_id,
                   CAST(ts AS TIMESTAMP) AS ts, CAST(amount AS DOUBLE) AS amount, CAST(currency AS VARCHAR) AS currency,
                   CAST(payer_account AS VARCHAR) AS payer_account,
                   CAST(beneficiary_account AS VARCHAR) AS beneficiary_account, CAST(channel AS VARCHAR) AS channel,
                   {', '.join(opt_cols)}
            FROM (SELECT __row, {plan.raw['txn_id']} AS txn_id, {plan.raw['ts']} AS __raw_ts, {plan.value['ts']} AS ts,
                         {plan.raw['amount']} AS __raw_amount, {plan.value['amount']} AS amount,
                         {plan.raw['currency']} AS __raw_currency, {plan.value['currency']} AS currency,
                         {plan.raw['channel']} AS __raw_channel, {plan.value['channel']} AS channel,
                         {plan.value['payer_account']} AS payer_account,
                         {plan.value['beneficiary_account']} AS beneficiary_account, {opt}
                  FROM "{raw_names[i]}")"""
        )
    # One pass over every source counts the rows read and failing per file and, in the same scan, finds
    # the txn_id hashes that repeat among the passing rows (a second grouping set): the parse of every
    # field is the costly part, so it is not done once for the counts and again for the duplicates.
    _scan_counts(ws, views)
    per_file = {int(f): (int(n), int(b)) for f, n, b in ws.sql(
        "SELECT __file_idx, n, bad FROM __fm_scan WHERE __by_file").fetchall()}
    for i, (src, fc) in enumerate(zip(sources, counts, strict=True)):
        n_read, bad = per_file.get(i, (0, 0))
        if bad:
            ws.sql(
                f"""INSERT INTO quarantine
                SELECT $f, s.__row, 'transactions', s.__reason, s.__column, s.__raw, CAST(to_json(r) AS VARCHAR)
                FROM (SELECT __row, __reason, __column, __raw FROM {views[i]} WHERE __reason IS NOT NULL) AS s
                JOIN "{raw_names[i]}" AS r ON r.__row = s.__row ORDER BY s.__row""",
                {"f": src.name},
            )
        fc.read += int(n_read)
        if progress:
            progress(1)
    # The rows that passed every per-row check, in input order; later checks narrow `kept` as views too.
    ws.sql("CREATE OR REPLACE VIEW __fm_good AS " + " UNION ALL ".join(
        f"SELECT * EXCLUDE (__reason, __column, __raw) FROM {v} WHERE __reason IS NULL" for v in views))
    kept = _quarantine_duplicates(ws, sources)
    kept, keep_if, converted = _convert_currency(ws, profile, sources, kept)
    keep_if += _apply_period(ws, profile, sources, kept, keep_if)
    # txn_idx encodes (file, row): unique and ordered like the input, so the rows need no stored order
    # (every reader that needs one sorts by txn_idx or ts) and the one write of the transactions runs
    # in parallel, unordered.
    with ws.unordered():
        ws.sql(
            f"""CREATE OR REPLACE TABLE txns AS
            SELECT CAST(__file_idx AS BIGINT) * {_FILE_STRIDE} + __row AS txn_idx,
                   * EXCLUDE (__file_idx, __row),
                   {'' if converted else 'amount AS amount_rc, '}__file_idx AS source_file_idx, __row AS source_row
            FROM {kept}{' WHERE ' + ' AND '.join(keep_if) if keep_if else ''}"""
        )
    for name in ("__fm_conv", "__fm_kept", "__fm_good", *views, *raw_names):
        ws.drop(name)
    ws.drop("__fm_iso4217")
    ws.sql("DROP TABLE IF EXISTS __fm_dups")
    ws.sql("DROP TABLE IF EXISTS __fm_scan")
    ws.sql("DROP TABLE IF EXISTS __fm_rates")
    loaded = {int(k): int(v) for k, v in ws.sql("SELECT source_file_idx, count(*) FROM txns GROUP BY 1").fetchall()}
    check_reject_rates(ws, counts, loaded, float(profile["max_reject_rate"]), "transactions")
    # Optional columns no source provides are dropped, so "present" means "some input has it".
    for col in opt_cols:
        if not any(col in plan.value for plan in plans if plan is not None):
            ws.sql(f"ALTER TABLE txns DROP COLUMN {col}")
    return counts


def _scan_counts(ws: Workspace, views: list[str]) -> None:
    """`__fm_scan`: rows read and failing per file (`__by_file`), and the repeated hashes of passing txn_ids.

    One GROUPING SETS aggregate over all parsed views: the per-file set gives `n` (rows) and `bad`
    (rows with a reason); the hash set keeps only hashes of passing rows seen more than once.
    """
    rows = " UNION ALL ".join(
        f"SELECT __file_idx, __reason IS NOT NULL AS __bad, CASE WHEN __reason IS NULL THEN hash(txn_id) END AS __h "
        f"FROM {v}" for v in views)
    ws.sql(f"""CREATE OR REPLACE TEMP TABLE __fm_scan AS
               SELECT __file_idx, __h, GROUPING(__file_idx) = 0 AS __by_file, count(*) AS n,
                      count(*) FILTER (WHERE __bad) AS bad
               FROM ({rows})
               GROUP BY GROUPING SETS ((__file_idx), (__h))
               HAVING GROUPING(__file_idx) = 0 OR (__h IS NOT NULL AND count(*) > 1)""")


def _move_to_quarantine(ws: Workspace, sources: list[InputSource], view: str, where: str, reason: ReasonCode,
                        column: str, raw: str) -> None:
    """Quarantine the rows of `view` matching `where`; the caller leaves them out of `txns`."""
    names = "CASE __file_idx " + " ".join(f"WHEN {i} THEN {_q(s.name)}" for i, s in enumerate(sources)) + " END"
    ws.sql(
        f"""INSERT INTO quarantine
        SELECT {names}, __row, 'transactions', {_q(reason.value)}, {_q(column)}, CAST({raw} AS VARCHAR),
               CAST(to_json(s) AS VARCHAR)
        FROM (SELECT * FROM {view}) AS s
        WHERE {where} ORDER BY __file_idx, __row"""
    )


def _quarantine_duplicates(ws: Workspace, sources: list[InputSource]) -> str:
    """Quarantine every repeat of a txn_id (the first in input order is kept); returns the view of kept rows."""
    # Only ids that may repeat are ranked: the hashes of passing ids seen more than once (`_scan_counts`,
    # an aggregate over 64-bit hashes, cheaper than over the strings), then a window over the exact ids
    # of the few candidates, so a hash collision only adds a candidate that ranks first in its own partition.
    ws.sql("""CREATE OR REPLACE TEMP TABLE __fm_dups AS
              WITH repeated AS (SELECT __h AS h FROM __fm_scan WHERE NOT __by_file)
              SELECT f, r FROM (
                SELECT g.__file_idx AS f, g.__row AS r,
                       row_number() OVER (PARTITION BY g.txn_id ORDER BY g.__file_idx, g.__row) AS k
                FROM __fm_good AS g SEMI JOIN repeated ON repeated.h = hash(g.txn_id)) WHERE k > 1""")
    if not ws.sql("SELECT count(*) FROM __fm_dups").fetchone()[0]:
        return "__fm_good"
    where = "(__file_idx, __row) IN (SELECT (f, r) FROM __fm_dups)"
    _move_to_quarantine(ws, sources, "__fm_good", where, ReasonCode.DUPLICATE_TXN_ID, "txn_id", "txn_id")
    ws.sql(f"CREATE OR REPLACE VIEW __fm_kept AS SELECT * FROM __fm_good WHERE NOT {where}")
    return "__fm_kept"


def _convert_currency(ws: Workspace, profile: Profile, sources: list[InputSource],
                      kept: str) -> tuple[str, list[str], bool]:
    """With a rates file, add `amount_rc` (the amount in the reporting currency) and quarantine rows
    without a rate. Without one, `amount` is taken as is when `txns` is built.

    Returns:
        (the view to build `txns` from, conditions a row must meet to be kept, whether it converted).
    """
    rates = profile["rates"]
    rc = profile["reporting_currency"]
    if not rates:
        return kept, [], False
    try:
        ws.sql(
            f"""CREATE OR REPLACE TABLE __fm_rates AS
            SELECT upper(trim(currency)) AS currency, CAST(date AS DATE) AS date, CAST(rate AS DOUBLE) AS rate
            FROM read_csv({_q(Path(rates).as_posix())}, header = true, all_varchar = true)
            UNION ALL SELECT {_q(rc)}, DATE '1900-01-01', 1.0"""
        )
    except duckdb.Error as err:  # the user's rates file, reported as such rather than as a crash
        raise InputSchemaError([SchemaProblem(
            str(rates), "-", "unreadable_rates",
            f"a CSV with columns date (YYYY-MM-DD), currency, rate ({str(err).splitlines()[0]})")],
            headline="The exchange-rate file cannot be used.") from None
    ws.sql(
        f"""CREATE OR REPLACE VIEW __fm_conv AS
        SELECT s.*, round(s.amount * r.rate, 2) AS amount_rc
        FROM {kept} AS s ASOF LEFT JOIN __fm_rates AS r ON s.currency = r.currency AND CAST(s.ts AS DATE) >= r.date"""
    )
    _move_to_quarantine(ws, sources, "__fm_conv", "amount_rc IS NULL", ReasonCode.NO_EXCHANGE_RATE, "currency",
                        "currency")
    return "__fm_conv", ["amount_rc IS NOT NULL"], True


def _apply_period(ws: Workspace, profile: Profile, sources: list[InputSource], kept: str,
                  keep_if: list[str]) -> list[str]:
    """Quarantine rows outside the profile's period; returns the condition that keeps the others."""
    since, until = profile["period"]["since"], profile["period"]["until"]
    # The period's days are calendar days in the profile's time zone; `ts` is stored in UTC.
    tz = profile["timezone"]
    local = "ts" if tz == "UTC" else f"timezone({_q(tz)}, timezone('UTC', ts))"
    conds = []
    if since:
        conds.append(f"{local} < TIMESTAMP {_q(str(since))}")
    if until:
        conds.append(f"{local} >= TIMESTAMP {_q(str(until))} + INTERVAL 1 DAY")
    if not conds:
        return []
    outside = "(" + " OR ".join(conds) + ")"
    # Rows already quarantined by an earlier check (no exchange rate) are not quarantined twice.
    _move_to_quarantine(ws, sources, kept, " AND ".join([*keep_if, outside]), ReasonCode.OUT_OF_SCOPE, "ts", "ts")
    return [f"NOT {outside}"]


def check_reject_rates(ws: Workspace, counts: list[FileCount], loaded: dict[int, int], limit: float,
                       table_name: str) -> None:
    """Fill per-file counts and stop when one reason takes more than `limit` of a file's rows.

    Shared by transactions and parties: the rule is the same, only the table differs.
    """
    for fc in counts:
        fc.quarantined = {r: int(n) for r, n in ws.sql(
            "SELECT reason, count(*) FROM quarantine WHERE source_file = $f AND table_name = $t GROUP BY 1",
            {"f": fc.file, "t": table_name}).fetchall()}
    problems = []
    for i, fc in enumerate(counts):
        fc.loaded = int(loaded.get(i, 0))
        for reason, n in sorted(fc.quarantined.items()):
            if reason == ReasonCode.OUT_OF_SCOPE.value or n <= limit * fc.read:
                continue
            rows = ws.sql(
                """SELECT coalesce(column_name, '-'), coalesce(raw_value, raw_record, '') FROM quarantine
                WHERE source_file = $f AND reason = $r AND table_name = $t ORDER BY source_row LIMIT 3""",
                {"f": fc.file, "r": reason, "t": table_name},
            ).fetchall()
            problems.append(SchemaProblem(
                fc.file, rows[0][0], reason,
                f"at most {limit:.0%} of rows failing for one reason; {n} of {fc.read} rows: "
                f"{REASON_TEXT[ReasonCode(reason)]}; check the profile's mapping",
                tuple(r[1] for r in rows)))
    if problems:
        raise MappingError(problems, headline="Too many rows fail for the same reason: this looks like a mapping error, "
                                              "not bad rows. The rejected rows are in the quarantine table.")
