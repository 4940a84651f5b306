"""Kernel inputs beyond stored postings columns, and kernel details, in the shared DuckDB pass.

A throwaway kernel indicator reads an expression input, the three account-level inputs and
returns details; its hits are compared with the same facts computed directly in SQL.
"""

from __future__ import annotations

import json
import math

import numba
import numpy as np
import pytest
from conftest import world_profile

from followmoney.engines.duckdb import DuckDBEngine
from followmoney.errors import IndicatorDefinitionError
from followmoney.indicator import Indicator
from followmoney.params import Interval, Param
from followmoney.pipeline.stage import Context, ScanOptions
from followmoney.pipeline.steps import s01_scope, s02_collect
from followmoney.progress import Progress
from followmoney.workspace import Workspace

_DOC = """Test indicator.

## What it flags
x
## Why it matters
x
## Typical false positives
x
## Data needed
x
"""


@numba.njit
def _p2p_credit_kernel(offsets, ts_s, is_p2p_credit, declared_income, is_customer, data_end_s, min_credits):  # pragma: no cover - jitted
    start, end, value, ev_ptr, ev_rows = [np.int64(0)][:0], [np.int64(0)][:0], [0.0][:0], [np.int64(0)], [np.int64(0)][:0]
    details = []
    for a in range(len(offsets) - 1):
        rows = [np.int64(r) for r in range(offsets[a], offsets[a + 1]) if is_p2p_credit[r] == 1]
        if len(rows) < min_credits:
            continue
        start.append(rows[0])
        end.append(rows[-1])
        value.append(float(len(rows)))
        ev_rows.extend(rows)
        ev_ptr.append(len(ev_rows))
        details.append((declared_income[rows[0]], float(is_customer[rows[0]]), float(data_end_s[rows[0]])))
    out = np.empty((len(details), 3))
    for i, d in enumerate(details):
        out[i, 0], out[i, 1], out[i, 2] = d
    return (np.array(start), np.array(end), np.array(value), np.array(ev_ptr), np.array(ev_rows), out)


def _indicator(**overrides):
    attrs = dict(
        __doc__=_DOC, __module__=__name__, id="CSH93", name="p2p_credits_with_account_facts", title="t", family="cash",
        typologies=("sexual_exploitation",), sources=("F20",), requires=("ts", "amount", "channel"),
        params=(Param("min_credits", 2, Interval(int, 1, None), "d"),), score_doc="s", reason="{value}",
        kernel=_p2p_credit_kernel,
        kernel_inputs={"ts_s": "int64", "is_p2p_credit": "int8", "declared_income": "float64", "is_customer": "int8",
                       "data_end_s": "int64"},
        # Person-to-person credits: customers and others (payees outside the bank) both receive them.
        kernel_expressions={"is_p2p_credit": "coalesce(channel = 'p2p' AND amount > 0, false)"},
        kernel_details={"income": "float64", "customer": "bool", "data_end_s": "int64"},
        severity=classmethod(lambda cls, v, p: np.minimum(v / 10, 1.0)))
    attrs.update(overrides)
    return type("P2PCreditFacts", (Indicator,), attrs)


@pytest.fixture(scope="module")
def world_ws(world, tmp_path_factory):
    ws = Workspace(":memory:")
    options = ScanOptions(sources=[str(world.paths["transactions"])], parties=[str(world.paths["parties"])],
                          profile=world_profile(world))
    ctx = Context(ws=ws, options=options, out=tmp_path_factory.mktemp("inputs"), progress=Progress(False))
    for stage in (s01_scope, s02_collect):
        stage.STAGE.run(ctx)
    yield ws
    ws.close()


def test_expression_account_inputs_and_details_match_sql(world_ws):
    cls = _indicator()
    params = {"min_credits": 2}
    hits = DuckDBEngine(world_ws, bucket_rows=4096).run_kernel_indicators([(cls, params)])["CSH93"]
    assert hits.num_rows > 50
    expected = {r[0]: r[1:] for r in world_ws.sql(
        """WITH cash AS (SELECT account_key, list(txn_idx ORDER BY ts_s, txn_idx) AS ev FROM postings
                         WHERE channel = 'p2p' AND amount > 0 GROUP BY account_key HAVING count(*) >= 2),
                inc AS (SELECT c.account_key, max(k.declared_income) AS income FROM parties AS k
                        JOIN accounts AS c ON c.account_id = k.account_id GROUP BY 1)
           SELECT c.account_key, c.ev, i.income, a.is_customer, (SELECT max(ts_s) FROM postings)
           FROM cash AS c JOIN accounts AS a USING (account_key) LEFT JOIN inc AS i USING (account_key)""").fetchall()}
    got = hits.to_pylist()
    assert {h["account_key"] for h in got} == set(expected)
    with_income = customers = 0
    for h in got:
        ev, income, customer, end = expected[h["account_key"]]
        assert h["evidence"] == ev and h["value"] == len(ev)
        details = json.loads(h["details"])
        assert list(details) == ["income", "customer", "data_end_s"]
        if income is None:
            assert details["income"] is None
        else:
            assert math.isclose(details["income"], income)
            with_income += 1
        assert details["customer"] is bool(customer) and details["data_end_s"] == end
        customers += bool(customer)
    # The world has customers with and without declared income, and non-customers: all three paths ran.
    assert 0 < with_income < len(got) and 0 < customers < len(got)


