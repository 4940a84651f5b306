"""Window rules against naive reference implementations on random data, evidence included.

The references work on plain transaction dicts, independently of postings, buckets and kernels,
so they check the whole path: ingest, integer keys, the ordered stream cut into account buckets,
the kernel or SQL, and the decoding of evidence back to txn ids.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from followmoney import registry
from followmoney.kernels.adapter import account_offsets, split_at_accounts
from followmoney.testing import run_rows

T0 = datetime(2024, 1, 1)
ACCOUNTS = ["A", "B", "C"]


def _table(rows):
    cols = ["txn_id", "ts", "amount", "currency", "payer_account", "beneficiary_account", "channel"]
    return pa.table({c: [r[c] for r in rows] for c in cols})


txn = st.tuples(
    st.integers(0, 40 * 86400),              # seconds since T0
    st.sampled_from([300.0, 499.0, 500.0, 1000.0, 1500.0, 2000.0, 7999.0, 8000.0, 9999.99, 10000.0]),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(["in", "out"]),
    st.sampled_from(["cash", "p2p", "atm"]),
)


def _rows(draws):
    rows = []
    for n, (sec, amount, acct, direction, channel) in enumerate(draws):
        payer, ben = ("X", acct) if direction == "in" else (acct, "Y")
        if channel == "cash" and direction == "in":
            payer = None
        if channel == "atm":
            payer, ben = acct, None
        rows.append({"txn_id": f"t{n:04d}", "ts": T0 + timedelta(seconds=sec), "amount": amount, "currency": "USD",
                     "payer_account": payer, "beneficiary_account": ben, "channel": channel})
    return rows


def _accounts(rows):
    """Every account in the rows, counterparties included: they can be flagged too."""
    return sorted({a for r in rows for a in (r["payer_account"], r["beneficiary_account"]) if a})


def _legs(rows, account):
    """The account's legs sorted as postings are: (ts, txn order), signed amounts."""
    legs = []
    for idx, r in enumerate(rows):
        if r["payer_account"] == account:
            legs.append((r["ts"], idx, -r["amount"], r))
        if r["beneficiary_account"] == account:
            legs.append((r["ts"], idx, r["amount"], r))
    return sorted(legs, key=lambda x: (x[0], x[1]))


def reference_pass_through(rows, min_inflow, min_ratio, window_hours, min_events, period_days):
    hits = []
    for account in _accounts(rows):
        legs = _legs(rows, account)
        events = []
        for i, (ts, _, amount, r) in enumerate(legs):
            if amount < min_inflow:
                continue
            out, ids = 0.0, [r["txn_id"]]
            for ts2, _, amount2, r2 in legs[i + 1:]:
                if ts2 - ts > timedelta(hours=window_hours):
                    break
                if amount2 < 0:
                    out -= amount2
                    ids.append(r2["txn_id"])
                    if out >= min_ratio * amount:
                        events.append((ts, ts2, ids))
                        break
        s = 0
        while s < len(events):
            e = s
            while e + 1 < len(events) and events[e + 1][0] - events[s][0] <= timedelta(days=period_days):
                e += 1
            if e - s + 1 >= min_events:
                ids = sorted({t for ev in events[s:e + 1] for t in ev[2]},
                             key=lambda t: next((lg[0], lg[1]) for lg in legs if lg[3]["txn_id"] == t))
                hits.append((account, events[s][0], max(ev[1] for ev in events[s:e + 1]), float(e - s + 1), ids))
                s = e + 1
            else:
                s += 1
    return sorted(hits)


def reference_structuring(rows, threshold, margin, window_days, min_count):
    hits = []
    window = timedelta(days=window_days)
    for account in _accounts(rows):
        deps = [(r["ts"], idx, r) for idx, r in enumerate(rows)
                if r["beneficiary_account"] == account and r["channel"] == "cash"
                and threshold * (1 - margin) <= r["amount"] < threshold]
        deps.sort(key=lambda d: (d[0], d[1]))
        anchors = [d[0] for d in deps if sum(1 for x in deps if d[0] - window <= x[0] <= d[0]) >= min_count]
        evidence = [d for d in deps if any(a - window <= d[0] <= a for a in anchors)]
        episode = []
        for d in evidence + [None]:
            if episode and (d is None or d[0] - episode[-1][0] > window):
                hits.append((account, episode[0][0], episode[-1][0], float(len(episode)),
                             [x[2]["txn_id"] for x in episode]))
                episode = []
            if d is not None:
                episode.append(d)
    return sorted(hits)


def _observed(hits):
    return sorted((h["account_id"], h["window_start"], h["window_end"], h["value"], h["evidence_txn_ids"]) for h in hits)


@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(txn, min_size=1, max_size=40), st.sampled_from([3, 5, 1 << 20]))
def test_pass_through_matches_reference(draws, bucket_rows):
    rows = _rows(draws)
    params = {"min_inflow": 500.0, "min_ratio": 0.9, "window_hours": 48, "min_events": 2, "period_days": 30}
    import os

    os.environ["FOLLOWMONEY_BUCKET_ROWS"] = str(bucket_rows)
    try:
        got = _observed(run_rows(registry.get("FLW01"), _table(rows), params))
    finally:
        del os.environ["FOLLOWMONEY_BUCKET_ROWS"]
    assert got == reference_pass_through(rows, **params)


@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(txn, min_size=1, max_size=40))
def test_structuring_matches_reference(draws):
    rows = _rows(draws)
    params = {"threshold": 10000.0, "margin": 0.2, "window_days": 7, "min_count": 2}
    got = _observed(run_rows(registry.get("CSH01"), _table(rows), params))
    assert got == reference_structuring(rows, **params)


def test_kernel_python_and_jitted_agree():
    cls = registry.get("FLW01")
    rng = np.random.default_rng(5)
    keys = np.sort(rng.integers(0, 20, 400))
    ts = np.concatenate([np.sort(rng.integers(0, 60 * 86400, (keys == k).sum())) for k in np.unique(keys)])
    amount = rng.choice([-1900.0, -500.0, 2000.0, 600.0, -100.0], 400)
    offsets = account_offsets(keys)
    args = (offsets, ts.astype(np.int64), amount, 500.0, 0.9, 48, 2, 30)
    jit = cls.kernel(*args)
    py = cls.kernel.py_func(*args)
    for a, b in zip(jit, py, strict=True):
        np.testing.assert_array_equal(a, np.asarray(b))
    assert len(jit[0]) > 0, "the random data should produce some hits"


@pytest.mark.parametrize("min_rows", [1, 4, 100])
@pytest.mark.parametrize("batch", [1, 2, 3, 7, 100])
def test_buckets_never_split_an_account(batch, min_rows):
    keys = np.array([0, 0, 0, 1, 2, 2, 2, 2, 3, 4, 4], dtype=np.int32)
    table = pa.table({"account_key": keys, "row": np.arange(len(keys))})
    buckets = list(split_at_accounts(table.to_batches(max_chunksize=batch), min_rows))
    assert sum(b.num_rows for b in buckets) == len(keys)
    # Batches are gathered up to `min_rows` before a cut (the last account waits for the next cut).
    assert len(buckets) <= len(list(split_at_accounts(table.to_batches(max_chunksize=batch))))
    if min_rows >= len(keys):
        assert len(buckets) == 1
    seen = [set(b.column("account_key").to_pylist()) for b in buckets]
    for i, s in enumerate(seen):
        for other in seen[i + 1:]:
            assert not s & other
    assert np.concatenate([b.column("row").to_numpy() for b in buckets]).tolist() == list(range(len(keys)))
