"""Case files built from rows fetched for all cases at once equal those fetched case by case."""

from __future__ import annotations

import json

from followmoney.outputs.cases import CaseData, case_json, case_record, list_cases, stage_case_tables
from followmoney.workspace import Workspace


def test_batched_case_records_equal_per_case_records(scanned, tmp_path) -> None:
    import shutil

    work = tmp_path / "workspace.duckdb"
    shutil.copy(scanned.workspace, work)  # the session's workspace stays untouched
    ws = Workspace(work)
    try:
        cases = list_cases(ws)
        assert len(cases) >= 2, "the shared world should give several cases"
        stage_case_tables(ws, cases)
        data = CaseData(ws, cases)
        for case in cases:
            batched = case_json(case_record(ws, case, data=data))
            alone = case_json(case_record(ws, case))
            assert batched == alone, case.case_id
        # And the case files the scan wrote are what the batched path gives.
        for case in cases[:5]:
            written = (scanned.out / "cases" / f"{case.case_id}.json").read_text(encoding="utf-8")
            assert json.loads(written)["key_figures"] == json.loads(case_json(case_record(ws, case, data=data)))["key_figures"]
    finally:
        ws.close()


def test_cases_not_staged_fall_back_to_the_full_tables(scanned, tmp_path) -> None:
    import shutil

    work = tmp_path / "workspace.duckdb"
    shutil.copy(scanned.workspace, work)
    ws = Workspace(work)
    try:
        cases = list_cases(ws)
        stage_case_tables(ws, cases[:1])  # only the first case staged
        data = CaseData(ws, cases)
        assert data.staged == {cases[0].case_id}
        for case in cases[:3]:
            assert case_json(case_record(ws, case, data=data)) == case_json(case_record(ws, case))
    finally:
        ws.close()
