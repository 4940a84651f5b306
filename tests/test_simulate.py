"""Tests of the transaction simulator (followmoney.simulate).

The two reference detectors below are deliberately naive re-implementations
(pure Python over per-account lists) so that they check the simulator
independently of the project's real indicators.
"""

from __future__ import annotations

import ast
import resource
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followmoney.simulate import SimulationResult, simulate
from followmoney.simulate.config import (
    deep_merge,
    instance_count,
    load_config,
    scenario_config,
)
from followmoney.simulate.scenario import discover_scenarios, schedule_episodes
from followmoney.simulate.schema import (
    CHANNELS,
    LABEL_SCHEMA,
    LABEL_TXN_SCHEMA,
    PARTY_SCHEMA,
    RELATIONS,
    ROLES,
    TRANSACTION_SCHEMA,
    TYPOLOGIES,
)

US_HOUR = 3_600_000_000
US_DAY = 24 * US_HOUR
FILES = ("transactions", "parties", "labels", "label_txns")


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    """The ~2,000 accounts x 90 days world most tests read."""
    return simulate(tmp_path_factory.mktemp("world"), accounts=2000, days=90, seed=11)


@pytest.fixture(scope="module")
def txns(world: SimulationResult) -> pa.Table:
    return pq.read_table(world.paths["transactions"])


def _read(result: SimulationResult, key: str) -> pa.Table:
    return pq.read_table(result.paths[key])


# ------------------------------------------------------- naive detectors
def structuring_flags(t: pa.Table) -> set[str]:
    """Accounts with >= 3 cash credits in [8000, 10000) inside some 7-day window."""
    times: dict[str, list[int]] = defaultdict(list)
    ts = t.column("ts").cast(pa.int64()).to_pylist()
    for b, c, a, x in zip(t.column("beneficiary_account").to_pylist(), t.column("channel").to_pylist(),
                          t.column("amount").to_pylist(), ts, strict=True):
        if b is not None and c == "cash" and 8000 <= a < 10000:
            times[b].append(x)
    flagged = set()
    for acct, xs in times.items():
        xs.sort()
        if any(xs[i + 2] - xs[i] < 7 * US_DAY for i in range(len(xs) - 2)):
            flagged.add(acct)
    return flagged


def pass_through_flags(t: pa.Table) -> set[str]:
    """Accounts with >= 3 pass-through events within 30 days.

    An event is a credit of >= 500 followed, within (t, t + 48 h], by debits
    summing to >= 90 % of it.
    """
    ins: dict[str, list[tuple[int, float]]] = defaultdict(list)
    outs: dict[str, list[tuple[int, float]]] = defaultdict(list)
    ts = t.column("ts").cast(pa.int64()).to_pylist()
    for p, b, a, x in zip(t.column("payer_account").to_pylist(),
                          t.column("beneficiary_account").to_pylist(),
                          t.column("amount").to_pylist(), ts, strict=True):
        if p is not None:
            outs[p].append((x, a))
        if b is not None and a >= 500:
            ins[b].append((x, a))
    flagged = set()
    for acct, credits in ins.items():
        debits = sorted(outs.get(acct, []))
        d_ts = np.array([d[0] for d in debits], dtype=np.int64)
        cum = np.concatenate([[0.0], np.cumsum([d[1] for d in debits])])
        events = []
        for x, a in sorted(credits):
            lo = np.searchsorted(d_ts, x, side="right")
            hi = np.searchsorted(d_ts, x + 48 * US_HOUR, side="right")
            if cum[hi] - cum[lo] >= 0.9 * a:
                events.append(x)
        if any(events[i + 2] - events[i] <= 30 * US_DAY for i in range(len(events) - 2)):
            flagged.add(acct)
    return flagged


# ------------------------------------------------------------------ tests
def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", accounts=300, days=60, seed=3)
    b = simulate(tmp_path / "b", accounts=300, days=60, seed=3)
    assert a.counts == b.counts
    for key in FILES:
        assert a.paths[key].read_bytes() == b.paths[key].read_bytes(), key


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", accounts=300, days=60, seed=3)
    b = simulate(tmp_path / "b", accounts=300, days=60, seed=4)
    assert a.paths["transactions"].read_bytes() != b.paths["transactions"].read_bytes()
    assert not _read(a, "transactions").column("amount").equals(_read(b, "transactions").column("amount"))


