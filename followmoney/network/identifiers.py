"""Identifier linking (entity resolution): normalise identifiers, drop shared ones, cap popular ones.

`derive.build_identifiers` keeps identifiers as the source wrote them, lightly cleaned. Linking
needs stricter keys, so that `(555) 201-3344`, `+1 555 201 3344` and `15552013344` are one phone
and `Jane.Doe+ads@gmail.com` is `janedoe@gmail.com`. Normalisation runs as DuckDB SQL over the
*distinct* `(kind, value)` pairs of the `identifiers` table (no Python per row), each with the list
of accounts holding it, unnested afterwards into `identifier_keys(account_id, kind, key, building)`:

* phone: E.164 (`+` and digits). A leading `+` or `00` carries its own country code; a national
  number gets the default country code (from the profile's `link.default_country_code`, else the
  jurisdiction: US and CA -> 1, UK -> 44), dropping a trunk `0` outside the NANP;
* e-mail: lower case; for providers that ignore them, dots (Gmail) and `+tags` in the local part
  are removed, and `googlemail.com` becomes `gmail.com`;
* address: lower case, punctuation removed, street words abbreviated (street -> st, avenue -> ave,
  ...), unit designators (apartment, apt, unit, suite, flat, #) written one way as `#<unit>`; the
  building key (the address without its unit) is kept for the multi-unit building exclusion;
* device: trimmed, lower case; ip: IPv4 octets without leading zeros, IPv6 lower case.

The address rules are applied word by word (one list lookup for the ~20 street words instead of
one regular expression each), which is what makes the 10^6-account case fast; the readable
one-rule-per-regex form they replace is kept in the tests as the reference they must equal.

Then two kinds of identifiers link nothing and are written to `identifier_exclusions(kind, key,
accounts, reason)` and reported instead (manifest notes):

* legitimately shared ones: the shipped lists `shared_identifiers.csv` (exact values) and
  `shared_identifier_patterns.csv` (regular expressions: shelters, campuses, switchboards), plus
  the profile's `link.exclude_identifiers` (`{kind, value}` or `{kind, pattern}` entries), and any
  address whose building key has more than `max_units_per_building` distinct units (a multi-unit
  building);
* popular ones: a value held by more than `max_accounts_per_identifier` accounts, so one
  switchboard number cannot join thousands of accounts into one cluster.

Public, stable helpers for other consumers of the same keys (e.g. an indicator over shared
identifiers): `link_options` (the profile's `link` settings with their defaults),
`prepare_identifiers` (build or reuse both tables), `exclusion_lists` (shipped + profile lists)
and `usable_keys_sql` (keys minus exclusions, i.e. after the popular-identifier cap).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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
"""Whole words rewritten in addresses (USPS-style suffixes and directions).

