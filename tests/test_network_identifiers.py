"""Identifier normalisation, shared-identifier exclusions and the popularity cap."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import followmoney
from followmoney.network.identifiers import (
    ABBREVIATIONS,
    DOT_BLIND_DOMAINS,
    PLUS_TAG_DOMAINS,
    UNIT_WORDS,
    LinkOptions,
    address_sql,
    email_sql,
    ip_sql,
    link_options,
    normalise_identifiers,
    phone_sql,
    prepare_identifiers,
    usable_keys_sql,
)
from followmoney.workspace import Workspace


def _one(expr: str, value: str) -> str | None:
    return duckdb.connect().execute(f"SELECT {expr} FROM (SELECT ? AS v)", [value]).fetchone()[0]


# National numbers need a country code; the tests set it in the profile rather than by jurisdiction.
US = {"link": {"default_country_code": "1"}}


@pytest.mark.parametrize(("raw", "cc", "expected"), [
    ("(555) 201-3344", "1", "+15552013344"),
    ("+1 555 201 3344", "1", "+15552013344"),
    ("1-555-201-3344", "1", "+15552013344"),
    ("0044 20 7946 0958", "1", "+442079460958"),
    ("020 7946 0958", "44", "+442079460958"),
    ("+49 30 123456", None, "+4930123456"),
    ("030 123456", None, None),
    ("123", "1", None),
])
def test_phone_becomes_e164_with_the_default_country(raw, cc, expected):
    assert _one(phone_sql("v", cc), raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("Jane.Doe+ads@Gmail.com", "janedoe@gmail.com"),
    ("jane.doe@googlemail.com", "janedoe@gmail.com"),
    ("j.doe+work@outlook.com", "j.doe@outlook.com"),
    ("jane.doe+x@example.org", "jane.doe+x@example.org"),
    ("  JOHN@Example.ORG ", "john@example.org"),
    ("not-an-email", None),
])
def test_email_drops_case_and_the_dots_and_tags_providers_ignore(raw, expected):
    assert _one(email_sql("v"), raw) == expected


@pytest.mark.parametrize("raw", ["12 Main Street, Apt. 4B, Springfield", "12 MAIN ST APT 4B SPRINGFIELD",
                                 "12 main st #4b, springfield", "12 Main St., Unit 4b Springfield",
                                 "12 Main st  Apartment 4B Springfield"])
def test_address_spellings_agree_and_keep_the_unit(raw):
    assert _one(address_sql("v"), raw) == "12 main st #4b springfield"
    assert _one(address_sql("v", with_unit=False), raw) == "12 main st springfield"


def test_different_units_stay_different():
    assert _one(address_sql("v"), "12 Main St Apt 4B") != _one(address_sql("v"), "12 Main St Apt 5B")


def test_ip_octets_lose_leading_zeros():
    assert _one(ip_sql("v"), "010.001.002.003") == "10.1.2.3"
    assert _one(ip_sql("v"), "2001:DB8::1") == "2001:db8::1"


def _link_notes(result) -> dict:
    (stage,) = [s for s in result.manifest["stages"] if s["name"] == "link"]
    return stage["notes"]


def _ring_world(tmp_path: Path, shared_phone_holders: int) -> tuple[Path, Path]:
    """Two pass-through rings (mules M1, M2 -> C1; M3, M4 -> C2), and one phone shared by many."""
    rows = ["txn_id,ts,amount,currency,payer_account,beneficiary_account,channel"]
    n = 0
    for ring, mules in (("C1", ("M1", "M2")), ("C2", ("M3", "M4"))):
        for m in mules:
            for day in (1, 8, 15, 22):
                n += 1
                rows.append(f"t{n},2024-02-{day:02d}T09:00:00,2000,USD,P{n},{m},p2p")
                n += 1
                rows.append(f"t{n},2024-02-{day:02d}T13:00:00,1950,USD,{m},{ring},p2p")
    txns = tmp_path / "txns.csv"
    txns.write_text("\n".join(rows) + "\n", encoding="utf-8")
    parties = ["account_id,name,phone,address"]
    for i, m in enumerate(("M1", "M2", "M3", "M4")):
        parties.append(f"{m},Person {m},(212) 555-0199,{100 + i} Elm St")
    for i in range(shared_phone_holders - 4):
        parties.append(f"B{i:03d},Other {i},+1 212 555 0199,{200 + i} Oak Ave")
    for a in ("C1", "C2"):
        parties.append(f"{a},Boss {a},+1 646 555 01{a[-1]}0,9 Pine Rd")
    path = tmp_path / "parties.csv"
    path.write_text("\n".join(parties) + "\n", encoding="utf-8")
    return txns, path


def test_a_popular_phone_does_not_merge_two_rings(tmp_path: Path):
    txns, parties = _ring_world(tmp_path, shared_phone_holders=30)
    result = followmoney.scan(str(txns), parties=str(parties), out=tmp_path / "out", to_stage="link",
                              profile=US)
    groups = {frozenset(g["account_id"]) for g in result.clusters.partition_by("cluster_id")}
    assert groups == {frozenset({"M1", "M2", "C1"}), frozenset({"M3", "M4", "C2"})}
    note = _link_notes(result)
    assert note["n_excluded_identifiers"] >= 1
    assert {"kind": "phone", "accounts": 30} in [{k: e[k] for k in ("kind", "accounts")}
                                                 for e in note["excluded_identifiers"]]


def test_below_the_cap_the_shared_phone_links_the_rings(tmp_path: Path):
    txns, parties = _ring_world(tmp_path, shared_phone_holders=30)
    result = followmoney.scan(str(txns), parties=str(parties), out=tmp_path / "out", to_stage="link",
                              profile={"link": {**US["link"], "max_accounts_per_identifier": 50}})
    assert result.clusters["cluster_id"].n_unique() == 1
    con = duckdb.connect(str(result.workspace), read_only=True)
    try:
        details = {r[0] for r in con.execute("SELECT detail FROM cluster_edges WHERE kind = 'identifier'").fetchall()}
    finally:
        con.close()
    assert details == {"phone shared"}


def test_profile_exclusions_extend_the_shipped_lists(tmp_path: Path):
    txns, parties = _ring_world(tmp_path, shared_phone_holders=4)
    plain = followmoney.scan(str(txns), parties=str(parties), out=tmp_path / "a", to_stage="link", profile=US)
    assert plain.clusters["cluster_id"].n_unique() == 1, "the four mules share one phone"
    excluded = followmoney.scan(str(txns), parties=str(parties), out=tmp_path / "b", to_stage="link",
                                profile={"link": {**US["link"], "exclude_identifiers": [
                                    {"kind": "phone", "value": "212-555-0199", "reason": "women's shelter"}]}})
    assert excluded.clusters["cluster_id"].n_unique() == 2
    reasons = [e["reason"] for e in _link_notes(excluded)["excluded_identifiers"]]
    assert "listed: women's shelter" in reasons


# --- The fast normalisation equals the first, one-regular-expression-per-rule version ----------------

def _reference_address_sql(col: str, with_unit: bool = True) -> str:
    """The first address rules, verbatim: one regexp_replace per street word (~25 passes per value)."""
    a = f"lower({col})"
    a = f"regexp_replace({a}, '#\\s*', ' # ', 'g')"
    a = f"regexp_replace({a}, '[^a-z0-9# ]+', ' ', 'g')"
    for long, short in ABBREVIATIONS:
        a = f"regexp_replace({a}, '\\b{long}\\b', '{short}', 'g')"
    a = f"regexp_replace({a}, '\\b(?:{UNIT_WORDS})\\s+([a-z0-9]+)\\b', ' #\\1', 'g')"
    a = f"regexp_replace({a}, '#\\s*([a-z0-9]+)', '#\\1', 'g')"
    if not with_unit:
        a = f"regexp_replace({a}, '#[a-z0-9]*', ' ', 'g')"
    return f"nullif(trim(regexp_replace({a}, '\\s+', ' ', 'g')), '')"


def _reference_email_sql(col: str) -> str:
    """The first e-mail rule, verbatim (SIMILAR TO, the lower-cased value recomputed in every branch)."""
    e = f"lower(trim({col}))"
    domain = f"replace(split_part({e}, '@', 2), 'googlemail.com', 'gmail.com')"
    local = f"split_part({e}, '@', 1)"
    plus = ", ".join(f"'{d}'" for d in PLUS_TAG_DOMAINS)
    dots = ", ".join(f"'{d}'" for d in DOT_BLIND_DOMAINS)
    local = f"CASE WHEN {domain} IN ({plus}) THEN split_part({local}, '+', 1) ELSE {local} END"
    local = f"CASE WHEN {domain} IN ({dots}) THEN replace({local}, '.', '') ELSE {local} END"
    return f"CASE WHEN {e} SIMILAR TO '[^@\\s]+@[^@\\s]+\\.[^@\\s]+' THEN ({local}) || '@' || {domain} END"


TRICKY_ADDRESSES = [
    "12 Main Street, Apt. 4B, Springfield", "12 MAIN ST APT 4B SPRINGFIELD", "12 main st #4b, springfield",
    "# apt 4 main st", "apt # 4 main st", "apt no 5 Mount Street", "unit apt 5", "Unit 5 Unit 6", "##12 ###",
    "12 Main St #", "#", "", "   ", "apt", "Apt.", "12 Av. de l'Opéra", "İstanbul Cd. No 5", "12\tMain\nStreet",
    "Flat 3, 10 North West Road", "StreetStreet street-street", "Saint Mount Building Floor 3",
    "12 main st apartment-4b", "PO Box 12", "room 101 hotel mount", "Suite #200, 1 Parkway Place", "no no no 4",
    "number 9 avenue av ave", "12 main st ste 4 rm 5", "c/o 12 main_st #4-b", "ÉCOLE 3 rue", "12 main st. #04",
]


_CON = duckdb.connect()


def _pairs(exprs: tuple[str, str], values: list[str]) -> list[tuple]:
    """(value, first expression, second expression) for each value, evaluated as one column."""
    return _CON.execute(f"SELECT v, {exprs[0]}, {exprs[1]} FROM (SELECT unnest(?) AS v)", [values]).fetchall()


@pytest.mark.parametrize("with_unit", [True, False])
def test_fast_address_rules_equal_the_regex_per_rule_reference(with_unit):
    rows = _pairs((address_sql("v", with_unit), _reference_address_sql("v", with_unit)), TRICKY_ADDRESSES)
    assert [(v, a) for v, a, _ in rows] == [(v, b) for v, _, b in rows]


_WORDS = ([w for pair in ABBREVIATIONS for w in pair] + UNIT_WORDS.split("|")
          + ["12", "4b", "main", "elm", "x", "#", "##", "# ", "-", ",", ".", "_", "é", "'", "\t", "  ", "Street", "APT"])


@settings(max_examples=120, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_WORDS), max_size=8).map(" ".join)
                | st.text(alphabet="ab1# .,-_éÉ\tstreetaptunitno", max_size=20), min_size=1, max_size=40))
def test_fast_address_rules_equal_the_reference_on_generated_addresses(values):
    for with_unit in (True, False):
        rows = _pairs((address_sql("v", with_unit), _reference_address_sql("v", with_unit)), values)
        assert [(v, a) for v, a, _ in rows] == [(v, b) for v, _, b in rows]


TRICKY_EMAILS = ["Jane.Doe+ads@Gmail.com", "a@b", "a@b.c", "@gmail.com", "x@@y.com", " j.d+x+y@googlemail.com ",
                 "J.D@xgooglemail.com", "a b@c.com", "a.b+c@yahoo.com", "", "+@gmail.com", ".@gmail.com"]


def test_email_rule_equals_the_first_version():
    rows = _pairs((email_sql("v"), _reference_email_sql("v")), TRICKY_EMAILS)
    assert [(v, a) for v, a, _ in rows] == [(v, b) for v, _, b in rows]


def _identifiers_ws(rows: list[tuple[str, str, str]]) -> Workspace:
    ws = Workspace(":memory:")
    ws.sql("CREATE TABLE identifiers (account_id VARCHAR, kind VARCHAR, value VARCHAR, source VARCHAR)")
    ws.con.executemany("INSERT INTO identifiers VALUES (?, ?, ?, 'parties')", rows)
    return ws


_ROWS = ([(f"A{i}", "address", a) for i, a in enumerate(TRICKY_ADDRESSES)]
         + [(f"B{i}", "address", a) for i, a in enumerate(TRICKY_ADDRESSES[:10])]
         + [(f"E{i}", "email", e) for i, e in enumerate(TRICKY_EMAILS)]
         + [(f"P{i}", "phone", p) for i, p in enumerate(["+15552013344", "5552013344", "15552013344", "123",
                                                         "00442079460958", "02079460958", "+"])]
         + [("D1", "device", " DEV-1 "), ("D2", "device", "dev-1"), ("I1", "ip", "010.001.002.003"),
            ("I2", "ip", "2001:DB8::1"), ("I3", "ip", "999.1.1.1"), ("X1", "handle", " @Jane ")])


@pytest.mark.parametrize("cc", ["1", "44", None])
def test_keys_table_equals_the_per_row_rules(cc):
    ws = _identifiers_ws(_ROWS)
    normalise_identifiers(ws, cc)
    got = sorted(ws.sql("SELECT account_id, kind, key, building FROM identifier_keys").fetchall())
    per_row = {"phone": phone_sql("value", cc), "email": _reference_email_sql("value"),
               "address": _reference_address_sql("value"), "device": "lower(trim(value))", "ip": ip_sql("value")}
    cases = " ".join(f"WHEN kind = '{k}' THEN {e}" for k, e in per_row.items())
    expected = sorted(ws.sql(f"""SELECT DISTINCT account_id, kind, key,
                                        CASE WHEN kind = 'address' THEN {_reference_address_sql('value', False)} END
                                 FROM (SELECT *, CASE {cases} ELSE lower(trim(value)) END AS key FROM identifiers)
                                 WHERE key IS NOT NULL""").fetchall())
    assert got == expected
    assert ("X1", "handle", "@jane", None) in got


def test_keys_are_reused_until_the_identifiers_or_the_options_change():
    ws = _identifiers_ws([("A", "phone", "5552013344"), ("B", "phone", "+15552013344"), ("C", "phone", "5552013344")])
    facts = prepare_identifiers(ws, LinkOptions(default_country_code="1", max_accounts_per_identifier=2))
    assert facts["n_excluded_identifiers"] == 1, "three accounts share a phone, the cap is two"
    assert ws.sql(f"SELECT count(*) FROM ({usable_keys_sql()})").fetchone()[0] == 0
    ws.sql("INSERT INTO identifier_keys VALUES ('MARK', 'phone', 'x', NULL)")
    prepare_identifiers(ws, LinkOptions(default_country_code="1", max_accounts_per_identifier=3))
    assert ws.sql("SELECT count(*) FROM identifier_keys WHERE account_id = 'MARK'").fetchone()[0] == 1, "keys reused"
    assert ws.count("identifier_exclusions") == 0, "exclusions follow the new cap"
    ws.sql("INSERT INTO identifiers VALUES ('D', 'phone', '5550000000', 'parties')")
    prepare_identifiers(ws, LinkOptions(default_country_code="1", max_accounts_per_identifier=3))
    assert ws.sql("SELECT count(*) FROM identifier_keys WHERE account_id = 'MARK'").fetchone()[0] == 0, "rebuilt"
    assert ws.sql("SELECT count(*) FROM identifier_keys").fetchone()[0] == 4
    prepare_identifiers(ws, LinkOptions(default_country_code=None, max_accounts_per_identifier=3))
    assert ws.sql("SELECT count(*) FROM identifier_keys").fetchone()[0] == 1, "national numbers need a country code"


def test_link_options_read_the_profile_and_the_jurisdiction():
    o = link_options({"jurisdiction": "UK", "link": {"max_accounts_per_identifier": 5,
                                                     "exclude_identifiers": [{"kind": "phone", "value": "1"}]}})
    assert (o.default_country_code, o.max_accounts_per_identifier, o.max_units_per_building) == ("44", 5, 6)
    assert o.exclude_identifiers == ({"kind": "phone", "value": "1"},)
