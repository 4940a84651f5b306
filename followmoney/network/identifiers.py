"""Identifier linking (entity resolution): normalise identifiers, drop shared ones, cap popular ones.

`derive.build_identifiers` keeps identifiers as the source wrote them, lightly cleaned. Linking
needs stricter keys, so that `(555) 201-3344`, `+1 555 201 3344` and `15552013344` are one phone
and `Jane.Doe+ads@gmail.com` is `janedoe@gmail.com`. All normalisation runs as DuckDB SQL over
the `identifiers` table (one pass, no Python per row), producing `identifier_keys`:

* phone: E.164 (`+` and digits). A leading `+` or `00` carries its own country code; a national
  number gets the default country code (from the profile's `link.default_country_code`, else the
  jurisdiction: US and CA -> 1, UK -> 44), dropping a trunk `0` outside the NANP;
* e-mail: lower case; for providers that ignore them, dots (Gmail) and `+tags` in the local part
  are removed, and `googlemail.com` becomes `gmail.com`;
* address: lower case, punctuation removed, street words abbreviated (street -> st, avenue -> ave,
  ...), unit designators (apartment, apt, unit, suite, flat, #) written one way as `#<unit>`; the
  building key (the address without its unit) is kept for the multi-unit building exclusion;
* device: trimmed, lower case; ip: IPv4 octets without leading zeros, IPv6 lower case.

Then two kinds of identifiers link nothing and are reported instead (manifest notes):

* legitimately shared ones: the shipped lists `shared_identifiers.csv` (exact values) and
  `shared_identifier_patterns.csv` (regular expressions: shelters, campuses, switchboards), plus
  the profile's `link.exclude_identifiers` (`{kind, value}` or `{kind, pattern}` entries), and any
  address whose building key has more than `max_units_per_building` distinct units (a multi-unit
  building);
* popular ones: a value held by more than `max_accounts_per_identifier` accounts, so one
  switchboard number cannot join thousands of accounts into one cluster.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from followmoney.workspace import Workspace

COUNTRY_CODES: dict[str, str] = {"US": "1", "CA": "1", "UK": "44", "GB": "44"}
"""Default phone country code per jurisdiction; EU has none (numbers must carry their own)."""

DOT_BLIND_DOMAINS: tuple[str, ...] = ("gmail.com",)
"""Providers that deliver `j.doe@` and `jdoe@` to the same mailbox."""

PLUS_TAG_DOMAINS: tuple[str, ...] = ("gmail.com", "outlook.com", "hotmail.com", "live.com", "icloud.com",
                                     "me.com", "fastmail.com", "protonmail.com", "proton.me", "yahoo.com")
"""Providers that deliver `jdoe+tag@` to `jdoe@`."""

ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("street", "st"), ("avenue", "ave"), ("av", "ave"), ("boulevard", "blvd"), ("drive", "dr"), ("road", "rd"),
    ("lane", "ln"), ("court", "ct"), ("place", "pl"), ("terrace", "ter"), ("highway", "hwy"), ("parkway", "pkwy"),
    ("square", "sq"), ("circle", "cir"), ("north", "n"), ("south", "s"), ("east", "e"), ("west", "w"),
    ("saint", "st"), ("mount", "mt"), ("building", "bldg"), ("floor", "fl"),
)
"""Whole words rewritten in addresses (USPS-style suffixes and directions)."""

UNIT_WORDS = "apartment|apt|unit|suite|ste|flat|room|rm|no|number"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def phone_sql(col: str, country_code: str | None) -> str:
    """SQL expression: E.164 form of a phone column, or NULL when it cannot be one."""
    digits = f"regexp_replace({col}, '[^0-9]', '', 'g')"
    cc = country_code or ""
    national = "NULL"
    if cc == "1":
        # NANP: 10 national digits, or 11 starting with the trunk/country 1.
        national = (f"CASE WHEN length({digits}) = 10 THEN '+1' || {digits} "
                    f"WHEN length({digits}) = 11 AND starts_with({digits}, '1') THEN '+' || {digits} END")
    elif cc:
        national = (f"CASE WHEN starts_with({digits}, '0') THEN '+{cc}' || substr({digits}, 2) "
                    f"WHEN starts_with({digits}, '{cc}') THEN '+' || {digits} ELSE '+{cc}' || {digits} END")
    return (f"CASE WHEN length({digits}) < 7 THEN NULL "
            f"WHEN starts_with(trim({col}), '+') THEN '+' || {digits} "
            f"WHEN starts_with({digits}, '00') THEN '+' || substr({digits}, 3) "
            f"ELSE {national} END")


def email_sql(col: str) -> str:
    """SQL expression: canonical mailbox of an e-mail column, or NULL when it has no single `@`."""
    e = f"lower(trim({col}))"
    domain = f"replace(split_part({e}, '@', 2), 'googlemail.com', 'gmail.com')"
    local = f"split_part({e}, '@', 1)"
    plus = ", ".join(_sql_str(d) for d in PLUS_TAG_DOMAINS)
    dots = ", ".join(_sql_str(d) for d in DOT_BLIND_DOMAINS)
    local = f"CASE WHEN {domain} IN ({plus}) THEN split_part({local}, '+', 1) ELSE {local} END"
    local = f"CASE WHEN {domain} IN ({dots}) THEN replace({local}, '.', '') ELSE {local} END"
    return f"CASE WHEN {e} SIMILAR TO '[^@\\s]+@[^@\\s]+\\.[^@\\s]+' THEN ({local}) || '@' || {domain} END"


def address_sql(col: str, with_unit: bool = True) -> str:
    """SQL expression: canonical address (or building key, `with_unit=False`) of an address column."""
    a = f"lower({col})"
    a = f"regexp_replace({a}, '#\\s*', ' # ', 'g')"
    a = f"regexp_replace({a}, '[^a-z0-9# ]+', ' ', 'g')"
    for long, short in ABBREVIATIONS:
        a = f"regexp_replace({a}, '\\b{long}\\b', '{short}', 'g')"
    # Any unit designator followed by its number becomes '#<unit>'.
    a = f"regexp_replace({a}, '\\b(?:{UNIT_WORDS})\\s+([a-z0-9]+)\\b', ' #\\1', 'g')"
    a = f"regexp_replace({a}, '#\\s*([a-z0-9]+)', '#\\1', 'g')"
    if not with_unit:
        a = f"regexp_replace({a}, '#[a-z0-9]*', ' ', 'g')"
    return f"nullif(trim(regexp_replace({a}, '\\s+', ' ', 'g')), '')"


def ip_sql(col: str) -> str:
    """SQL expression: canonical IP (IPv4 octets without leading zeros; IPv6 lower case)."""
    v = f"lower(trim({col}))"
    octets = " || '.' || ".join(f"CAST(CAST(split_part({v}, '.', {i}) AS INTEGER) AS VARCHAR)" for i in range(1, 5))
    return f"CASE WHEN regexp_full_match({v}, '\\d{{1,3}}(\\.\\d{{1,3}}){{3}}') THEN {octets} ELSE {v} END"


def shipped_exclusions() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The shipped lists of legitimately shared identifiers: (exact values, regular expressions)."""
    here = resources.files("followmoney.network")
    with here.joinpath("shared_identifiers.csv").open(encoding="utf-8") as f:
        values = list(csv.DictReader(f))
    with here.joinpath("shared_identifier_patterns.csv").open(encoding="utf-8") as f:
        patterns = list(csv.DictReader(f))
    return values, patterns


