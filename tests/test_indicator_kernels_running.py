"""Kernels that replaced SQL rules give the very hits the former SQL gave, on random postings.

RUN10 living_costs_for_others and FLW02 pass_through_depleted were SQL indicators before they moved
into the shared kernel pass. Their former SQL is the oracle
(`kernel_oracle.py`): on random transactions both must give the same hits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_oracle import SETTINGS, T0, TIMEZONES, assert_same_hits, former_sql, run_both

# --------------------------------------------------------------------------- RUN10

RUN10_SQL = former_sql("RUN10")
"""RUN10's SQL before it became a kernel (upkeep groups written out)."""

RUN10_MCC = ["5411", "5411", "7011", "5912", "5651", "5814", "5311", "6513"]
"""Upkeep MCCs (grocery, lodging, pharmacy, clothing, fast food) and two that are not (5311, rent 6513)."""

run10_txn = st.tuples(
    st.integers(0, 45 * 86400),                  # seconds since T0
    st.sampled_from(["A", "B", "C", "D"]),       # A, B declare an income; C declares 0; D is no customer
    st.sampled_from(RUN10_MCC + ["credit"]),
    st.integers(100, 9000),                      # cents
)


def _run10_rows(draws: list[tuple]) -> list[dict[str, Any]]:
    # One fixed purchase with an MCC, so the rule is never skipped for want of that column.
    rows = [{"txn_id": "t9999", "ts": T0, "amount": 5.0, "currency": "USD", "payer_account": "Z",
             "beneficiary_account": "MZ", "channel": "card", "mcc": "5999"}]
    for n, (sec, acct, mcc, cents) in enumerate(draws):
        r = {"txn_id": f"t{n:04d}", "ts": T0 + timedelta(seconds=sec), "amount": cents / 100, "currency": "USD"}
        if mcc == "credit":
            r.update(payer_account="EMP", beneficiary_account=acct, channel="ach")
        else:
            r.update(payer_account=acct, beneficiary_account=f"M{mcc}", channel="card", mcc=mcc)
        rows.append(r)
    return rows


RUN10_PARTIES = pa.table({"account_id": ["A", "B", "B", "C"], "party_id": ["PA", "PB", "PB2", "PC"],
                          "declared_income": [3650.0, 1000.0, 7300.0, 0.0]})


@SETTINGS
@given(st.lists(run10_txn, min_size=1, max_size=60), st.sampled_from(TIMEZONES), st.sampled_from([1.0, 2.0]),
       st.sampled_from([0.2, 0.5]), st.sampled_from([5, 7]))
def test_run10_kernel_matches_former_sql(draws, timezone, multiple, income_share, window_days):
    params = {"window_days": window_days, "baseline_days": 10, "multiple": multiple, "income_share": income_share}
    got, want = run_both("RUN10", RUN10_SQL, _run10_rows(draws), params, RUN10_PARTIES, timezone)
    assert_same_hits(got, want)


def test_run10_oracle_is_not_vacuous():
    """A hand-made positive: both sides flag it (so the property above compares real hits)."""
    draws = [(d * 86400, "A", "5411", 1000) for d in range(0, 12, 2)] + [(d * 86400 + 3600, "A", "7011", 6000)
                                                                        for d in range(14, 17)]
    got, want = run_both("RUN10", RUN10_SQL, _run10_rows(draws), {"window_days": 5, "baseline_days": 10},
                         RUN10_PARTIES)
    assert want and [h[0] for h in want] == ["A"]
    assert_same_hits(got, want)


# --------------------------------------------------------------------------- FLW02

FLW02_SQL = former_sql("FLW02")
"""FLW02's SQL before it became a kernel."""

flw02_txn = st.tuples(
    st.integers(0, 30 * 24).map(lambda h: h * 3600),  # whole hours: ties between postings happen
    st.sampled_from(["A", "B"]),
    # Mostly money passing through, so that periods qualify often enough to compare real hits.
    st.sampled_from(["pass"] * 8 + ["in", "out", "grocery", "utilities", "rent_memo", "cash_out"]),
    st.integers(100, 90000),                          # cents
    st.integers(0, 120),                              # hours until the money leaves again ("pass")
    st.sampled_from([1.0, 1.0, 0.95, 0.5]),           # share that leaves again ("pass")
)