def test_expression_inputs_are_checked_at_definition():
    with pytest.raises(IndicatorDefinitionError, match="not in requires"):
        _indicator(id="CSH92", kernel_expressions={"is_p2p_credit": "coalesce(memo = 'cash', false)"})
    with pytest.raises(IndicatorDefinitionError, match="kernel_details dtypes"):
        _indicator(id="CSH91", kernel_details={"income": "text"})
    with pytest.raises(IndicatorDefinitionError, match="are not kernel_inputs"):
        _indicator(id="CSH90", kernel_expressions={"is_p2p_credit": "true", "other": "true"})


def test_expressions_that_duckdb_would_plan_as_joins_are_refused():
    six = ", ".join(f"'{g}'" for g in ("a", "b", "c", "d", "e", "f"))
    with pytest.raises(IndicatorDefinitionError, match="planned as a join"):
        _indicator(id="CSH89", kernel_expressions={"is_p2p_credit": f"coalesce(channel IN ({six}), false)"})
    with pytest.raises(IndicatorDefinitionError, match="no subqueries"):
        _indicator(id="CSH88", kernel_expressions={"is_p2p_credit": "channel = (SELECT max(channel) FROM postings)"})


def test_one_of_is_exact_on_followmoney_vocabularies_and_refuses_free_text():
    """`one_of` relies on merchant groups and channels holding no '|': checked on the shipped data."""
    import csv
    import re
    from importlib import resources

    import duckdb

    from followmoney.kernels.inputs import one_of
    from followmoney.schema import CHANNELS

    text = resources.files("followmoney.data").joinpath("mcc_groups.csv").read_text(encoding="utf-8")
    groups = sorted({row["merchant_group"] for row in csv.DictReader(text.splitlines())})
    assert groups and all(re.fullmatch(r"[a-z0-9_]+", g) for g in [*groups, *CHANNELS])
    picked = groups[::3]
    con = duckdb.connect()
    rows = con.execute(f"SELECT g, {one_of('merchant_group', picked)} FROM (SELECT unnest(?) AS merchant_group, "
                       "unnest(?) AS g)", [[*groups, None, "lodg", ""], [*groups, None, "lodg", ""]]).fetchall()
    assert {g: hit for g, hit in rows} == {g: g in picked for g in [*groups, None, "lodg", ""]}
    with pytest.raises(ValueError):
        one_of("memo", ["rent"])
    with pytest.raises(ValueError):
        one_of("merchant_group", ["a|b"])


@numba.njit
def _listed_payee_kernel(offsets, ts_s, on_list, payee_key, min_rows):  # pragma: no cover - jitted
    start, end, value, ev_ptr, ev_rows = [np.int64(0)][:0], [np.int64(0)][:0], [0.0][:0], [np.int64(0)], [np.int64(0)][:0]
    keys = []
    for a in range(len(offsets) - 1):
        rows = [np.int64(r) for r in range(offsets[a], offsets[a + 1]) if on_list[r] == 1]
        if len(rows) < min_rows:
            continue
        start.append(rows[0])
        end.append(rows[-1])
        value.append(float(len(rows)))
        ev_rows.extend(rows)
        ev_ptr.append(len(ev_rows))
        keys.append(float(payee_key[rows[0]]))
    out = np.empty((len(keys), 1))
    for i, k in enumerate(keys):
        out[i, 0] = k
    return (np.array(start), np.array(end), np.array(value), np.array(ev_ptr), np.array(ev_rows), out)