Applied in one simultaneous word lookup: no short form is itself a long form, so the result is the
same as rewriting one word after the other."""

UNIT_WORDS = "apartment|apt|unit|suite|ste|flat|room|rm|no|number"
"""Unit designators: `<designator> <unit>` is written `#<unit>`."""

KEYS_VERSION = 2
"""Version of the normalisation rules; part of the fingerprint that decides whether keys are reused."""

assert not {s for _, s in ABBREVIATIONS} & {long for long, _ in ABBREVIATIONS}, "abbreviations must not chain"


@dataclass(frozen=True)
class LinkOptions:
    """The profile's `link` settings that decide which identifiers may link accounts.

    Attributes:
        default_country_code: country code given to national phone numbers (`None`: they link nothing).
        max_accounts_per_identifier: the popular-identifier cap: a key held by more accounts links nothing.
        max_units_per_building: addresses of a building with more distinct units link nothing.
        exclude_identifiers: profile exclusions, `{kind, value}` or `{kind, pattern}` with optional `reason`.
        min_shared_beneficiary_senders: alerted payers that make a non-alerted account a common beneficiary.
    """

    default_country_code: str | None = None
    max_accounts_per_identifier: int = 20
    max_units_per_building: int = 6
    exclude_identifiers: tuple[Mapping[str, str], ...] = field(default=())
    min_shared_beneficiary_senders: int = 2


def link_options(settings: Mapping[str, Any]) -> LinkOptions:
    """`LinkOptions` from resolved scan settings (profile `link` section and `jurisdiction`), with defaults."""
    cfg = settings.get("link") or {}
    return LinkOptions(
        default_country_code=country_code(settings),
        max_accounts_per_identifier=int(cfg.get("max_accounts_per_identifier", 20)),
        max_units_per_building=int(cfg.get("max_units_per_building", 6)),
        exclude_identifiers=tuple(dict(e) for e in (cfg.get("exclude_identifiers") or ())),
        min_shared_beneficiary_senders=int(cfg.get("min_shared_beneficiary_senders", 2)),
    )


def country_code(settings: Mapping[str, Any]) -> str | None:
    """Default phone country code: `link.default_country_code`, else from the jurisdiction."""
    link = settings.get("link") or {}
    if link.get("default_country_code"):
        return str(link["default_country_code"]).lstrip("+")
    return COUNTRY_CODES.get(str(settings.get("jurisdiction") or "").upper())


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _phone_from(raw: str, digits: str, country_code: str | None) -> str:
    """E.164 from the raw column and an expression (or column) holding its digits only."""
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
            f"WHEN starts_with(trim({raw}), '+') THEN '+' || {digits} "
            f"WHEN starts_with({digits}, '00') THEN '+' || substr({digits}, 3) "
            f"ELSE {national} END")


def phone_sql(col: str, country_code: str | None) -> str:
    """SQL expression: E.164 form of a phone column, or NULL when it cannot be one."""
    return _phone_from(col, f"regexp_replace({col}, '[^0-9]', '', 'g')", country_code)


def _email_domain(e: str) -> str:
    return f"replace(split_part({e}, '@', 2), 'googlemail.com', 'gmail.com')"


def _email_from(e: str, local: str | None = None, domain: str | None = None) -> str:
    """Canonical mailbox from the trimmed, lower-cased e-mail `e` (expression or column).

    `local` and `domain` may name columns already holding `split_part(e, '@', 1)` and the domain
    with `googlemail.com` as `gmail.com`, so a query over many values computes them once.
    """
    domain = domain or _email_domain(e)
    local = local or f"split_part({e}, '@', 1)"
    plus = ", ".join(_sql_str(d) for d in PLUS_TAG_DOMAINS)
    dots = ", ".join(_sql_str(d) for d in DOT_BLIND_DOMAINS)
    local = f"CASE WHEN {domain} IN ({plus}) THEN split_part({local}, '+', 1) ELSE {local} END"
    local = f"CASE WHEN {domain} IN ({dots}) THEN replace({local}, '.', '') ELSE {local} END"
    return f"CASE WHEN regexp_full_match({e}, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') THEN ({local}) || '@' || {domain} END"


def email_sql(col: str) -> str:
    """SQL expression: canonical mailbox of an e-mail column, or NULL when it has no single `@`."""
    return _email_from(f"lower(trim({col}))")


def _abbreviate(word: str) -> str:
    cases = " ".join(f"WHEN {_sql_str(long)} THEN {_sql_str(short)}" for long, short in ABBREVIATIONS)
    return f"CASE {word} {cases} ELSE {word} END"


def address_sql(col: str, with_unit: bool = True) -> str:
    """SQL expression: canonical address (or building key, `with_unit=False`) of an address column.

    After lower-casing, `#` is spaced out and every character but `a-z`, `0-9`, `#` and space becomes a
    space, so the string is a sequence of words and lone `#`: street words are then rewritten by one
    lookup per word and the words joined by single spaces. Unit designators and `#` are joined to
    their unit by two regular expressions, left to right as in the rule-per-regex form (`apt # 4`
    stays `apt #4`, `# apt 4` is `# #4`); on single-spaced words neither leaves a double space.
    """
    a = f"regexp_replace(replace(lower({col}), '#', ' # '), '[^a-z0-9# ]+', ' ', 'g')"
    a = (f"array_to_string(list_transform(list_filter(string_split({a}, ' '), lambda w: w <> ''), "
         f"lambda w: {_abbreviate('w')}), ' ')")
    a = f"regexp_replace({a}, '\\b(?:{UNIT_WORDS}) ([a-z0-9]+)\\b', '#\\1', 'g')"
    key = f"nullif(regexp_replace({a}, '# ([a-z0-9])', '#\\1', 'g'), '')"
    return key if with_unit else building_sql(key)


def building_sql(key: str) -> str:
    """SQL expression: building key (the address without its `#unit` words) of a normalised address key."""
    return (f"CASE WHEN contains({key}, '#') THEN nullif(ltrim(regexp_replace({key}, '(^| )#[a-z0-9]*', '', 'g')), '') "
            f"ELSE {key} END")


def ip_sql(col: str) -> str:
    """SQL expression: canonical IP (IPv4 octets without leading zeros; IPv6 lower case)."""
    v = f"lower(trim({col}))"
    octets = " || '.' || ".join(f"CAST(CAST(split_part({v}, '.', {i}) AS INTEGER) AS VARCHAR)" for i in range(1, 5))
    return f"CASE WHEN regexp_full_match({v}, '\\d{{1,3}}(\\.\\d{{1,3}}){{3}}') THEN {octets} ELSE {v} END"


def key_sql(kind: str, value: str, country_code: str | None) -> str:
    """SQL expression: normalised key of `value` for identifier `kind` (both column names or literals).

    The same rules as `normalise_identifiers`, for small tables (lists, watchlists); a big table
    should go through `normalise_identifiers`, which evaluates each distinct value once.
    """
    key_expr = {"phone": phone_sql(value, country_code), "email": email_sql(value), "address": address_sql(value),
                "device": f"lower(trim({value}))", "ip": ip_sql(value)}
    cases = " ".join(f"WHEN {kind} = '{k}' THEN {e}" for k, e in key_expr.items())
    return f"CASE {cases} ELSE lower(trim({value})) END"


def normalise_identifiers(ws: Workspace, default_country_code: str | None = None) -> int:
    """Write `identifier_keys(account_id, kind, key, building)` from `identifiers`; return its rows.

    One row per account and normalised identifier (values that normalise to nothing are left out);
    `building` is the address key without its unit (NULL for other kinds). Each distinct
    `(kind, value)` is normalised once, by the expression of its kind only.
    """
    # One row per distinct value with the accounts holding it: the rules then run once per value,
    # and unnesting the accounts afterwards is cheaper than joining 10^6 keys back to the rows.
    ws.sql("""CREATE OR REPLACE TEMP TABLE __fm_id_values AS
              SELECT kind, value, list(account_id) AS accounts FROM identifiers GROUP BY kind, value""")
    per_kind = [
        f"""SELECT kind, accounts, {_phone_from('value', 'digits', default_country_code)} AS key, NULL AS building
            FROM (SELECT kind, value, accounts, regexp_replace(value, '[^0-9]', '', 'g') AS digits
                  FROM __fm_id_values WHERE kind = 'phone')""",
        f"""SELECT kind, accounts, {_email_from('e', 'local', 'domain')} AS key, NULL AS building
            FROM (SELECT kind, accounts, e, split_part(e, '@', 1) AS local, {_email_domain('e')} AS domain
                  FROM (SELECT kind, accounts, lower(trim(value)) AS e FROM __fm_id_values WHERE kind = 'email'))""",
        f"""SELECT kind, accounts, key, {building_sql('key')} AS building
            FROM (SELECT kind, accounts, {address_sql('value')} AS key FROM __fm_id_values WHERE kind = 'address')""",
        f"SELECT kind, accounts, {ip_sql('value')} AS key, NULL AS building FROM __fm_id_values WHERE kind = 'ip'",
        # device and any kind a later source adds: trimmed, lower case.
        """SELECT kind, accounts, lower(trim(value)) AS key, NULL AS building FROM __fm_id_values
           WHERE kind NOT IN ('phone', 'email', 'address', 'ip')""",
    ]
    try:
        # One query per kind into a table, then one unnest: a UNION ALL of the five queries, or the
        # unnest in the same query, ran the rules several times slower (measured at 10^6 accounts).
        ws.sql("""CREATE OR REPLACE TEMP TABLE __fm_id_map
                  (kind VARCHAR, accounts VARCHAR[], key VARCHAR, building VARCHAR)""")
        for query in per_kind:
            ws.sql(f"INSERT INTO __fm_id_map {query}")
        # DISTINCT: one account may hold two spellings of the same key.
        ws.sql("""CREATE OR REPLACE TABLE identifier_keys AS
                  SELECT DISTINCT unnest(accounts) AS account_id, kind, key, building
                  FROM __fm_id_map WHERE key IS NOT NULL""")
    finally:
        ws.sql("DROP TABLE IF EXISTS __fm_id_map")
        ws.sql("DROP TABLE IF EXISTS __fm_id_values")
    return ws.count("identifier_keys")


def shipped_exclusions() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The shipped lists of legitimately shared identifiers: (exact values, regular expressions)."""
    here = resources.files("followmoney.network")
    with here.joinpath("shared_identifiers.csv").open(encoding="utf-8") as f:
        values = list(csv.DictReader(f))
    with here.joinpath("shared_identifier_patterns.csv").open(encoding="utf-8") as f:
        patterns = list(csv.DictReader(f))
    return values, patterns