def _flw02_rows(draws: list[tuple]) -> list[dict[str, Any]]:
    # One fixed purchase with an MCC and a memo, so the rule is never skipped for want of those columns.
    rows: list[dict[str, Any]] = [{"txn_id": "t9999", "ts": T0, "amount": 5.0, "currency": "USD", "payer_account": "Z",
                                   "beneficiary_account": "MZ", "channel": "card", "mcc": "5999", "memo": "x"}]

    def add(sec: int, amount: float, payer: str, beneficiary: str, channel: str, mcc: str | None = None,
            memo: str | None = None) -> None:
        rows.append({"txn_id": f"t{len(rows):04d}", "ts": T0 + timedelta(seconds=sec), "amount": round(amount, 2),
                     "currency": "USD", "payer_account": payer, "beneficiary_account": beneficiary,
                     "channel": channel, "mcc": mcc, "memo": memo})

    for sec, acct, kind, cents, delay, share in draws:
        amount = cents / 100
        if kind in ("pass", "in"):
            add(sec, amount, "SRC", acct, "p2p")
            if kind == "pass":
                add(sec + delay * 3600, amount * share, acct, "DST", "transfer")
        elif kind == "out":
            # "parent" holds the letters of "rent" but not the word: not a living cost.
            add(sec, amount, acct, "DST", "p2p", memo="for parents" if delay % 2 else "thanks")
        elif kind == "cash_out":
            add(sec, amount, acct, None, "atm")
        elif kind == "rent_memo":
            add(sec, amount / 10, acct, "LL", "transfer", memo="May Rent")
        else:
            add(sec, amount / 10, acct, f"M-{kind}", "card", mcc="5411" if kind == "grocery" else "4900")
    return rows


@SETTINGS
@given(st.lists(flw02_txn, min_size=1, max_size=60), st.sampled_from([0.5, 0.8]), st.sampled_from([48, 96]),
       st.sampled_from([0.05, 0.3]))
def test_flw02_kernel_matches_former_sql(draws, min_low_days_share, max_hold_hours, max_living_share):
    params = {"period_days": 7, "min_inflow": 400.0, "min_out_ratio": 0.8, "max_hold_hours": max_hold_hours,
              "max_balance_share": 0.3, "inflow_days": 5, "min_low_days_share": min_low_days_share,
              "max_living_share": max_living_share}
    got, want = run_both("FLW02", FLW02_SQL, _flw02_rows(draws), params)
    assert_same_hits(got, want)


def test_flw02_oracle_is_not_vacuous():
    """Money in and straight out again, every day for two weeks: both sides flag it."""
    draws = [(d * 86400 + 9 * 3600, "A", "pass", 50000, 2, 1.0) for d in range(16)] + [(20 * 86400, "B", "in", 100, 0, 1.0)]
    got, want = run_both("FLW02", FLW02_SQL, _flw02_rows(draws), {"period_days": 7})
    assert want and {h[0] for h in want} == {"A"}
    assert_same_hits(got, want)


def test_flw02_evidence_is_the_twenty_largest_per_side():
    """30 credits and 30 debits in one period, amounts tied in pairs: the cut at 20 breaks ties by txn_idx."""
    draws = [(d * 86400 + h * 3600, "A", "pass", 10000 + 500 * ((d * 3 + h) // 2), 1, 1.0)
             for d in range(10) for h in (8, 12, 16)]
    got, want = run_both("FLW02", FLW02_SQL, _flw02_rows(draws), {"period_days": 7})
    assert want and max(len(h[4]) for h in want) == 40
    assert_same_hits(got, want)


@given(st.lists(st.one_of(st.integers(-10**9, 10**9).map(lambda c: c / 1000),
                          st.integers(-10**6, 10**6).map(lambda c: c / 200),   # exact halves of a cent
                          st.floats(-1e12, 1e12, allow_nan=False)), min_size=1, max_size=200))
@settings(max_examples=30, deadline=None)
def test_round_cents_is_duckdb_round(values):
    """`kernels.living.round_cents` rounds like DuckDB's `round(x, 2)` on a DOUBLE, halves included."""
    import duckdb
    import numpy as np

    from followmoney.kernels.living import round_cents

    con = duckdb.connect()
    want = [r[0] for r in con.execute("SELECT round(x, 2) FROM (SELECT unnest($v::DOUBLE[]) AS x)",
                                      {"v": values}).fetchall()]
    got = [round_cents(np.float64(v)) for v in values]
    assert got == want
