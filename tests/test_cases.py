"""Case files: one case per planted scenario, subjects and possible victims apart, evidence, determinism."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from followmoney.outputs.cases import VICTIM_ROLES


def _cases(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "cases").glob("*.json"))]


def _members(case: dict) -> set[str]:
    return {s["account_id"] for s in case["subjects"]} | {v["account_id"] for v in case["possible_victims"]}


def test_cases_are_exactly_the_clusters_and_lone_alerts(scanned):
    clusters = pl.read_parquet(scanned.out / "clusters.parquet")
    expected = {cid: set(g["account_id"]) for (cid,), g in clusters.group_by("cluster_id")}
    clustered = set(clusters["account_id"])
    for acct in scanned.alerts["account_id"]:
        if acct not in clustered:
            expected[f"A-{acct}"] = {acct}
    got = {c["case_id"]: _members(c) for c in _cases(scanned.out)}
    assert got == expected
    roles = dict(zip(clusters["account_id"], clusters["role"], strict=True))
    for case in _cases(scanned.out):
        for s in case["subjects"]:
            assert roles.get(s["account_id"], s["role"]) == s["role"]


def test_victims_are_described_never_subjects(scanned):
    clusters = pl.read_parquet(scanned.out / "clusters.parquet")
    victims = set(clusters.filter(pl.col("role").is_in(VICTIM_ROLES))["account_id"])
    assert victims, "the shared world plants mules"
    for case in _cases(scanned.out):
        subjects = {s["account_id"] for s in case["subjects"]}
        assert not subjects & victims
        for v in case["possible_victims"]:
            assert v["account_id"] in case["narrative"], "a possible victim is described in the narrative"
        text = (scanned.out / "str" / f"{case['case_id']}.txt").read_text()
        subject_line = next(line for line in text.splitlines() if line.startswith("Subjects:"))
        assert not any(v in subject_line for v in victims)
        assert "HUMAN TRAFFICKING FIN-2020-A008" in text and "#PROTECT" in text


def test_case_evidence_is_real_and_followable(scanned, world):
    txns = pl.read_parquet(world.paths["transactions"]).select("txn_id", "amount", "payer_account", "beneficiary_account")
    by_id = {r["txn_id"]: r for r in txns.iter_rows(named=True)}
    for case in _cases(scanned.out):
        members = _members(case)
        ids = {t for h in case["hits"] for t in h["evidence_txn_ids"]}
        assert ids == {e["txn_id"] for e in case["evidence"]}
        for e in case["evidence"]:
            raw = by_id[e["txn_id"]]
            assert round(raw["amount"], 2) == e["amount"]
            assert {raw["payer_account"], raw["beneficiary_account"]} & members
        for ind in case["indicators"]:
            assert ind["indicator_id"] in case["narrative"]
        k = case["key_figures"]
        assert k["evidence_txns"] == len(case["evidence"])
        assert k["accounts"] == len(members)
        # Attributed trace amounts never exceed what the case paid out.
        assert k["traced_out"] <= k["total_out"] + 0.01 * max(1, len(case["trace"]["ends"]))


def test_assets_and_victims_tables(scanned):
    import duckdb

    con = duckdb.connect(str(scanned.workspace), read_only=True)
    try:
        victims = con.sql("SELECT case_id, account_id, received, taken FROM candidate_victims").fetchall()
        proceeds = dict(con.sql("SELECT case_id, estimated_proceeds FROM case_proceeds").fetchall())
        cats = {r[0] for r in con.sql("SELECT DISTINCT category FROM assets").fetchall()}
    finally:
        con.close()
    assert victims and all(0 <= taken <= received + 1e-6 for _, _, received, taken in victims)
    assert all(v >= 0 for v in proceeds.values()) and len(proceeds) == len(_cases(scanned.out))
    assert {"cash_out", "balance_left"} <= cats


def test_case_files_and_drafts_are_deterministic(small_csv: Path, tmp_path: Path):
    import followmoney

    outs = []
    for run in ("a", "b"):
        outs.append(followmoney.scan(str(small_csv), out=tmp_path / run).out)
    for folder in ("cases", "str"):
        a = {p.name: p.read_bytes() for p in sorted((outs[0] / folder).iterdir())}
        b = {p.name: p.read_bytes() for p in sorted((outs[1] / folder).iterdir())}
        assert a and a == b


def test_explain_prints_why_an_alert_exists(scanned, tmp_path: Path):
    from followmoney.cli.main import main

    ws = tmp_path / "ws.duckdb"
    shutil.copy(scanned.workspace, ws)
    top = scanned.alerts.sort("rank").row(0, named=True)
    runner = CliRunner()
    for arg in (top["account_id"], "1", "#1"):
        res = runner.invoke(main, ["explain", arg, "--workspace", str(ws)])
        assert res.exit_code == 0, res.output
        assert top["account_id"] in res.output
        for ind in top["indicators"]:
            assert ind in res.output
    res = runner.invoke(main, ["explain", "NO-SUCH-ACCOUNT", "--workspace", str(ws)])
    assert res.exit_code == 2 and "not alerted" in res.output


def test_trace_command_on_a_workspace(scanned, tmp_path: Path):
    from followmoney.cli.main import main

    ws = tmp_path / "ws.duckdb"
    shutil.copy(scanned.workspace, ws)
    clusters = scanned.clusters
    ctrl = clusters.filter(pl.col("role") == "controller")["account_id"][0]
    chart = tmp_path / "flow.png"
    res = CliRunner().invoke(main, ["trace", ctrl, "--workspace", str(ws), "--direction", "both", "--rule", "fifo",
                                    "--depth", "2", "--chart", str(chart)])
    assert res.exit_code == 0, res.output
    assert "Where" in res.output and "total" in res.output
    assert (tmp_path / "flow-down.png").stat().st_size > 0 and (tmp_path / "flow-up.png").stat().st_size > 0