def country_code(settings: Mapping[str, Any]) -> str | None:
    """Default phone country code: `link.default_country_code`, else from the jurisdiction."""
    link = settings.get("link") or {}
    if link.get("default_country_code"):
        return str(link["default_country_code"]).lstrip("+")
    return COUNTRY_CODES.get(str(settings.get("jurisdiction") or "").upper())


def build_identifier_keys(ws: Workspace, *, default_country_code: str | None = None,
                          max_accounts_per_identifier: int = 20, max_units_per_building: int = 6,
                          extra_exclusions: Iterable[Mapping[str, str]] = ()) -> dict[str, Any]:
    """Write `identifier_keys` and `identifier_exclusions`; return facts for the manifest.

    `identifier_keys(account_id, kind, key, building)` holds one row per account and normalised
    identifier that may link accounts; `identifier_exclusions(kind, key, accounts, reason)` the
    normalised identifiers that link nothing, with the reason.
    """
    values, patterns = shipped_exclusions()
    for e in extra_exclusions:
        if e.get("pattern"):
            patterns.append({"kind": e["kind"], "pattern": e["pattern"], "reason": e.get("reason", "profile")})
        elif e.get("value"):
            values.append({"kind": e["kind"], "value": e["value"], "reason": e.get("reason", "profile")})
    key_expr = {
        "phone": phone_sql("value", default_country_code),
        "email": email_sql("value"),
        "address": address_sql("value"),
        "device": "lower(trim(value))",
        "ip": ip_sql("value"),
    }
    cases = " ".join(f"WHEN kind = '{k}' THEN {e}" for k, e in key_expr.items())
    ws.sql(f"""CREATE OR REPLACE TABLE identifier_keys AS
               SELECT DISTINCT account_id, kind, key,
                      CASE WHEN kind = 'address' THEN {address_sql('value', with_unit=False)} END AS building
               FROM (SELECT account_id, kind, value, CASE {cases} ELSE lower(trim(value)) END AS key FROM identifiers)
               WHERE key IS NOT NULL""")
    # Exact values of the lists are normalised like the data, so a list can be written any way.
    rows = [(v["kind"], v["value"], v["reason"]) for v in values]
    ws.sql("CREATE OR REPLACE TEMP TABLE __fm_excl_raw (kind VARCHAR, value VARCHAR, reason VARCHAR)")
    if rows:
        ws.con.executemany("INSERT INTO __fm_excl_raw VALUES (?, ?, ?)", rows)
    ws.sql("CREATE OR REPLACE TEMP TABLE __fm_excl_pat (kind VARCHAR, pattern VARCHAR, reason VARCHAR)")
    if patterns:
        ws.con.executemany("INSERT INTO __fm_excl_pat VALUES (?, ?, ?)",
                           [(p["kind"], p["pattern"], p["reason"]) for p in patterns])
    ws.sql(f"""CREATE OR REPLACE TABLE identifier_exclusions AS
        WITH listed AS (
            SELECT kind, CASE {cases} ELSE lower(trim(value)) END AS key, min(reason) AS reason
            FROM __fm_excl_raw GROUP BY ALL
        ),
        counts AS (SELECT kind, key, count(DISTINCT account_id) AS accounts FROM identifier_keys GROUP BY kind, key),
        by_list AS (SELECT c.kind, c.key, c.accounts, 'listed: ' || l.reason AS reason
                    FROM counts AS c JOIN listed AS l USING (kind, key)),
        by_pattern AS (SELECT c.kind, c.key, c.accounts, 'listed: ' || min(p.reason) AS reason
                       FROM counts AS c JOIN __fm_excl_pat AS p
                         ON p.kind = c.kind AND regexp_matches(c.key, p.pattern)
                       GROUP BY c.kind, c.key, c.accounts),
        buildings AS (SELECT building FROM identifier_keys WHERE kind = 'address' GROUP BY building
                      HAVING count(DISTINCT key) > $units),
        by_building AS (SELECT c.kind, c.key, c.accounts, 'multi-unit building' AS reason
                        FROM counts AS c JOIN identifier_keys AS k ON k.kind = c.kind AND k.key = c.key
                        WHERE c.kind = 'address' AND k.building IN (SELECT building FROM buildings)
                        GROUP BY ALL),
        by_cap AS (SELECT kind, key, accounts, 'shared by more than ' || $cap || ' accounts' AS reason
                   FROM counts WHERE accounts > $cap),
        everything AS (SELECT * FROM by_list UNION ALL SELECT * FROM by_pattern
                       UNION ALL SELECT * FROM by_building UNION ALL SELECT * FROM by_cap)
        SELECT kind, key, max(accounts) AS accounts, string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reason
        FROM everything GROUP BY kind, key ORDER BY accounts DESC, kind, key""",
           {"cap": max_accounts_per_identifier, "units": max_units_per_building})
    ws.sql("DROP TABLE __fm_excl_raw")
    ws.sql("DROP TABLE __fm_excl_pat")
    excluded = ws.sql("SELECT kind, key, accounts, reason FROM identifier_exclusions").fetchall()
    return {
        "identifier_keys": ws.count("identifier_keys"),
        "n_excluded_identifiers": len(excluded),
        # The value itself is left out of the manifest: it may be personal data.
        "excluded_identifiers": [{"kind": k, "accounts": int(n), "reason": r} for k, _, n, r in excluded[:20]],
    }


def identifier_links(accounts_table: str) -> str:
    """SQL selecting pairs of accounts of `accounts_table` (column `account_id`) sharing a usable key.

    Columns: `src`, `dst` (src < dst), `kind`, `key`. Excluded identifiers link nothing.
    """
    return f"""WITH usable AS (
                   SELECT k.account_id, k.kind, k.key FROM identifier_keys AS k
                   WHERE k.account_id IN (SELECT account_id FROM {accounts_table})
                     AND NOT EXISTS (SELECT 1 FROM identifier_exclusions AS x WHERE x.kind = k.kind AND x.key = k.key)
               )
               SELECT DISTINCT x.account_id AS src, y.account_id AS dst, x.kind, x.key
               FROM usable AS x JOIN usable AS y ON x.kind = y.kind AND x.key = y.key AND x.account_id < y.account_id"""
