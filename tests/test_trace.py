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
