"""Payment walks written as portable SQL (NET04 cycles, NET07 chains): episodes and deterministic ties.

NET04 and NET07 walk account-to-account payments with one join per leg (`indicators._sql.payment_walks`)
instead of a recursive CTE over lists, so Spark runs them too. These tests pin what the rewrite
decided beyond the case files: cycles of one account in a burst are one hit (as NET01-03 merge
their windows into episodes), and equal-length alternatives are reported in a fixed order.
"""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.csv as pacsv

from followmoney import registry
from followmoney.indicators._sql import payment_walks, walk_columns
from followmoney.testing import run_rows

NET04_PARAMS = {"min_amount": 1000, "max_hops": 6, "window_days": 10, "min_ratio": 0.7}


def _rows(text: str) -> pa.Table:
    opts = pacsv.ConvertOptions(column_types={c: pa.string() for c in (
        "txn_id", "ts", "payer_account", "beneficiary_account", "channel")})
    table = pacsv.read_csv(io.BytesIO(text.strip().encode()), convert_options=opts)
    return table.append_column("currency", pa.array(["USD"] * table.num_rows))


TWO_CYCLES = """
txn_id,ts,amount,payer_account,beneficiary_account,channel
t1,2024-01-01T10:00,5000,O,A,wire
t2,2024-01-02T10:00,3000,O,C,wire
t3,2024-01-03T10:00,4800,A,B,transfer
t4,2024-01-04T10:00,4500,B,O,transfer
t5,2024-01-05T10:00,2900,C,O,transfer
"""
"""O starts a 3-leg cycle (t1 t3 t4) and, interleaved with it, a 2-leg cycle (t2 t5)."""


def test_interleaved_cycles_of_one_account_are_one_episode():
    hits = run_rows(registry.get("NET04"), _rows(TWO_CYCLES), NET04_PARAMS)
    assert [h["account_id"] for h in hits] == ["O"]
    (hit,) = hits
    # Every cycle's leaving and returning leg, in time order; valued at the shortest cycle.
    assert hit["evidence_txn_ids"] == ["t1", "t2", "t4", "t5"]
    assert hit["value"] == 2.0
    details = json.loads(hit["details"])
    assert details["n_cycles"] == 2
    assert len(details["path_txns"]) == 2


def test_cycles_further_apart_than_the_window_are_separate_hits():
    later = TWO_CYCLES.replace("t2,2024-01-02", "t2,2024-02-02").replace("t5,2024-01-05", "t5,2024-02-05")
    hits = run_rows(registry.get("NET04"), _rows(later), NET04_PARAMS)
    assert [(h["account_id"], h["evidence_txn_ids"], h["value"]) for h in hits] == [
        ("O", ["t1", "t4"], 3.0), ("O", ["t2", "t5"], 2.0)]


def test_equally_short_cycles_report_the_same_path_every_time():
    # Two 3-leg cycles from the same first payment (through D or through B): the one whose payments
    # come first (txn_idx order: D's leg t2 is earlier than B's t3) is reported, on every engine and run.
    rows = """
txn_id,ts,amount,payer_account,beneficiary_account,channel
t1,2024-01-01T10:00,5000,O,A,wire
t2,2024-01-02T10:00,4800,A,D,transfer
t3,2024-01-02T11:00,4800,A,B,transfer
t4,2024-01-03T10:00,4500,B,O,transfer
t5,2024-01-03T11:00,4500,D,O,transfer
"""
    hits = run_rows(registry.get("NET04"), _rows(rows), NET04_PARAMS)
    assert len(hits) == 1
    details = json.loads(hits[0]["details"])
    assert details["n_cycles"] == 1  # one cycle per first payment: its shortest
    first_path = details["path_txns"]
    assert len(first_path) == 3 and first_path == sorted(first_path)
    assert hits[0]["evidence_txn_ids"] == ["t1", "t5"]


def test_net07_chain_lists_are_in_a_fixed_order():
    # Two chains share A's payment in and out, branching after B: both are listed, smaller txn first.
    rows = """
txn_id,ts,amount,payer_account,beneficiary_account,channel
t1,2024-01-01T10:00,5000,O,A,wire
t2,2024-01-01T12:00,4900,A,B,transfer
t3,2024-01-01T15:00,4800,B,Z,transfer
t4,2024-01-01T14:00,4800,B,Y,transfer
"""
    hits = run_rows(registry.get("NET07"), _rows(rows),
                    {"min_hops": 3, "hold_hours": 24, "min_amount": 1000, "min_ratio": 0.8})
    by_account = {h["account_id"]: h for h in hits}
    assert sorted(by_account) == ["A", "B"]
    assert by_account["A"]["value"] == 2.0
    chains = json.loads(by_account["A"]["details"])["chain_txns"]
    assert chains == sorted(chains) and len(chains) == 2


def test_walk_levels_carry_every_node_and_payment():
    sql = payment_walks("{k} < 3 AND m.dst NOT IN ({nodes})", levels=3)
    assert "walk3 AS (" in sql and "walk4" not in sql
    assert "SELECT w.n0, w.n1, m.dst AS n2, w.t1, m.txn_idx AS t2" in sql
    assert "m.dst NOT IN (w.n0, w.n1, w.n2)" in sql
    assert walk_columns("t", 1, 2, pad_to=4) == "t1, t2, NULL AS t3, NULL AS t4"