def exclusion_lists(extra_exclusions: Iterable[Mapping[str, str]] = ()) -> tuple[list[dict[str, str]],
                                                                                  list[dict[str, str]]]:
    """Shipped lists plus profile exclusions: (exact values `{kind, value, reason}`, patterns `{kind, pattern, reason}`).

    Exact values are raw (normalise them with `key_sql`); patterns are regular expressions over the
    normalised key. A profile entry without a reason gets `profile`.
    """
    values, patterns = shipped_exclusions()
    for e in extra_exclusions:
        if e.get("pattern"):
            patterns.append({"kind": e["kind"], "pattern": e["pattern"], "reason": e.get("reason", "profile")})
        elif e.get("value"):
            values.append({"kind": e["kind"], "value": e["value"], "reason": e.get("reason", "profile")})
    return values, patterns


def build_identifier_exclusions(ws: Workspace, *, default_country_code: str | None = None,
                                max_accounts_per_identifier: int = 20, max_units_per_building: int = 6,
                                extra_exclusions: Iterable[Mapping[str, str]] = ()) -> int:
    """Write `identifier_exclusions(kind, key, accounts, reason)` from `identifier_keys`; return its rows.

    The normalised identifiers that link nothing, with every reason that applies (`; `-separated):
    `listed: <reason>` (lists, exact or pattern), `multi-unit building`, `shared by more than <cap>
    accounts`. Patterns of one kind are first tried as one combined regular expression, so each key
    is scanned once and only the few that match are tested pattern by pattern for their reason.
    """
    values, patterns = exclusion_lists(extra_exclusions)
    # Exact values of the lists are normalised like the data, so a list can be written any way.
    ws.sql("CREATE OR REPLACE TEMP TABLE __fm_excl_raw (kind VARCHAR, value VARCHAR, reason VARCHAR)")
    if values:
        ws.con.executemany("INSERT INTO __fm_excl_raw VALUES (?, ?, ?)",
                           [(v["kind"], v["value"], v["reason"]) for v in values])
    ws.sql("CREATE OR REPLACE TEMP TABLE __fm_excl_pat (kind VARCHAR, pattern VARCHAR, reason VARCHAR)")
    if patterns:
        ws.con.executemany("INSERT INTO __fm_excl_pat VALUES (?, ?, ?)",
                           [(p["kind"], p["pattern"], p["reason"]) for p in patterns])
    by_kind: dict[str, list[str]] = {}
    for p in patterns:
        by_kind.setdefault(p["kind"], []).append(p["pattern"])
    prefilter = " ".join(f"WHEN {_sql_str(k)} THEN regexp_matches(key, {_sql_str('|'.join(f'(?:{p})' for p in ps))})"
                         for k, ps in sorted(by_kind.items()))
    prefilter = f"CASE kind {prefilter} ELSE false END" if by_kind else "false"
    try:
        ws.sql(f"""CREATE OR REPLACE TABLE identifier_exclusions AS
            WITH listed AS (
                SELECT kind, {key_sql('kind', 'value', default_country_code)} AS key, min(reason) AS reason
                FROM __fm_excl_raw GROUP BY ALL
            ),
            -- identifier_keys holds each (account, key) once (building follows from the key), so count(*)
            -- counts distinct accounts.
            counts AS (SELECT kind, key, count(*) AS accounts FROM identifier_keys GROUP BY kind, key),
            by_list AS (SELECT c.kind, c.key, c.accounts, 'listed: ' || l.reason AS reason
                        FROM counts AS c JOIN listed AS l USING (kind, key)),
            matched AS (SELECT * FROM counts WHERE {prefilter}),
            by_pattern AS (SELECT c.kind, c.key, c.accounts, 'listed: ' || min(p.reason) AS reason
                           FROM matched AS c JOIN __fm_excl_pat AS p
                             ON p.kind = c.kind AND regexp_matches(c.key, p.pattern)
                           GROUP BY c.kind, c.key, c.accounts),
            buildings AS (SELECT building FROM identifier_keys WHERE kind = 'address' GROUP BY building
                          HAVING count(DISTINCT key) > $units),
            by_building AS (SELECT DISTINCT c.kind, c.key, c.accounts, 'multi-unit building' AS reason
                            FROM counts AS c
                            JOIN (SELECT DISTINCT kind, key FROM identifier_keys
                                  WHERE kind = 'address' AND building IN (SELECT building FROM buildings)) AS k
                              USING (kind, key)),
            by_cap AS (SELECT kind, key, accounts, 'shared by more than ' || $cap || ' accounts' AS reason
                       FROM counts WHERE accounts > $cap),
            everything AS (SELECT * FROM by_list UNION ALL SELECT * FROM by_pattern
                           UNION ALL SELECT * FROM by_building UNION ALL SELECT * FROM by_cap)
            SELECT kind, key, max(accounts) AS accounts, string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reason
            FROM everything GROUP BY kind, key ORDER BY accounts DESC, kind, key""",
               {"cap": max_accounts_per_identifier, "units": max_units_per_building})
    finally:
        ws.sql("DROP TABLE IF EXISTS __fm_excl_raw")
        ws.sql("DROP TABLE IF EXISTS __fm_excl_pat")
    return ws.count("identifier_exclusions")