def _lookup_indicator(**overrides):
    from followmoney.indicators._sql import listed, normalised_key

    attrs = dict(
        __doc__=_DOC, __module__=__name__, id="RUN93", name="rows_to_listed_payees", title="t", family="running_costs",
        typologies=("sexual_exploitation",), sources=("F20",), requires=("ts", "amount", "counterparty_name"),
        params=(Param("min_rows", 1, Interval(int, 1, None), "d"),), score_doc="s", reason="{value}",
        kernel=_listed_payee_kernel, kernel_inputs={"ts_s": "int64", "on_list": "int8", "payee_key": "int64"},
        kernel_lookups={"on_list": listed("counterparty_name", "rideshare"),
                        "payee_key": normalised_key("counterparty_name")},
        kernel_details={"payee_key": "int64"},
        severity=classmethod(lambda cls, v, p: np.minimum(v / 10, 1.0)))
    attrs.update(overrides)
    return type("ListedPayees", (Indicator,), attrs)


def _listed_payee_hits(ws):
    hits = DuckDBEngine(ws, bucket_rows=4096).run_kernel_indicators([(_lookup_indicator(), {"min_rows": 1})])["RUN93"]
    return {h["account_key"]: (h["evidence"], json.loads(h["details"])["payee_key"]) for h in hits.to_pylist()}


def test_value_lookups_give_each_posting_its_value_as_sql_joins_would(world_ws):
    got = _listed_payee_hits(world_ws)
    want = {r[0]: (r[1], r[2]) for r in world_ws.sql(
        """WITH keyed AS (SELECT raw, dense_rank() OVER (ORDER BY lower(trim(raw))) - 1 AS k
                          FROM (SELECT DISTINCT counterparty_name AS raw FROM postings WHERE counterparty_name IS NOT NULL)),
                listed AS (SELECT DISTINCT n.raw FROM keyed AS n JOIN lists AS l ON l.list_name = 'rideshare'
                           AND contains(lower(trim(n.raw)), l.value)),
                rows AS (SELECT p.account_key, p.txn_idx, p.ts_s, k.k FROM postings AS p
                         JOIN listed AS m ON m.raw = p.counterparty_name JOIN keyed AS k ON k.raw = p.counterparty_name)
           SELECT account_key, list(txn_idx ORDER BY ts_s, txn_idx), arg_min(k, (ts_s, txn_idx)) FROM rows GROUP BY 1"""
    ).fetchall()}
    # Postings without a name, or with one off the list, are left out: the kernel saw the lookups' `missing`.
    assert len(want) > 20 and got == want


def test_value_lookups_code_the_text_itself_if_two_values_share_a_hash(world_ws, monkeypatch):
    import followmoney.engines.duckdb as duck

    expected = _listed_payee_hits(world_ws)
    # Three hash values for hundreds of names: collisions for sure, so the pass reads the names.
    monkeypatch.setattr(duck, "HASH_SQL", "hash({}) % 3")
    coded = DuckDBEngine(world_ws)._coded_columns([(_lookup_indicator(), {"min_rows": 1})])
    assert [c.alias for c in coded] == ["__fm_text__counterparty_name"]
    assert _listed_payee_hits(world_ws) == expected


def test_a_lookup_with_two_values_for_one_text_is_an_error_naming_the_indicator(world_ws):
    from followmoney.errors import EngineError
    from followmoney.kernels.inputs import ValueLookup

    twice = ValueLookup("counterparty_name", "SELECT raw, 1 AS value FROM {values} UNION ALL SELECT raw, 0 FROM {values}",
                        "int8")
    cls = _lookup_indicator(id="RUN92", kernel_lookups={"on_list": twice, "payee_key": _lookup_indicator().kernel_lookups[
        "payee_key"]})
    with pytest.raises(EngineError, match="more than one value") as err:
        DuckDBEngine(world_ws).run_kernel_indicators([(cls, {"min_rows": 1})])
    assert "RUN92" in str(err.value)


def test_hash_codes_find_every_hash_and_only_those():
    from followmoney.kernels.codes import codes_of, hash_table, values_of

    rng = np.random.default_rng(7)
    hashes = np.unique(rng.integers(0, 2**63, 300, dtype=np.int64)).astype(np.uint64) * np.uint64(3)
    keys, codes = hash_table(hashes)
    probe = np.concatenate([hashes[::-1], hashes[:5] + np.uint64(1)])
    got = codes_of(probe, keys, codes)
    assert got[:len(hashes)].tolist() == list(range(len(hashes), 0, -1)) and (got[len(hashes):] == 0).all()
    lut = np.arange(len(hashes) + 1, dtype=np.int64) * 10
    assert values_of(lut, got).tolist() == (got * 10).tolist()