def test_result_and_schemas(world: SimulationResult) -> None:
    assert set(world.paths) == set(FILES) == set(world.counts)
    for key, schema in (("transactions", TRANSACTION_SCHEMA), ("parties", PARTY_SCHEMA),
                        ("labels", LABEL_SCHEMA), ("label_txns", LABEL_TXN_SCHEMA)):
        table = _read(world, key)
        assert table.schema.names == schema.names, key
        assert [f.type for f in table.schema] == [f.type for f in schema], key
        assert table.num_rows == world.counts[key] > 0, key


def test_transaction_rows(txns: pa.Table) -> None:
    d = txns.to_pydict()
    n = txns.num_rows
    # Volume: about one transaction per account and day.
    assert 0.85 * 2000 * 90 < n < 1.2 * 2000 * 90
    ids = d["txn_id"]
    assert len(set(ids)) == n
    assert all(len(i) == 10 and i[0] == "T" for i in ids)
    ts = txns.column("ts").cast(pa.int64()).to_numpy()
    assert (np.diff(ts) >= 0).all()
    assert ids == sorted(ids)  # ids increase with time
    amount = np.array(d["amount"])
    assert (amount > 0).all()
    assert np.allclose(amount, np.round(amount, 2))
    assert set(d["currency"]) == {"USD"}
    assert set(d["channel"]) <= set(CHANNELS)
    assert {"cash", "atm", "ach", "p2p", "transfer", "card"} <= set(d["channel"])
    for i in range(n):
        ch = d["channel"][i]
        assert (d["payer_account"][i] is None) == (ch == "cash"), i
        assert (d["beneficiary_account"][i] is None) == (ch == "atm"), i
        if ch == "card":
            assert d["mcc"][i] is not None and len(d["mcc"][i]) == 4 and d["mcc"][i].isdigit()
            assert d["city"][i] is not None
        else:
            assert d["mcc"][i] is None
        if ch in ("cash", "atm"):
            assert d["branch_id"][i] is not None and d["city"][i] is not None
            assert d["region"][i] is not None
        assert (d["atm_owner_type"][i] is not None) == (ch == "atm")
        if d["device_id"][i] is not None or d["ip"][i] is not None:
            assert ch in ("p2p", "transfer", "wire")
            assert d["device_id"][i] is not None and d["ip"][i] is not None
        assert d["payer_country"][i] is None or len(d["payer_country"][i]) == 2
    assert set(d["atm_owner_type"]) == {None, "bank", "white_label"}
    assert len(set(d["city"]) - {None}) >= 5
    assert {"5411", "5814", "5541", "4900", "5912", "4121"} <= set(d["mcc"])
    assert any(d["is_refund"])
    assert any(m is not None and m.startswith("PAYROLL ") for m in d["memo"])


def test_parties(world: SimulationResult, txns: pa.Table) -> None:
    p = _read(world, "parties").to_pydict()
    keys = list(zip(p["account_id"], p["party_id"], strict=True))
    assert len(set(keys)) == len(keys)
    assert set(p["relation"]) == set(RELATIONS)
    assert set(p["account_type"]) == {"personal", "business"}
    start = np.datetime64("2024-01-01").astype(object)
    assert all(o < start for o in p["opened_at"])
    for i in range(len(keys)):
        personal = p["account_type"][i] == "personal"
        assert (p["business_type"][i] is None) == personal
        assert (p["business_hours"][i] is None) == personal
        assert p["declared_income"][i] > 0
    assert len(set(p["home_city"])) >= 5
    # Every account has exactly one holder.
    holders = [a for a, r in zip(p["account_id"], p["relation"], strict=True) if r == "holder"]
    assert len(holders) == len(set(holders)) == len(set(p["account_id"]))
    # Some identifiers are legitimately shared, but few.
    addresses = defaultdict(set)
    for a, addr in zip(p["account_id"], p["address"], strict=True):
        addresses[addr].add(a)
    shared = sum(len(v) > 1 for v in addresses.values())
    assert 0 < shared < 0.15 * len(set(p["account_id"]))
    # External counterparties (employers, merchants, landlords) are not customers.
    customers = set(p["account_id"])
    payers = set(txns.column("payer_account").to_pylist()) - {None}
    assert {a for a in payers if a.startswith(("X-", "M-"))}.isdisjoint(customers)
    assert {f"A{i:07d}" for i in range(1, 2001)} <= customers