def _fingerprint(ws: Workspace) -> list[Any]:
    """What the keys depend on in the data: number of identifier rows and an order-free hash of them."""
    n, h = ws.sql("SELECT count(*), bit_xor(hash(account_id, kind, value)) FROM identifiers").fetchone()
    return [int(n), str(h)]


def prepare_identifiers(ws: Workspace, options: LinkOptions | None = None) -> dict[str, Any]:
    """Build `identifier_keys` and `identifier_exclusions` unless the workspace already holds them for these inputs.

    Whoever needs the keys first (stage `collect` or `detect`, or stage `link`) builds them, the
    others reuse them: a fingerprint of `identifiers` (rows and hash), the rules' version and the
    options is stored in the workspace meta data, and a table is rebuilt only when it differs.

    Returns:
        facts for the manifest: `identifier_keys` (rows), `n_excluded_identifiers`, and the 20
        largest exclusions as `{kind, accounts, reason}` (never the value: it may be personal data).
    """
    options = options or LinkOptions()
    data = _fingerprint(ws)
    keys_print = {"version": KEYS_VERSION, "identifiers": data, "country_code": options.default_country_code}
    if not (ws.has("identifier_keys") and ws.get_meta("identifier_keys") == keys_print):
        normalise_identifiers(ws, options.default_country_code)
        ws.set_meta("identifier_keys", keys_print)
    excl_print = {**keys_print, "cap": options.max_accounts_per_identifier, "units": options.max_units_per_building,
                  "exclude": json.loads(json.dumps(list(options.exclude_identifiers), default=str, sort_keys=True))}
    if not (ws.has("identifier_exclusions") and ws.get_meta("identifier_exclusions") == excl_print):
        build_identifier_exclusions(ws, default_country_code=options.default_country_code,
                                    max_accounts_per_identifier=options.max_accounts_per_identifier,
                                    max_units_per_building=options.max_units_per_building,
                                    extra_exclusions=options.exclude_identifiers)
        ws.set_meta("identifier_exclusions", excl_print)
    excluded = ws.sql("SELECT kind, accounts, reason FROM identifier_exclusions ORDER BY accounts DESC, kind, key").fetchall()
    return {
        "identifier_keys": ws.count("identifier_keys"),
        "n_excluded_identifiers": len(excluded),
        # The value itself is left out of the manifest: it may be personal data.
        "excluded_identifiers": [{"kind": k, "accounts": int(n), "reason": r} for k, n, r in excluded[:20]],
    }


