"""The FollowTheMoney export validated by the followthemoney package itself (test dependency only).

`tests/test_network_exports.py` checks the export against model rules restated in the test; this
file asks the real model, so a change in the FtM schema (or in our writer) cannot pass unnoticed.
"""

from __future__ import annotations

import importlib.util
import json

import pytest
from conftest import require

from followmoney.network.exports import write_exports
from followmoney.workspace import Workspace


@pytest.fixture(autouse=True)
def _followthemoney_installed() -> None:
    # Part of the `test` extra: skipped in a bare checkout, a failure under CI.
    require(importlib.util.find_spec("followthemoney") is not None, "followthemoney (the `test` extra)")


@pytest.fixture(scope="module")
def entities(scanned, tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("ftm")
    ws = Workspace(str(scanned.workspace))
    try:
        write_exports(ws, out)
    finally:
        ws.close()
    lines = (out / "exports" / "ftm.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_every_entity_is_valid_in_the_followthemoney_model(entities):
    from followthemoney import model

    assert entities, "the shared world has clusters, so the export has entities"
    by_id = {e["id"]: e for e in entities}
    assert len(by_id) == len(entities)
    problems: list[str] = []
    for e in entities:
        schema = model.get(e["schema"])
        if schema is None or schema.abstract:
            problems.append(f"{e['id']}: {e['schema']} is not a concrete FtM schema")
            continue
        for name in schema.required:
            if not e["properties"].get(name):
                problems.append(f"{e['id']}: {e['schema']} lacks required {name}")
        for name, values in e["properties"].items():
            prop = schema.get(name)
            if prop is None:
                problems.append(f"{e['id']}: {e['schema']} has no property {name}")
                continue
            for value in values:
                if prop.type.name == "number":
                    try:
                        float(value)
                    except ValueError:
                        problems.append(f"{e['id']}.{name}: {value!r} is not a number")
                elif prop.type.name == "entity":
                    target = by_id.get(value)
                    if target is None:
                        problems.append(f"{e['id']}.{name}: {value} is not in the export")
                    elif not model.get(target["schema"]).is_a(prop.range):
                        problems.append(f"{e['id']}.{name}: {target['schema']} is not a {prop.range.name}")
                elif prop.type.clean(value) != value:
                    problems.append(f"{e['id']}.{name}: {value!r} is not a clean {prop.type.name}")
        # The package reads the entity back unchanged.
        proxy = model.get_proxy(e, cleaned=False)
        assert proxy.to_dict()["properties"] == e["properties"]
    assert not problems, problems[:20]


def test_the_export_covers_accounts_owners_and_payments(entities):
    schemas = {e["schema"] for e in entities}
    assert {"BankAccount", "Ownership", "Payment"} <= schemas
    assert schemas & {"Person", "Company", "LegalEntity", "Organization"}