def test_labels_and_label_txns(world: SimulationResult, txns: pa.Table) -> None:
    labels = _read(world, "labels").to_pydict()
    assert set(labels["role"]) <= set(ROLES)
    assert set(labels["typology"]) <= set(TYPOLOGIES)
    assert {"controller", "mule", "look_alike"} <= set(labels["role"])
    for acct, sid, role, alert in zip(labels["account_id"], labels["scenario_id"], labels["role"],
                                      labels["expected_alert"], strict=True):
        assert not acct.startswith("A"), "background accounts are not labelled"
        if role == "look_alike":
            assert not alert and "-lookalike-" in sid
    parties = set(_read(world, "parties").column("account_id").to_pylist())
    assert set(labels["account_id"]) <= parties
    lt = _read(world, "label_txns").to_pydict()
    assert len(set(lt["txn_id"])) == len(lt["txn_id"])
    assert set(lt["txn_id"]) <= set(txns.column("txn_id").to_pylist())
    assert set(lt["scenario_id"]) == set(labels["scenario_id"])


def test_vocabularies_match_the_project(world: SimulationResult) -> None:
    schema = pytest.importorskip("followmoney.schema")
    for name, ours in (("ROLES", ROLES), ("TYPOLOGIES", TYPOLOGIES), ("CHANNELS", CHANNELS)):
        if hasattr(schema, name):
            assert tuple(getattr(schema, name)) == ours


def test_naive_detectors_find_exactly_the_expected_accounts(
        world: SimulationResult, txns: pa.Table) -> None:
    labels = _read(world, "labels").to_pydict()
    expected = {a for a, e in zip(labels["account_id"], labels["expected_alert"], strict=True) if e}
    by_scenario = defaultdict(set)
    for a, s, e in zip(labels["account_id"], labels["scenario_id"], labels["expected_alert"], strict=True):
        if e:
            by_scenario[s.split("-")[0]].add(a)
    structuring = structuring_flags(txns)
    pass_through = pass_through_flags(txns)
    assert by_scenario["structuring"] and by_scenario["pass_through"]
    assert by_scenario["structuring"] <= structuring
    assert by_scenario["pass_through"] <= pass_through
    assert (structuring | pass_through) - expected == set()


def test_scenario_isolation(tmp_path: Path) -> None:
    cfg = tmp_path / "no_pass_through.yml"
    cfg.write_text("scenarios:\n  pass_through:\n    instances: 0\n")
    both = simulate(tmp_path / "both", accounts=400, days=60, seed=5)
    alone = simulate(tmp_path / "alone", accounts=400, days=60, seed=5, config=cfg)

    def split(result: SimulationResult) -> tuple[pa.Table, pa.Table, pa.Table]:
        t = _read(result, "transactions")
        lt = _read(result, "label_txns")
        sid = dict(zip(lt.column("txn_id").to_pylist(), lt.column("scenario_id").to_pylist(), strict=True))
        tagged = pa.array([sid.get(i) for i in t.column("txn_id").to_pylist()], pa.string())
        t = t.append_column("scenario_id", tagged).drop_columns(["txn_id"])
        order = [(c, "ascending") for c in ("ts", "amount", "scenario_id")]
        struct = t.filter(pa.compute.starts_with(t.column("scenario_id").fill_null(""), "structuring"))
        background = t.filter(t.column("scenario_id").is_null())
        labels = _read(result, "labels")
        labels = labels.filter(pa.compute.starts_with(labels.column("scenario_id"), "structuring"))
        return struct.sort_by(order), background.sort_by(order), labels

    s_both, bg_both, l_both = split(both)
    s_alone, bg_alone, l_alone = split(alone)
    assert s_both.num_rows > 0 and l_both.num_rows > 0
    assert s_both.equals(s_alone)
    assert l_both.equals(l_alone)
    assert bg_both.equals(bg_alone)
    assert not pa.compute.any(pa.compute.starts_with(
        _read(alone, "labels").column("scenario_id"), "pass_through")).as_py()