def build_identifier_keys(ws: Workspace, *, default_country_code: str | None = None,
                          max_accounts_per_identifier: int = 20, max_units_per_building: int = 6,
                          extra_exclusions: Iterable[Mapping[str, str]] = ()) -> dict[str, Any]:
    """Write `identifier_keys` and `identifier_exclusions` (reusing them when up to date); return manifest facts.

    Kept for callers of the first version; `prepare_identifiers(ws, link_options(settings))` is the same.
    """
    return prepare_identifiers(ws, LinkOptions(default_country_code=default_country_code,
                                               max_accounts_per_identifier=max_accounts_per_identifier,
                                               max_units_per_building=max_units_per_building,
                                               exclude_identifiers=tuple(extra_exclusions)))


def usable_keys_sql(accounts_table: str | None = None) -> str:
    """SQL selecting `(account_id, kind, key)` of `identifier_keys` that may link accounts.

    Excluded identifiers (lists, multi-unit buildings, the popular-identifier cap) are left out;
    with `accounts_table` (a table or view with column `account_id`) only those accounts' keys.
    Needs `prepare_identifiers` to have run.
    """
    only = f"k.account_id IN (SELECT account_id FROM {accounts_table}) AND " if accounts_table else ""
    return f"""SELECT k.account_id, k.kind, k.key FROM identifier_keys AS k
               WHERE {only}NOT EXISTS (SELECT 1 FROM identifier_exclusions AS x WHERE x.kind = k.kind AND x.key = k.key)"""


def identifier_links(accounts_table: str) -> str:
    """SQL selecting pairs of accounts of `accounts_table` (column `account_id`) sharing a usable key.

    Columns: `src`, `dst` (src < dst), `kind`, `key`. Excluded identifiers link nothing.
    """
    return f"""WITH usable AS ({usable_keys_sql(accounts_table)})
               SELECT DISTINCT x.account_id AS src, y.account_id AS dst, x.kind, x.key
               FROM usable AS x JOIN usable AS y ON x.kind = y.kind AND x.key = y.key AND x.account_id < y.account_id"""
