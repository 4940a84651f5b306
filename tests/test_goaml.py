"""goAML STR drafts validate against the goAML 5.0.1 schema and never report a possible victim as a subject."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from conftest import require

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO.parent / "shared" / "reference" / "goaml" / "goAMLSchema.xsd"


@pytest.fixture(scope="module")
def schema():
    require(SCHEMA.exists(), f"the goAML reference schema is not at {SCHEMA}")
    import xmlschema

    return xmlschema.XMLSchema11(str(SCHEMA))


def test_every_case_has_a_valid_goaml_draft(scanned, schema):
    drafts = sorted((scanned.out / "str").glob("*.xml"))
    cases = sorted((scanned.out / "cases").glob("*.json"))
    assert drafts and [d.stem for d in drafts] == [c.stem for c in cases]
    for draft in drafts:
        errors = [f"{e.path}: {e.reason}" for e in schema.iter_errors(str(draft))]
        assert not errors, f"{draft.name}: {errors[:3]}"


def test_drafts_are_marked_and_carry_the_case(scanned):
    for path in sorted((scanned.out / "cases").glob("*.json")):
        case = json.loads(path.read_text())
        root = ET.parse(scanned.out / "str" / f"{case['case_id']}.xml").getroot()
        assert root.findtext("entity_reference") == f"DRAFT-{case['case_id']}"
        reason = root.findtext("reason")
        assert reason.startswith("DRAFT - NOT FILED") and "HUMAN TRAFFICKING FIN-2020-A008" in reason and "#PROTECT" in reason
        subjects = reason.split("Subjects: ", 1)[1].split(". Indicators", 1)[0]
        for v in case["possible_victims"]:
            assert v["account_id"] not in subjects, "a possible victim is never a reported subject"
        assert root.find("report_parties") is None
        numbers = [t.findtext("transactionnumber") for t in root.iter("transaction")]
        assert numbers == [e["txn_id"] for e in case["evidence"]][: len(numbers)] and numbers
        for ind in case["indicators"]:
            assert ind["indicator_id"] in reason


def test_a_user_schema_is_used_for_validation(small_csv, tmp_path, schema):
    import followmoney

    result = followmoney.scan(str(small_csv), out=tmp_path / "out", goaml_schema=str(SCHEMA))
    report = next(s for s in result.manifest["stages"] if s["name"] == "report")
    assert report["notes"]["goaml_schema"] == str(SCHEMA)
    assert report["notes"]["goaml_invalid"] == {}
    assert list((result.out / "str").glob("*.xml"))
    # A schema the draft cannot satisfy is reported, not silently passed.
    strict = tmp_path / "strict.xsd"
    strict.write_text(SCHEMA.read_text().replace('name="rentity_branch"', 'name="rentity_branch_x"'))
    result = followmoney.scan(str(small_csv), out=tmp_path / "out2", goaml_schema=str(strict))
    report = next(s for s in result.manifest["stages"] if s["name"] == "report")
    assert report["notes"]["goaml_invalid"]


def test_fiu_codes_are_mapped_and_fall_back_to_unknown(scanned, schema, tmp_path):
    import shutil

    from followmoney.goaml import GoamlWriter
    from followmoney.outputs.cases import case_record, list_cases
    from followmoney.workspace import Workspace

    copy = tmp_path / "ws.duckdb"
    shutil.copy(scanned.workspace, copy)
    ws = Workspace(copy)
    try:
        settings = ws.get_meta("profile")
        case = list_cases(ws)[0]
        record = case_record(ws, case)
        ids = [i["indicator_id"] for i in record["indicators"]]
        ws.set_meta("profile", {**settings, "goaml": {"indicator_codes": {i: f"HT-{i}" for i in ids}, "rentity_id": 77}})
        plain = ET.fromstring(GoamlWriter(ws).draft(record).split("\n", 2)[2])
        assert sorted(e.text for e in plain.find("report_indicators")) == sorted(f"HT-{i}" for i in ids)
        assert plain.findtext("rentity_id") == "77"
        # The reference schema's code list has only "-": unknown codes fall back so the draft still validates.
        checked = GoamlWriter(ws, SCHEMA)
        text = checked.draft(record)
        assert [e.text for e in ET.fromstring(text.split("\n", 2)[2]).find("report_indicators")] == ["-"]
        assert checked.errors == {}
    finally:
        ws.close()


def test_goaml_section_of_a_profile_reaches_the_draft(small_csv, tmp_path):
    import followmoney

    profile = tmp_path / "bank.yml"
    profile.write_text("goaml:\n  institution_name: Example Bank\n  rentity_id: 4242\n"
                       "  transmode_codes: {cash: K, p2p: P}\n", encoding="utf-8")
    result = followmoney.scan(str(small_csv), out=tmp_path / "out", profile=str(profile))
    draft = sorted((result.out / "str").glob("*.xml"))[0]
    root = ET.fromstring(draft.read_text().split("\n", 2)[2])
    assert root.findtext("rentity_id") == "4242"
    assert "Example Bank" in draft.read_text()
    codes = {e.text for e in root.iter("transmode_code")}
    assert codes and codes <= {"K", "P"}, codes


def test_unknown_goaml_key_is_a_profile_error(small_csv, tmp_path):
    import followmoney
    from followmoney.errors import ProfileError

    profile = tmp_path / "bank.yml"
    profile.write_text("goaml:\n  rentity: 1\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="Unknown profile key 'goaml.rentity'. Did you mean 'rentity_id'"):
        followmoney.scan(str(small_csv), out=tmp_path / "out", profile=str(profile))
