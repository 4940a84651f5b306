"""Load the optional KYC parties table: one row per account and party."""

from __future__ import annotations

from typing import Any

from followmoney.errors import InputSchemaError, SchemaProblem
from followmoney.ingest.read import InputSource, quarantine_rejects, read_raw
from followmoney.ingest.transactions import FileCount, _ident, _q, _text, check_reject_rates
from followmoney.profile import Profile
from followmoney.schema import PARTIES, ReasonCode
from followmoney.workspace import Workspace


def _parsed(dtype: str, col: str, fmt: str | None, csv: dict[str, Any]) -> tuple[str, ReasonCode | None]:
    text = _text(col)
    if dtype == "DATE":
        return (f"CAST(try_strptime({text}, {_q(fmt)}) AS DATE)" if fmt else f"TRY_CAST({text} AS DATE)",
                ReasonCode.UNPARSEABLE_TIMESTAMP)
    if dtype == "DOUBLE":
        expr = text
        if csv.get("thousands"):
            expr = f"replace({expr}, {_q(csv['thousands'])}, '')"
        if csv.get("decimal_comma"):
            expr = f"replace({expr}, ',', '.')"
        return f"TRY_CAST({expr} AS DOUBLE)", ReasonCode.UNPARSEABLE_AMOUNT
    return text, None


def load_parties(ws: Workspace, sources: list[InputSource], profile: Profile) -> list[FileCount]:
    """Load parties files into `parties`; rows without an account or with unparseable fields are quarantined.

    Raises:
        InputSchemaError: a file without an `account_id` column (after mapping).
        MappingError: more than `max_reject_rate` of a file's rows failing for one reason.
    """
    cfg = profile["parties"]
    cols_sql = ", ".join(f"{c.name} {c.dtype}" for c in PARTIES)
    ws.sql(f"CREATE OR REPLACE TABLE parties (__file_idx INTEGER, __row BIGINT, {cols_sql})")
    counts, problems = [], []
    for i, src in enumerate(sources):
        raw = f"__fm_praw_{i}"
        info = read_raw(ws, src, raw, cfg["csv"])
        malformed = quarantine_rejects(ws, src, info["rejects"], "parties")
        available = {r[0] for r in ws.sql(f'DESCRIBE "{raw}"').fetchall()} - {"__row"}
        lower = {a.lower(): a for a in available}
        mapping = {c.name: (cfg["columns"] or {}).get(c.name, lower.get(c.name, c.name)) for c in PARTIES}
        if mapping["account_id"] not in available:
            problems.append(SchemaProblem(src.name, mapping["account_id"], "missing_column",
                                          "a column for 'account_id' (map it in the profile's parties.columns)",
                                          tuple(sorted(available)[:6])))
            continue
        values, checks = [], []
        for c in PARTIES:
            if mapping[c.name] not in available:
                values.append(f"CAST(NULL AS {c.dtype})")
                continue
            col = _ident(mapping[c.name])
            expr, reason = _parsed(c.dtype, col, cfg["date_format"], cfg["csv"])
            values.append(expr)
            if reason is not None:
                checks.append((f"{_text(col)} IS NOT NULL AND {expr} IS NULL", reason, c.name, _text(col)))
        checks.insert(0, (f"{_text(_ident(mapping['account_id']))} IS NULL", ReasonCode.MISSING_VALUE, "account_id", "NULL"))
        reason = "CASE " + " ".join(f"WHEN {w} THEN {_q(r.value)}" for w, r, _, _ in checks) + " END"
        column = "CASE " + " ".join(f"WHEN {w} THEN {_q(c)}" for w, _, c, _ in checks) + " END"
        rawv = "CASE " + " ".join(f"WHEN {w} THEN CAST({v} AS VARCHAR)" for w, _, _, v in checks) + " END"
        ws.sql(f"""CREATE OR REPLACE TEMP TABLE __fm_pnorm AS
                   SELECT __row, {reason} AS __reason, {column} AS __column, {rawv} AS __raw,
                          CAST(to_json(r) AS VARCHAR) AS __record, {', '.join(values)}
                   FROM "{raw}" AS r""")
        ws.sql("""INSERT INTO quarantine SELECT $f, __row, 'parties', __reason, __column, __raw, __record
                  FROM __fm_pnorm WHERE __reason IS NOT NULL ORDER BY __row""", {"f": src.name})
        ws.sql(f"INSERT INTO parties SELECT {i}, __row, * EXCLUDE (__row, __reason, __column, __raw, __record) "
               f"FROM __fm_pnorm WHERE __reason IS NULL ORDER BY __row")
        fc = FileCount(src.name, src.sha256())
        fc.read = int(ws.sql(f'SELECT count(*) FROM "{raw}"').fetchone()[0]) + malformed
        counts.append(fc)
        ws.drop(raw)
    ws.sql("DROP TABLE IF EXISTS __fm_pnorm")
    if problems:
        raise InputSchemaError(problems, headline="The parties input cannot be loaded.")
    loaded = {int(k): int(v) for k, v in ws.sql("SELECT __file_idx, count(*) FROM parties GROUP BY 1").fetchall()}
    check_reject_rates(ws, counts, loaded, float(profile["max_reject_rate"]), "parties")
    ws.sql("ALTER TABLE parties DROP COLUMN __file_idx")
    ws.sql("ALTER TABLE parties DROP COLUMN __row")
    return counts