def test_config_scaling_and_merge(tmp_path: Path) -> None:
    cfg = load_config()
    st_cfg = scenario_config(cfg, "structuring")
    assert instance_count(st_cfg, 100) == 2  # minimum of two
    assert instance_count(st_cfg, 10_000) == 15
    assert instance_count({**st_cfg, "instances": 0}, 10_000) == 0
    assert instance_count({**st_cfg, "enabled": False}, 10_000) == 0
    # An unknown scenario falls back to scenario_defaults.
    assert instance_count(scenario_config(cfg, "not_yet_written"), 3000) == 3
    merged = deep_merge({"a": {"b": 1, "c": [1, 2]}, "d": 1}, {"a": {"c": [3]}, "e": 2})
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}
    path = tmp_path / "more.yml"
    path.write_text("scenarios:\n  structuring:\n    instances: 4\n    params:\n"
                    "      lookalike_ratio: 0\n")
    calls: list[tuple[int, int]] = []
    result = simulate(tmp_path / "out", accounts=200, days=40, config=path,
                      progress=lambda done, total: calls.append((done, total)))
    labels = _read(result, "labels").to_pydict()
    structuring = {s for s in labels["scenario_id"] if s.startswith("structuring")}
    assert structuring == {f"structuring-{i:04d}" for i in range(1, 5)}
    assert calls[-1][0] == calls[-1][1] and [c[0] for c in calls] == list(range(1, len(calls) + 1))


def test_discovery_finds_the_plugins() -> None:
    plugins = discover_scenarios()
    assert {"structuring", "pass_through"} <= set(plugins)
    for cls in plugins.values():
        assert cls.typology in TYPOLOGIES and cls.description and cls.__doc__


def test_simulator_never_imports_indicators_or_duckdb() -> None:
    package = Path(__file__).resolve().parents[1] / "followmoney" / "simulate"
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("duckdb", "followmoney.indicators", "indicators")), source


@settings(max_examples=60, deadline=None)
@given(days=st.integers(1, 400), n=st.integers(0, 6), span=st.integers(1, 10),
       gap=st.integers(0, 30), seed=st.integers(0, 2**32 - 1))
def test_schedule_episodes_respects_span_and_gap(days: int, n: int, span: int, gap: int,
                                                  seed: int) -> None:
    starts = schedule_episodes(np.random.default_rng(seed), days, n, span, gap)
    assert len(starts) <= n
    if len(starts):
        assert starts[0] >= 0 and starts[-1] + span <= days + 1e-9
        assert (np.diff(starts) >= span + gap - 1e-9).all()
    elif n > 0:
        assert span > days


def test_throughput_one_million(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Measure (not assert) the speed at ~10**6 transactions."""
    t0 = time.perf_counter()
    result = simulate(tmp_path, accounts=5600, days=180, seed=7)
    elapsed = time.perf_counter() - t0
    n = result.counts["transactions"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with capsys.disabled():
        print(f"\nsimulate: {n:,} transactions in {elapsed:.1f} s "
              f"({n / elapsed:,.0f} txn/s), process peak RSS {peak_mb:.0f} MB")
    assert 0.9e6 < n < 1.1e6


def test_too_short_period_plants_nothing_rather_than_mislabel(tmp_path: Path) -> None:
    with pytest.warns(RuntimeWarning, match="pass_through"):
        result = simulate(tmp_path, accounts=30, days=10, seed=1)
    labels = _read(result, "labels").column("scenario_id").to_pylist()
    assert labels and all(s.startswith("structuring") for s in labels)
