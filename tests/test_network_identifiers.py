"""Identifier normalisation, shared-identifier exclusions and the popularity cap."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import followmoney
from followmoney.network.identifiers import address_sql, email_sql, ip_sql, phone_sql


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
