"""Tracing: amounts attributed exactly as each rule says, on a hand-built fixture, and conserved."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followmoney.tracing import Txn, trace


def _t(n: int, day: int, amount: float, payer: str | None, ben: str | None, channel: str = "transfer",
       group: str | None = None, customer: bool = True) -> Txn:
    ts = datetime(2024, 1, day, 12)
    return Txn(f"t{n}", (ts, n), ts, amount, payer, ben, channel, group, customer)


# S is the subject; X and Y are customers; EXT is an account at another bank.
DOWN = [
    _t(0, 1, 500, "X", "Z"),                 # before S's money arrives: carries nothing of it
    _t(1, 1, 100, "P", "X"),                 # untraced money in X
    _t(2, 2, 300, "S", "X"),                 # S's money joins X's pool (100 untraced, 300 traced)
    _t(3, 3, 200, "X", None, "atm"),         # cash out of X
    _t(4, 4, 100, "X", "Y"),                 # second payment: depth limit at 2
    _t(5, 5, 150, "X", "EXT", customer=False),
    _t(6, 5, 50, "S", None, "atm"),          # S's own cash-out
    _t(7, 5, 40, "S", None, "card", "jewellery"),
    _t(8, 6, 100, "S", "X"),                 # stays in X: balance left
]


def _ends(result) -> dict[tuple[str, str], float]:
    return {(end, kind): amount for (_, end, kind), amount in result.end_totals().items()}


def test_proportional_rule_attributes_pro_rata():
    result = trace(DOWN, ["S"], "down", "proportional", depth=2)
    # t3: S holds 300/400 of X's pool -> 150 of the 200; pool left: 50 untraced, 150 traced.
    # t4: 150/200 of 100 -> 75 reaches Y at the depth limit; pool left: 25 untraced, 75 traced.
    # t5: 150 exceeds the pool of 100, which it empties: 75 traced leaves to EXT.
    assert _ends(result) == {("cash", "cash_out"): 200.0, ("Y", "depth_limit"): 75.0,
                             ("EXT", "external_account"): 75.0, ("merchant:jewellery", "luxury"): 40.0,
                             ("X", "balance_left"): 100.0}
    cash = [f for f in result.flows if f.end == "cash_out"]
    assert [(f.txn_id, f.path, f.amount) for f in cash] == [("t3", ("S", "X", "cash"), 150.0),
                                                             ("t6", ("S", "cash"), 50.0)]
    assert not [f for f in result.flows if f.txn_id == "t0"], "money cannot leave before it arrives"


def test_fifo_rule_takes_oldest_money_first():
    result = trace(DOWN, ["S"], "down", "fifo", depth=2)
    # t3: the 100 untraced came first, then 100 of S's 300; t4: 100 more of S's; t5: S's last 100, then
    # 50 the pool cannot explain.
    assert _ends(result) == {("cash", "cash_out"): 150.0, ("Y", "depth_limit"): 100.0,
                             ("EXT", "external_account"): 100.0, ("merchant:jewellery", "luxury"): 40.0,
                             ("X", "balance_left"): 100.0}
    assert [(f.txn_id, f.amount) for f in result.flows if f.src == "X"] == [("t3", 100.0), ("t4", 100.0),
                                                                            ("t5", 100.0)]


def test_depth_three_goes_through_y_and_depth_one_stops_at_x():
    extra = [*DOWN, _t(9, 7, 60, "Y", None, "cash")]
    deep = trace(extra, ["S"], "down", "fifo", depth=3)
    assert _ends(deep)[("cash", "cash_out")] == 150.0 + 60.0
    assert ("Y", "depth_limit") not in _ends(deep)
    shallow = trace(DOWN, ["S"], "down", "fifo", depth=1)
    assert _ends(shallow)[("X", "depth_limit")] == 400.0


def test_other_case_members_end_a_path():
    result = trace(DOWN, ["S", "X"], "down", "proportional", depth=2)
    assert _ends(result)[("X", "subject")] == 400.0
    # X's own payments are traced from X, wholly.
    assert result.end_totals()[("X", "cash", "cash_out")] == 200.0


UP = [
    _t(1, 1, 200, None, "X", "cash"),
    _t(2, 2, 100, "B", "X"),
    _t(3, 3, 150, "X", "S"),
    _t(4, 3, 70, None, "S", "cash"),
    _t(5, 4, 200, "X", "S"),
]


@pytest.mark.parametrize(("rule", "expected"), [
    ("proportional", {("cash", "cash_in"): 70.0 + 100.0 + 100.0, ("B", "origin"): 50.0 + 50.0,
                      ("unknown:X", "unknown_funds"): 50.0}),
    ("fifo", {("cash", "cash_in"): 70.0 + 150.0 + 50.0, ("B", "origin"): 100.0,
              ("unknown:X", "unknown_funds"): 50.0}),
])
def test_upstream_attribution(rule, expected):
    result = trace(UP, ["S"], "up", rule, depth=2)
    got: dict[tuple[str, str], float] = {}
    for (origin, _, kind), amount in result.end_totals().items():
        got[(origin, kind)] = got.get((origin, kind), 0.0) + amount
    assert got == expected


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="rule"):
        trace(DOWN, ["S"], rule="lifo")
    with pytest.raises(ValueError, match="depth"):
        trace(DOWN, ["S"], depth=0)


_accounts = st.sampled_from(["S", "A", "B", "C", None])


@given(st.lists(st.tuples(st.integers(1, 28), st.integers(1, 1000), _accounts, _accounts,
                          st.sampled_from(["transfer", "atm", "card"])), max_size=40),
       st.sampled_from(["proportional", "fifo"]), st.integers(1, 3))
def test_attribution_is_conserved(rows, rule, depth):
    txns = [_t(i, day, float(amount), payer, ben if payer != ben else None, channel)
            for i, (day, amount, payer, ben, channel) in enumerate(rows) if payer or ben]
    result = trace(txns, ["S"], "down", rule, depth)
    out_of_s = sum(t.amount for t in txns if t.payer == "S")
    assert sum(a for _, _, a in result.ends) == pytest.approx(out_of_s, abs=1e-6)
    for f in result.flows:
        txn = next(t for t in txns if t.txn_id == f.txn_id)
        assert f.amount <= txn.amount + 1e-9


def test_flow_chart_draws_the_attributed_amounts():
    from followmoney.outputs.charts import flow_chart
    from followmoney.tracing import aggregate_flows

    result = trace(DOWN, ["S"], "down", "proportional", depth=2)
    flows = aggregate_flows(result)
    uri, data = flow_chart(flows, "fixture")
    assert uri.startswith("data:image/png;base64,")
    # Column 0 holds what left the subject; every band is drawn, folded or not.
    assert data["columns"][0] == {"S": 490.0}
    assert round(sum(b["amount"] for b in data["bands"]), 2) == round(sum(f["attributed"] for f in flows), 2)
    assert data["columns"][2]["cash [cash_out]"] == 150.0
    # X received 400 and sent 300 on: its node is as tall as the larger.
    assert data["columns"][1]["X"] == 400.0


# A small bank for the workspace loaders: S pays X, X pays Y and the hub H, Y pays Z; H has more
# counterparties than the hub cap (4); EXT is at another bank; T is a second case's subject.
WS_ROWS = [
    (1, "P", "X", 100.0, "transfer"), (2, "S", "X", 300.0, "transfer"), (3, "X", "Y", 120.0, "transfer"),
    (4, "X", "H", 50.0, "transfer"), (5, "Q1", "H", 10.0, "transfer"), (6, "Q2", "H", 10.0, "transfer"),
    (7, "H", "W", 40.0, "transfer"), (8, "Y", "Z", 90.0, "transfer"), (9, "S", "EXT", 20.0, "wire"),
    (10, "EXT", "T", 5.0, "wire"), (11, "T", "Y", 60.0, "transfer"), (12, "Z", None, 30.0, "atm"),
    (13, "Y", "X", 10.0, "transfer"), (14, "Q3", "H", 10.0, "transfer"),
]


def _bank_workspace():
    from followmoney.workspace import Workspace

    ws = Workspace(":memory:")
    ws.sql("""CREATE TABLE txns (txn_idx BIGINT, txn_id VARCHAR, ts TIMESTAMP, amount DOUBLE, amount_rc DOUBLE,
                                 payer_account VARCHAR, beneficiary_account VARCHAR, channel VARCHAR)""")
    for n, payer, ben, amount, channel in WS_ROWS:
        ws.sql("INSERT INTO txns VALUES ($i, $id, TIMESTAMP '2024-01-01' + to_days($i), $a, $a, $p, $b, $c)",
               {"i": n, "id": f"t{n}", "a": amount, "p": payer, "b": ben, "c": channel})
    ws.sql("""CREATE TABLE accounts AS SELECT account_id, account_id <> 'EXT' AS is_customer FROM (
                  SELECT payer_account AS account_id FROM txns UNION SELECT beneficiary_account FROM txns)
              WHERE account_id IS NOT NULL""")
    return ws


@pytest.mark.parametrize("direction", ["down", "up"])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_set_based_loading_matches_each_case_alone(direction, depth):
    from followmoney.tracing import load_txns, load_txns_for_cases, trace_cases, trace_workspace

    ws = _bank_workspace()
    cases = {"A": ["S"], "B": ["T", "Y"], "C": ["H"], "D": []}
    together = load_txns_for_cases(ws, cases, direction, depth, hub_counterparties=4)
    results = trace_cases(ws, {k: v for k, v in cases.items() if v}, direction, "proportional", depth,
                          hub_counterparties=4)
    for cid, subjects in cases.items():
        alone = load_txns(ws, subjects, direction, depth, hub_counterparties=4)
        assert together[cid] == alone
        if subjects:
            single = trace_workspace(ws, subjects, direction, "proportional", depth, hub_counterparties=4)
            assert results[cid].flows == single.flows and results[cid].ends == single.ends


def test_loaded_transactions_are_enough_for_the_trace():
    from followmoney.tracing import load_txns_for_cases

    ws = _bank_workspace()
    loaded = load_txns_for_cases(ws, {"A": ["S"]}, "down", 3, hub_counterparties=4)
    txns, hubs = loaded["A"]
    # H has five counterparties: a hub; EXT is outside the bank: where the trace stops, never traced through.
    assert hubs == {"H", "EXT"}
    # Reach: S, then X (S's payee; EXT stops), then Y (X's payee; H stops). Their transactions, in time order.
    assert [t.txn_id for t in txns] == [f"t{n}" for n in (1, 2, 3, 4, 8, 9, 11, 13)]
    every = [Txn(f"t{n}", (datetime(2024, 1, 1 + n), n), datetime(2024, 1, 1 + n), a, p, b, c, None, b != "EXT")
             for n, p, b, a, c in WS_ROWS]
    # Replaying every transaction of the bank gives the same attribution as replaying the loaded ones.
    full = trace(every, ["S"], "down", "proportional", 3, hubs)
    part = trace(txns, ["S"], "down", "proportional", 3, hubs)
    assert full.flows == part.flows and full.ends == part.ends
    assert full.end_totals()[("S", "Z", "depth_limit")] > 0
