"""One harness over every indicator's case file: positives must hit, near misses must not."""

from __future__ import annotations

from datetime import datetime

import pytest

from followmoney import registry
from followmoney.testing import load_cases, run_case

CASES = [(cls, case) for cls in registry.all() for case in load_cases(cls)]


@pytest.mark.parametrize(("cls", "case"), CASES, ids=[f"{c.id}-{k.name}" for c, k in CASES])
def test_case(cls, case):
    hits = run_case(case, cls)
    assert sorted({h["account_id"] for h in hits}) == sorted(case.expect_hits)
    for account, evidence in case.expect_evidence.items():
        got = [t for h in hits if h["account_id"] == account for t in h["evidence_txn_ids"]]
        assert got == evidence
    rows = {r["txn_id"]: r for r in case.rows.to_pylist()}
    for h in hits:
        assert 0.0 <= h["score"] <= 1.0
        assert h["evidence_txn_ids"], "a hit without evidence explains nothing"
        for txn in h["evidence_txn_ids"]:
            row = rows[txn]
            assert h["account_id"] in (row["payer_account"], row["beneficiary_account"])
            assert h["window_start"] <= datetime.fromisoformat(row["ts"]) <= h["window_end"]


@pytest.mark.parametrize("cls", registry.all(), ids=lambda c: c.id)
def test_every_indicator_has_positive_and_near_miss_cases(cls):
    cases = load_cases(cls)
    assert any(c.expect_hits for c in cases), "needs a positive case"
    negatives = [c for c in cases if not c.expect_hits]
    assert negatives, "needs a negative case"
    # A near miss is a case with rows: an empty table proves nothing.
    assert all(c.rows.num_rows > 0 for c in negatives)


FLIPS = [(cls, case, param, value) for cls, case in CASES for param, value in case.flips.items()]


@pytest.mark.parametrize(("cls", "case", "param", "value"), FLIPS,
                         ids=[f"{c.id}-{k.name}-{p}" for c, k, p, _ in FLIPS])
def test_moving_one_parameter_across_the_boundary_flips_the_outcome(cls, case, param, value):
    assert case.expect_hits, "flips belong to positive cases"
    assert run_case(case, cls), "the case must hit with its own parameters"
    flipped = type(case)(**{**case.__dict__, "params": {**case.params, param: value}})
    assert run_case(flipped, cls) == [], f"{param}={value} should remove the hit"


@pytest.mark.parametrize("cls", registry.all(), ids=lambda c: c.id)
def test_every_numeric_parameter_has_a_flip(cls):
    from followmoney.params import Interval

    numeric = {p.name for p in cls.params if isinstance(p.constraint, Interval)}
    flipped = {p for case in load_cases(cls) for p in case.flips}
    assert numeric <= flipped, f"no case flips {sorted(numeric - flipped)}"
