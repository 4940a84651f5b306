"""The one scoring rule: families, the 90-day span, decisive hits, the young modifier, customers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from followmoney.scoring import Rule, combine, judge, score_alerts
from followmoney.workspace import Workspace

T0 = datetime(2024, 1, 1)


def hit(ind: str, family: str, score: float, day: int, decisive: bool = False) -> dict:
    return {"indicator_id": ind, "family": family, "score": score, "weight": 1.0, "decisive": decisive,
            "window_start": T0 + timedelta(days=day), "window_end": T0 + timedelta(days=day, hours=1)}


def test_combine_is_a_noisy_or_capped_at_one():
    assert combine({"a": 0.25, "b": 0.25, "c": 0.25}, {}) == pytest.approx(1 - 0.75**3, abs=1e-6)
    assert combine({"a": 0.8}, {"a": 2.0}) == 1.0
    assert combine({"a": 0.4}, {}, factor=1.25) == 0.5


def test_three_weak_families_alert_and_two_strong_ones_do_not():
    rule = Rule()
    three = [hit("RUN01", "running_costs", 0.25, 1), hit("GEO05", "movement", 0.25, 10),
             hit("LUX01", "lifestyle", 0.25, 20)]
    assert judge(three, rule).alerts
    two = [hit("RUN01", "running_costs", 0.45, 1), hit("LUX01", "lifestyle", 0.45, 2)]
    v = judge(two, rule)
    assert v.score >= rule.threshold and not v.alerts, "the family count keeps two families from alerting"


def test_a_second_hit_in_the_same_family_adds_nothing():
    rule = Rule()
    one = judge([hit("RUN01", "running_costs", 0.3, 1)], rule)
    same = judge([hit("RUN01", "running_costs", 0.3, 1), hit("RUN02", "running_costs", 0.3, 2)], rule)
    assert one.score == same.score and len(same.families) == 1


def test_families_must_fire_within_the_span():
    rule = Rule()
    spread = [hit("RUN01", "running_costs", 0.3, 0), hit("GEO05", "movement", 0.3, 50),
              hit("LUX01", "lifestyle", 0.3, 91)]
    assert not judge(spread, rule).alerts
    assert judge(spread, Rule(span_days=92)).alerts


def test_a_decisive_hit_alerts_alone():
    v = judge([hit("CSH01", "cash", 0.6, 1, decisive=True)], Rule())
    assert v.alerts and v.decisive == ["CSH01"]


def test_young_modifier_lifts_the_score_but_never_adds_a_family():
    rule = Rule(threshold=0.6)
    hits = [hit("RUN01", "running_costs", 0.25, 1), hit("GEO05", "movement", 0.25, 2),
            hit("LUX01", "lifestyle", 0.25, 3)]
    assert not judge(hits, rule).alerts  # 0.578 < 0.6
    young = judge(hits, rule, young_until=T0 + timedelta(days=30))
    assert young.young and young.alerts  # 1 - (1 - 0.3125)^3 = 0.675
    assert not judge(hits, rule, young_until=T0).alerts, "the account is no longer new at the hits"
    alone = judge(hits[:1], rule, young_until=T0 + timedelta(days=30))
    assert not alone.alerts


def _workspace(hits: list[tuple[str, str, float, int]], parties: list[tuple[str, str, str | None, str | None]]):
    ws = Workspace(":memory:", threads=1)
    families = {"RUN01": "running_costs", "GEO05": "movement", "LUX01": "lifestyle", "RUN07": "running_costs"}
    roles = {"LUX01": "controller", "RUN07": "victim"}
    ws.put("indicator_plan", pa.table({
        "indicator_id": list(families), "family": list(families.values()), "decisive": [False] * len(families),
        "role_hint": [roles.get(k) for k in families], "weight": [1.0] * len(families)}))
    ws.put("hits", pa.table({
        "indicator_id": [h[1] for h in hits], "account_id": [h[0] for h in hits],
        "window_start": [T0 + timedelta(days=h[3]) for h in hits],
        "window_end": [T0 + timedelta(days=h[3], hours=1) for h in hits],
        "value": [3.0] * len(hits), "score": [h[2] for h in hits],
        "evidence_txn_ids": pa.array([[f"t{i}"] for i in range(len(hits))], pa.list_(pa.string())),
        "params": ['{"window_days": 30, "min_count": 3, "income_share": 0.5, "min_categories": 3}'] * len(hits),
        "details": ["{}"] * len(hits)}))
    ws.put("accounts", pa.table({"account_id": [p[0] for p in parties], "party_id": [p[1] for p in parties]}))
    ws.put("parties", pa.table({
        "account_id": [p[0] for p in parties], "party_id": [p[1] for p in parties],
        "birth_date": pa.array([datetime.strptime(p[2], "%Y-%m-%d").date() if p[2] else None for p in parties],
                               pa.date32()),
        "opened_at": pa.array([datetime.strptime(p[3], "%Y-%m-%d").date() if p[3] else None for p in parties],
                              pa.date32())}))
    return ws


def test_customer_level_pools_the_accounts_of_one_party():
    # Two families on one account and a third on the other account of the same customer.
    ws = _workspace([("A1", "RUN01", 0.25, 1), ("A1", "GEO05", 0.25, 5), ("A2", "LUX01", 0.3, 9),
                     ("B1", "RUN01", 0.25, 1), ("B1", "GEO05", 0.25, 5), ("B2", "LUX01", 0.3, 9)],
                    [("A1", "P1", None, None), ("A2", "P1", None, None),
                     ("B1", "P2", None, None), ("B2", "P3", None, None)])
    try:
        assert score_alerts(ws, {}) == 2
        alerts = {r[0]: r[1:] for r in ws.sql("SELECT account_id, party_id, alert_reason, role_hypothesis FROM alerts")
                  .fetchall()}
        assert set(alerts) == {"A1", "A2"}, "B1 and B2 belong to different customers"
        assert "customer P1" in alerts["A1"][1]
        assert alerts["A2"][2] == "controller"
        assert ws.sql("SELECT party_id, alerted FROM customer_scores").fetchall() == [("P1", True)]
        # Every account with a hit has a score; B1 and B2 do not alert and keep their own lower scores.
        scores = {r[0]: r[1:] for r in ws.sql("SELECT account_id, score, alerted FROM account_scores").fetchall()}
        assert set(scores) == {"A1", "A2", "B1", "B2"}
        assert scores["A1"][1] and scores["A2"][1] and not scores["B1"][1] and not scores["B2"][1]
        assert scores["A1"][0] == scores["A2"][0] > scores["B1"][0] > scores["B2"][0] > 0
        assert ws.sql("SELECT supporting_indicators FROM alert_roles WHERE account_id = 'A2'").fetchone()[0] == [
            "LUX01"]
    finally:
        ws.close()


def test_young_new_account_is_read_from_parties_and_explained():
    hits = [("Y1", "RUN01", 0.25, 10), ("Y1", "GEO05", 0.25, 11), ("Y1", "LUX01", 0.25, 12)]
    ws = _workspace(hits, [("Y1", "PY", "2003-06-01", "2023-12-01")])
    try:
        assert score_alerts(ws, {"alert_threshold": 0.6}) == 1
        reason = ws.sql("SELECT alert_reason FROM alerts").fetchone()[0]
        assert "young_new_account_risk" in reason
    finally:
        ws.close()
    ws = _workspace(hits, [("Y1", "PY", "1980-06-01", "2023-12-01")])
    try:
        assert score_alerts(ws, {"alert_threshold": 0.6}) == 0, "an older holder gets no modifier"
    finally:
        ws.close()


def test_victim_role_is_marked_not_to_be_named_as_subject():
    hits = [("V1", "RUN07", 0.4, 1), ("V1", "GEO05", 0.25, 2), ("V1", "LUX01", 0.1, 3)]
    ws = _workspace(hits, [("V1", "PV", None, None)])
    try:
        assert score_alerts(ws, {}) == 1
        role, reason = ws.sql("SELECT role_hypothesis, alert_reason FROM alerts").fetchone()
        assert role == "victim" and "do not name as the subject" in reason
    finally:
        ws.close()


def test_front_line_observations_count_as_a_behavioural_family():
    hits = [("O1", "RUN01", 0.25, 1), ("O1", "GEO05", 0.25, 2)]
    ws = _workspace(hits, [("O1", "PO", None, None)])
    try:
        assert score_alerts(ws, {}) == 0, "two families are one short"
        ws.put("observations", pa.table({"account_id": ["O1", "O1"], "ts": [T0 + timedelta(days=3)] * 2,
                                         "code": ["escorted_by_third_party", "escorted_by_third_party"]}))
        assert score_alerts(ws, {}) == 1
        families, reason = ws.sql("SELECT families, alert_reason FROM alerts").fetchone()
        assert "behavioural" in families and "OBS:escorted_by_third_party" in reason
    finally:
        ws.close()
