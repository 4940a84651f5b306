"""Network window rules (NET01, NET02, NET03, NET06) against the SQL they replaced and naive references.

The four rules were SQL until they moved into the shared numba pass. Two checks on random data:

* **the old SQL as oracle**: the rules' last SQL text is kept below verbatim and run on the same
  workspace as the kernel; every hit must agree exactly (account, window, value, evidence in
  order, details), bucket splits included;
* **naive references**: each rule read literally from its docstring on plain transaction dicts
  (no postings, keys, buckets, kernels or SQL), through the whole scan path (ingest, kernel,
  decoding of evidence and details).

The random data is built to reach the rules' corners: many postings in the same second (the
windows are SQL `RANGE` frames, which take a whole second at once), sub-second timestamps whose
rounding to `ts_s` reverses their order (a hit's window is the min and max `ts`, not its first and
last rows), amounts in eighths (sums are exact in binary, and `round(x, 2)` meets halves), and
transfers of an account to itself.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from followmoney import registry
from followmoney.engines.duckdb import DuckDBEngine
from followmoney.pipeline.stage import Context, ScanOptions
from followmoney.pipeline.steps import s01_scope, s02_collect
from followmoney.progress import Progress
from followmoney.testing import run_rows
from followmoney.workspace import Workspace

T0 = datetime(2024, 1, 1)
EPOCH = datetime(1970, 1, 1)
ACCOUNTS = ["A", "B"]
OTHERS = ["P1", "P2", "P3", "P4", "P5"]
CHANNELS = ["p2p", "p2p", "p2p", "transfer", "wire", "ach", "crypto", "card", "cash"]
AMOUNTS = [10.125, 50.0, 120.5, 300.25, 499.75, 500.0, 800.0, 1000.0]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Small thresholds, so random draws of a few dozen transactions reach them.
PARAMS = {
    "NET01": {"min_senders": 3, "window_days": 3, "max_amount": 500.0},
    "NET02": {"min_recipients": 3, "window_days": 3, "min_total": 1000.0},
    "NET03": {"min_senders": 3, "window_days": 3, "min_ratio": 0.5, "max_recipients": 2, "forward_hours": 24},
    "NET06": {"min_senders": 2, "min_recipients": 2, "window_days": 3, "min_ratio": 0.6},
}

# ------------------------------------------------------------------------------------- the old SQL
# The rules' SQL as it was when they became kernels (`counterparty_episodes` of indicators/_sql.py
# expanded), kept here as the oracle; benchmarks/baselines/NET0*.sql hold the same rules cut down to
# the flagged accounts for the benchmark.
OLD_SQL = {
    "NET01": """
