"""Exports: GraphML and GEXF parse back, the i2 CSV has its columns, FtM entities follow the model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import networkx as nx
import pytest

from followmoney.errors import FollowMoneyError
from followmoney.network.exports import I2_COLUMNS, ftm_id, write_exports
from followmoney.workspace import Workspace

# Derived from the followthemoney model files (followthemoney/schema/*.yaml: Thing, LegalEntity,
# Person, Asset, BankAccount, Interval, Value, Interest, Ownership, Payment). The package itself is
# ~200 MB with a compiled dependency, so the test checks the export against this extract instead.
FTM_MODEL: dict[str, dict[str, object]] = {
    "Person": {"props": {"name": "string", "birthDate": "date", "address": "string", "phone": "string",
                         "email": "string"}, "required": ()},
    "LegalEntity": {"props": {"name": "string", "address": "string", "phone": "string", "email": "string"},
                    "required": ()},
    "BankAccount": {"props": {"name": "string", "accountNumber": "string", "accountType": "string",
                              "notes": "string"}, "required": ()},
    "Ownership": {"props": {"owner": "entity:LegalEntity", "asset": "entity:BankAccount", "role": "string"},
                  "required": ("owner", "asset")},
    "Payment": {"props": {"payer": "entity:LegalEntity", "beneficiary": "entity:LegalEntity",
                          "payerAccount": "entity:BankAccount", "beneficiaryAccount": "entity:BankAccount",
                          "amount": "number", "currency": "string", "date": "date", "transactionNumber": "string",
                          "programme": "string", "purpose": "string"},
                "required": ("payer", "beneficiary")},
}
LEGAL_ENTITIES = {"Person", "LegalEntity"}


def _exports(scanned, tmp_path: Path) -> Path:
    ws = Workspace(str(scanned.workspace))
    try:
        write_exports(ws, tmp_path)
    finally:
        ws.close()
    return tmp_path / "exports"


@pytest.fixture(scope="module")
def exports(scanned, tmp_path_factory) -> Path:
    return _exports(scanned, tmp_path_factory.mktemp("exports"))


def test_scan_writes_the_exports(scanned):
    for name in ("clusters.graphml", "clusters.gexf", "i2_links.csv", "ftm.jsonl"):
        assert (scanned.out / "exports" / name).stat().st_size > 0


def test_graphml_and_gexf_parse_back_with_the_cluster_graph(exports, scanned):
    members = set(scanned.clusters["account_id"])
    for graph in (nx.read_graphml(exports / "clusters.graphml"), nx.read_gexf(exports / "clusters.gexf")):
        assert set(graph.nodes) == members
        assert graph.number_of_edges() > 0
        roles = {n: d["role"] for n, d in graph.nodes(data=True)}
        assert roles == {r["account_id"]: r["role"] or "" for r in scanned.clusters.iter_rows(named=True)}
        assert {d["kind"] for *_, d in graph.edges(data=True)} <= {"identifier", "flow", "common_beneficiary"}


def test_i2_csv_has_the_documented_columns_and_one_row_per_edge(exports, scanned):
    with (exports / "i2_links.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0]) == list(I2_COLUMNS)
    graph = nx.read_graphml(exports / "clusters.graphml")
    assert len(rows) == graph.number_of_edges()
    assert all(r["Link Direction"] in ("->", "--") for r in rows)
    doc = Path(__file__).parents[1].joinpath("docs", "network.md").read_text(encoding="utf-8")
    assert all(f"`{c}`" in doc for c in I2_COLUMNS)


def test_ftm_entities_follow_the_model_and_reference_each_other(exports):
    entities = [json.loads(line) for line in (exports / "ftm.jsonl").read_text(encoding="utf-8").splitlines()]
    by_id = {e["id"]: e for e in entities}
    assert len(by_id) == len(entities), "ids are unique"
    schemas = {e["schema"] for e in entities}
    assert {"BankAccount", "Ownership", "Payment"} <= schemas and schemas & LEGAL_ENTITIES
    for e in entities:
        model = FTM_MODEL[e["schema"]]
        props = e["properties"]
        assert set(props) <= set(model["props"]), (e["schema"], set(props) - set(model["props"]))
        assert all(k in props for k in model["required"])
        for name, values in props.items():
            assert isinstance(values, list) and values and all(isinstance(v, str) for v in values)
            kind = model["props"][name]
            for v in values:
                if kind == "number":
                    float(v)
                elif kind == "date":
                    assert len(v) == 10 and v[4] == "-" and v[7] == "-"
                elif kind.startswith("entity:"):
                    target = by_id[v]["schema"]
                    wanted = kind.split(":")[1]
                    assert target == wanted or (wanted == "LegalEntity" and target in LEGAL_ENTITIES)


def test_ftm_ids_are_deterministic(exports, scanned, tmp_path):
    again = _exports(scanned, tmp_path)
    assert (again / "ftm.jsonl").read_bytes() == (exports / "ftm.jsonl").read_bytes()
    assert ftm_id("BankAccount", "A1") == ftm_id("BankAccount", "A1") != ftm_id("BankAccount", "A2")


def test_too_many_transactions_name_the_setting_to_raise(scanned, tmp_path):
    ws = Workspace(str(scanned.workspace))
    try:
        with pytest.raises(FollowMoneyError, match=r"link\.max_edges"):
            write_exports(ws, tmp_path, max_edges=1)
    finally:
        ws.close()