WITH credits AS (
    SELECT account_key, txn_idx, ts, ts_s, amount, counterparty_key
    FROM postings
    WHERE amount > 0 AND amount <= $max_amount AND counterparty_key IS NOT NULL
      AND channel IN ('p2p', 'transfer', 'wire', 'ach')
),
counted AS (
    SELECT *, count(DISTINCT counterparty_key) OVER (PARTITION BY account_key ORDER BY ts_s
                  RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW) AS n_senders
    FROM credits
),
evidence AS (
    SELECT *
    FROM (SELECT *, min(CASE WHEN n_senders >= $min_senders THEN ts_s END) OVER (PARTITION BY account_key ORDER BY ts_s
                        RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_anchor_s
          FROM counted)
    WHERE next_anchor_s - ts_s <= $window_days * 86400
),
numbered AS (
    SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
              OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
    FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
)
SELECT account_key, min(ts) AS window_start, max(ts) AS window_end,
       CAST(count(DISTINCT counterparty_key) AS DOUBLE) AS value,
       list(txn_idx ORDER BY ts_s, txn_idx) AS evidence,
       round(sum(amount), 2) AS total_amount, count(*) AS n_credits
FROM numbered
GROUP BY account_key, episode
""",
    "NET02": """
WITH debits AS (
    SELECT account_key, txn_idx, ts, ts_s, -amount AS paid, counterparty_key
    FROM postings
    WHERE amount < 0 AND counterparty_key IS NOT NULL AND channel IN ('p2p', 'transfer', 'wire')
),
counted AS (
    SELECT *, count(DISTINCT counterparty_key) OVER (PARTITION BY account_key ORDER BY ts_s
                  RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW) AS n_recipients
    FROM debits
),
evidence AS (
    SELECT *
    FROM (SELECT *, min(CASE WHEN n_recipients >= $min_recipients THEN ts_s END) OVER (PARTITION BY account_key ORDER BY ts_s
                        RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_anchor_s
          FROM counted)
    WHERE next_anchor_s - ts_s <= $window_days * 86400
),
numbered AS (
    SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
              OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
    FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
)
SELECT account_key, min(ts) AS window_start, max(ts) AS window_end,
       CAST(count(DISTINCT counterparty_key) AS DOUBLE) AS value,
       list(txn_idx ORDER BY ts_s, txn_idx) AS evidence, round(sum(paid), 2) AS total_amount
FROM numbered
GROUP BY account_key, episode
HAVING sum(paid) >= $min_total
""",
    "NET03": """
-- Sums are rounded to cents: a sum of doubles depends on the order rows arrive in, which differs
-- between threads and engines, in the last bits; the forwarded share must be the same every run.
WITH credits AS (
    SELECT account_key, txn_idx, ts, ts_s, amount, counterparty_key
    FROM postings
    WHERE amount > 0 AND counterparty_key IS NOT NULL AND channel IN ('p2p', 'transfer', 'wire', 'ach')
),
counted AS (
    SELECT *, count(DISTINCT counterparty_key) OVER (PARTITION BY account_key ORDER BY ts_s
                  RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW) AS n_senders
    FROM credits
),
evidence AS (
    SELECT *
    FROM (SELECT *, min(CASE WHEN n_senders >= $min_senders THEN ts_s END) OVER (PARTITION BY account_key ORDER BY ts_s
                        RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_anchor_s
          FROM counted)
    WHERE next_anchor_s - ts_s <= $window_days * 86400
),
numbered AS (
    SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
              OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
    FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
),
episodes AS (
    SELECT account_key, episode, min(ts_s) AS s0, max(ts_s) AS s1, min(ts) AS t0,
           round(sum(amount), 2) AS inflow
    FROM numbered GROUP BY account_key, episode
),
forward_rows AS (
    SELECT e.account_key, e.episode, p.counterparty_key, -p.amount AS paid, p.txn_idx, p.ts
    FROM episodes AS e
    JOIN postings AS p
      ON p.account_key = e.account_key AND p.amount < 0 AND p.counterparty_key IS NOT NULL
     AND p.channel IN ('p2p', 'transfer', 'wire', 'ach')
     AND p.ts_s BETWEEN e.s0 AND e.s1 + $forward_hours * 3600
),
forwards AS (
    SELECT account_key, episode, counterparty_key, round(sum(paid), 2) AS paid, max(ts) AS last_ts,
           row_number() OVER (PARTITION BY account_key, episode
                              ORDER BY round(sum(paid), 2) DESC, counterparty_key) AS r
    FROM forward_rows
    GROUP BY account_key, episode, counterparty_key
),
top AS (
    SELECT account_key, episode, round(sum(paid), 2) AS forwarded, max(last_ts) AS last_ts, count(*) AS n_recipients
    FROM forwards WHERE r <= $max_recipients
    GROUP BY account_key, episode
),
found AS (
    SELECT e.account_key, e.episode, e.t0, e.inflow, t.forwarded, t.last_ts, t.n_recipients
    FROM episodes AS e JOIN top AS t ON t.account_key = e.account_key AND t.episode = e.episode
    WHERE t.forwarded >= $min_ratio * e.inflow
),
-- Evidence: the episode's credits and the payments to its top recipients, in txn_idx order.
evidence_txns AS (
    SELECT account_key, episode, txn_idx FROM numbered
    UNION ALL
    SELECT f.account_key, f.episode, f.txn_idx
    FROM forward_rows AS f
    JOIN forwards AS w ON w.account_key = f.account_key AND w.episode = f.episode
     AND w.counterparty_key = f.counterparty_key AND w.r <= $max_recipients
)
SELECT h.account_key, h.t0 AS window_start, h.last_ts AS window_end,
       h.forwarded / h.inflow AS value, list(v.txn_idx ORDER BY v.txn_idx) AS evidence, h.inflow,
       h.forwarded, h.n_recipients
FROM found AS h JOIN evidence_txns AS v ON v.account_key = h.account_key AND v.episode = h.episode
GROUP BY h.account_key, h.episode, h.t0, h.last_ts, h.inflow, h.forwarded, h.n_recipients
""",
    "NET06": """
WITH moves AS (
    SELECT account_key, txn_idx, ts, ts_s, amount, counterparty_key
    FROM postings
    WHERE counterparty_key IS NOT NULL AND counterparty_key <> account_key
      AND channel IN ('p2p', 'transfer', 'wire', 'crypto')
),
windows AS (
    SELECT *,
           count(DISTINCT CASE WHEN amount > 0 THEN counterparty_key END) OVER win AS n_senders,
           count(DISTINCT CASE WHEN amount < 0 THEN counterparty_key END) OVER win AS n_recipients,
           sum(CASE WHEN amount > 0 THEN amount ELSE 0 END) OVER win AS inflow,
           sum(CASE WHEN amount < 0 THEN -amount ELSE 0 END) OVER win AS outflow
    FROM moves
    WINDOW win AS (PARTITION BY account_key ORDER BY ts_s
                   RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW)
),
-- A row is evidence when a qualifying window ends within window_days after it (one window pass).
evidence AS (
    SELECT *
    FROM (SELECT *, min(CASE WHEN n_senders >= $min_senders AND n_recipients >= $min_recipients AND inflow > 0
                                  AND outflow >= $min_ratio * inflow THEN ts_s END)
                        OVER (PARTITION BY account_key ORDER BY ts_s
                              RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_anchor_s
          FROM windows)
    WHERE next_anchor_s - ts_s <= $window_days * 86400
),
numbered AS (
    SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
              OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
    FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
)
SELECT account_key, min(ts) AS window_start, max(ts) AS window_end,
       CAST(count(DISTINCT CASE WHEN amount > 0 THEN counterparty_key END)
            + count(DISTINCT CASE WHEN amount < 0 THEN counterparty_key END) AS DOUBLE) AS value,
       list(txn_idx ORDER BY ts_s, txn_idx) AS evidence,
       round(sum(CASE WHEN amount > 0 THEN amount ELSE 0 END), 2) AS inflow,
       round(sum(CASE WHEN amount < 0 THEN -amount ELSE 0 END), 2) AS outflow
FROM numbered
GROUP BY account_key, episode
""",
}


def txns(days: int = 5) -> st.SearchStrategy:
    """Random transactions of A and B with each other, themselves and P1..P5, dense enough to hit."""
    return st.lists(st.tuples(
        st.integers(0, days * 24),                   # hour: coarse, so seconds collide
        st.sampled_from([0, 0, 0, 1]),               # a second later, sometimes
        st.sampled_from([0, 0, 400_000, 600_000]),   # microseconds: .6 rounds to the next second
        st.sampled_from(AMOUNTS),
        st.sampled_from(ACCOUNTS),
        st.sampled_from(["in", "in", "out", "out", "self"]),
        st.sampled_from(CHANNELS),
        st.sampled_from(OTHERS + ACCOUNTS),
    ), min_size=8, max_size=70)


def _rows(draws):
    rows = []
    for n, (hour, sec, micro, amount, acct, direction, channel, other) in enumerate(draws):
        payer, ben = (other, acct) if direction == "in" else (acct, acct) if direction == "self" else (acct, other)
        if channel == "cash":
            payer, ben = (None, acct) if direction == "in" else (acct, None)
        rows.append({"txn_id": f"t{n:03d}", "ts": T0 + timedelta(hours=hour, seconds=sec, microseconds=micro),
                     "amount": amount, "currency": "USD", "payer_account": payer, "beneficiary_account": ben,
                     "channel": channel})
    return rows


def _table(rows):
    cols = ["txn_id", "ts", "amount", "currency", "payer_account", "beneficiary_account", "channel"]
    types = {"ts": pa.timestamp("us"), "amount": pa.float64()}
    return pa.table({c: pa.array([r[c] for r in rows], types.get(c, pa.string())) for c in cols})


def _workspace(rows) -> Workspace:
    """Rows ingested into a fresh in-memory workspace (stages scope and collect), as a scan does."""
    ws = Workspace(":memory:", threads=1)
    options = ScanOptions(sources=[_table(rows)], indicators=["NET01"])
    ctx = Context(ws=ws, options=options, out=Path("."), progress=Progress(False))
    for stage in (s01_scope, s02_collect):
        stage.STAGE.run(ctx)
    return ws


def _canonical(table: pa.Table) -> list[tuple]:
    """Hits as comparable tuples: keys, window, value, evidence txn_idx in order, parsed details."""
    out = []
    for r in table.to_pylist():
        out.append((r["account_key"], r["window_start"], r["window_end"], r["value"], tuple(r["evidence"]),
                    tuple(json.loads(r["details"]).items())))
    return sorted(out)


def _bound(sql: str, params: dict) -> dict:
    names = set(re.findall(r"\$([A-Za-z_]\w*)", sql))
    return {k: v for k, v in params.items() if k in names}


@pytest.mark.parametrize("indicator", sorted(PARAMS))
@SETTINGS
@given(draws=txns(), bucket_rows=st.sampled_from([4, 1 << 20]))
def test_kernel_gives_the_hits_of_the_old_sql(indicator, draws, bucket_rows):
    rows = _rows(draws)
    if not rows:
        return
    cls = registry.get(indicator)
    params = PARAMS[indicator]
    ws = _workspace(rows)
    try:
        engine = DuckDBEngine(ws, bucket_rows=bucket_rows)
        got = _canonical(engine.run_kernel_indicators([(cls, params)])[indicator])
        old = SimpleNamespace(id=indicator, sql=OLD_SQL[indicator])
        want = _canonical(engine.run_sql_indicator(old, _bound(old.sql, params)))
    finally:
        ws.close()
    assert got == want


# ------------------------------------------------------------------------------- naive references
A2A = ("p2p", "transfer", "wire", "ach")


def _sec(ts: datetime) -> int:
    # ts_s is the timestamp rounded to the second (DuckDB casts epoch seconds to BIGINT by rounding).
    return round((ts - EPOCH).total_seconds())


def _cents(x: float) -> float:
    """round(x, 2) as the reports give it: of the double x * 100, half away from zero."""
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(x * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)) / 100


def _legs(rows, account):
    """The account's legs (sec, order, signed amount, other account, row), sorted as postings are."""
    legs = []
    for idx, r in enumerate(rows):
        if r["payer_account"] == account:
            legs.append((_sec(r["ts"]), idx, -r["amount"], r["beneficiary_account"], r))
        if r["beneficiary_account"] == account:
            legs.append((_sec(r["ts"]), idx, r["amount"], r["payer_account"], r))
    return sorted(legs, key=lambda x: (x[0], x[1]))


def _episodes(cands, window_days, anchors_at):
    """Episodes of candidate legs: anchors are the legs `anchors_at(window legs)` accepts, where a
    leg's window is every candidate from `window_days` before it to the end of its second; evidence
    is every candidate with an anchor at most `window_days` after it; a gap longer than the window
    between evidence legs ends an episode."""
    w = window_days * 86400
    anchors = [c[0] for c in cands if anchors_at([x for x in cands if c[0] - w <= x[0] <= c[0]])]
    evidence = [c for c in cands if any(c[0] <= a <= c[0] + w for a in anchors)]
    out, cur = [], []
    for c in evidence:
        if cur and c[0] - cur[-1][0] > w:
            out.append(cur)
            cur = []
        cur.append(c)
    return out + ([cur] if cur else [])


def _all_accounts(rows):
    return sorted({a for r in rows for a in (r["payer_account"], r["beneficiary_account"]) if a})


def _hit(account, legs, value, details, start=None, end=None):
    return (account, start or min(x[4]["ts"] for x in legs), end or max(x[4]["ts"] for x in legs), value,
            [x[4]["txn_id"] for x in legs], details)


def reference_fanin(rows, min_senders, window_days, max_amount):
    """NET01: credits of at most max_amount by p2p/transfer/wire/ach from min_senders distinct senders."""
    hits = []
    for acct in _all_accounts(rows):
        cands = [x for x in _legs(rows, acct) if 0 < x[2] <= max_amount and x[3] and x[4]["channel"] in A2A]
        for ep in _episodes(cands, window_days, lambda win: len({x[3] for x in win}) >= min_senders):
            hits.append(_hit(acct, ep, len({x[3] for x in ep}),
                             {"total_amount": _cents(sum(x[2] for x in ep)), "n_credits": len(ep)}))
    return hits


def reference_fanout(rows, min_recipients, window_days, min_total):
    """NET02: debits by p2p/transfer/wire to min_recipients distinct accounts, min_total paid in the episode."""
    hits = []
    for acct in _all_accounts(rows):
        cands = [x for x in _legs(rows, acct) if x[2] < 0 and x[3] and x[4]["channel"] in ("p2p", "transfer", "wire")]
        for ep in _episodes(cands, window_days, lambda win: len({x[3] for x in win}) >= min_recipients):
            total = sum(-x[2] for x in ep)
            if total >= min_total:
                hits.append(_hit(acct, ep, len({x[3] for x in ep}), {"total_amount": _cents(total)}))
    return hits


def reference_collector(rows, min_senders, window_days, min_ratio, max_recipients, forward_hours):
    """NET03: credits from min_senders senders, then min_ratio of them paid to the max_recipients largest recipients."""
    hits = []
    for acct in _all_accounts(rows):
        legs = _legs(rows, acct)
        cands = [x for x in legs if x[2] > 0 and x[3] and x[4]["channel"] in A2A]
        for ep in _episodes(cands, window_days, lambda win: len({x[3] for x in win}) >= min_senders):
            inflow = _cents(sum(x[2] for x in ep))
            outs = [x for x in legs if x[2] < 0 and x[3] and x[4]["channel"] in A2A
                    and ep[0][0] <= x[0] <= ep[-1][0] + forward_hours * 3600]
            per = {}
            for x in outs:
                per[x[3]] = per.get(x[3], 0.0) - x[2]
            # Largest rounded amounts first; equal amounts by account id (the order of the account keys).
            top = sorted(per, key=lambda k: (-_cents(per[k]), k))[:max_recipients]
            if not top:
                continue
            forwarded = _cents(sum(_cents(per[k]) for k in top))
            if forwarded < min_ratio * inflow:
                continue
            paid = [x for x in outs if x[3] in top]
            evidence = sorted(ep + paid, key=lambda x: x[1])
            hits.append(_hit(acct, evidence, forwarded / inflow,
                             {"inflow": inflow, "forwarded": forwarded, "n_recipients": len(top)},
                             start=min(x[4]["ts"] for x in ep), end=max(x[4]["ts"] for x in paid)))
    return hits


def reference_gather_scatter(rows, min_senders, min_recipients, window_days, min_ratio):
    """NET06: moves with other accounts; senders, recipients and the paid-out share in one window."""
    def qualifies(win):
        inflow = sum(x[2] for x in win if x[2] > 0)
        outflow = sum(-x[2] for x in win if x[2] < 0)
        return (len({x[3] for x in win if x[2] > 0}) >= min_senders
                and len({x[3] for x in win if x[2] < 0}) >= min_recipients
                and inflow > 0 and outflow >= min_ratio * inflow)

    hits = []
    for acct in _all_accounts(rows):
        cands = [x for x in _legs(rows, acct) if x[3] and x[3] != acct
                 and x[4]["channel"] in ("p2p", "transfer", "wire", "crypto")]
        for ep in _episodes(cands, window_days, qualifies):
            value = len({x[3] for x in ep if x[2] > 0}) + len({x[3] for x in ep if x[2] < 0})
            hits.append(_hit(acct, ep, value, {"inflow": _cents(sum(x[2] for x in ep if x[2] > 0)),
                                               "outflow": _cents(sum(-x[2] for x in ep if x[2] < 0))}))
    return hits


REFERENCES = {"NET01": reference_fanin, "NET02": reference_fanout, "NET03": reference_collector,
              "NET06": reference_gather_scatter}


def _observed(hits):
    return sorted((h["account_id"], h["window_start"], h["window_end"], round(h["value"], 9), h["evidence_txn_ids"],
                   json.loads(h["details"])) for h in hits)


@pytest.mark.parametrize("indicator", sorted(REFERENCES))
@SETTINGS
@given(draws=txns(), bucket_rows=st.sampled_from([4, 1 << 20]))
def test_rule_matches_naive_reference(indicator, draws, bucket_rows):
    rows = _rows(draws)
    params = PARAMS[indicator]
    os.environ["FOLLOWMONEY_BUCKET_ROWS"] = str(bucket_rows)
    try:
        got = _observed(run_rows(registry.get(indicator), _table(rows), params))
    finally:
        del os.environ["FOLLOWMONEY_BUCKET_ROWS"]
    want = sorted((a, s, e, round(v, 9), ev, d) for a, s, e, v, ev, d in REFERENCES[indicator](rows, **params))
    assert got == want


# ------------------------------------------------------------------ a second's order is not ts order
def _at(hh, mm, ss, micro=0):
    return T0 + timedelta(hours=hh, minutes=mm, seconds=ss, microseconds=micro)


# Every rule hits account A. Within 10:00:01 (ts_s) the first posting is t0 but the earliest is t1;
# within 14:00:01 the last posting is t4 but the latest is t3: a hit spans min(ts) .. max(ts).
SAME_SECOND = [
    ("t0", _at(10, 0, 1, 400_000), 300.0, "P1", "A"),
    ("t1", _at(10, 0, 0, 600_000), 300.0, "P2", "A"),
    ("t2", _at(12, 0, 0), 300.0, "P3", "A"),
    ("t3", _at(14, 0, 1, 400_000), 400.0, "A", "P4"),
    ("t4", _at(14, 0, 0, 600_000), 400.0, "A", "P5"),
    ("t5", _at(13, 0, 0), 400.0, "A", "B"),
]


@pytest.mark.parametrize("indicator", sorted(REFERENCES))
def test_hit_window_is_min_and_max_ts_within_a_second(indicator):
    rows = [{"txn_id": t, "ts": ts, "amount": amt, "currency": "USD", "payer_account": p, "beneficiary_account": b,
             "channel": "p2p"} for t, ts, amt, p, b in SAME_SECOND]
    params = PARAMS[indicator]
    hits = [h for h in run_rows(registry.get(indicator), _table(rows), params) if h["account_id"] == "A"]
    assert len(hits) == 1
    want = {"NET01": (_at(10, 0, 0, 600_000), _at(12, 0, 0)), "NET02": (_at(13, 0, 0), _at(14, 0, 1, 400_000)),
            "NET03": (_at(10, 0, 0, 600_000), _at(14, 0, 1, 400_000)),
            "NET06": (_at(10, 0, 0, 600_000), _at(14, 0, 1, 400_000))}[indicator]
    assert (hits[0]["window_start"], hits[0]["window_end"]) == want
    assert _observed(hits) == sorted(
        (a, s, e, round(v, 9), ev, d) for a, s, e, v, ev, d in REFERENCES[indicator](rows, **params) if a == "A")
    ws = _workspace(rows)
    try:
        engine = DuckDBEngine(ws)
        old = SimpleNamespace(id=indicator, sql=OLD_SQL[indicator])
        assert _canonical(engine.run_kernel_indicators([(registry.get(indicator), params)])[indicator]) == \
            _canonical(engine.run_sql_indicator(old, _bound(old.sql, params)))
    finally:
        ws.close()
