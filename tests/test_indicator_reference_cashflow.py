"""Cash, movement and flow window rules against naive reference implementations on random data.

Covers CSH06, CSH07, CSH08, FLW02, FLW03 and PAY08. Each reference reads the rule's docstring
literally on plain transaction dicts (no postings, keys, buckets or SQL), and the whole path
(ingest, the kernel or SQL, the decoding of evidence) must agree with it on random data: the
flagged accounts, each hit's value and its evidence in posting order.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from followmoney import registry
from followmoney.testing import run_rows

T0 = datetime(2024, 1, 1)
ACCOUNTS = ["A", "B", "C"]
COLUMNS = ["txn_id", "ts", "amount", "currency", "payer_account", "beneficiary_account", "channel", "city",
           "branch_id", "mcc", "memo", "counterparty_name"]
KINDS = ["cash_in", "cash_out", "atm_in", "atm_out", "card", "p2p_in", "p2p_out", "own_out", "pay_in", "bank_in"]
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def txns(days: int) -> st.SearchStrategy:
    """Random transactions touching A, B or C within `days` days."""
    return st.lists(st.tuples(
        st.integers(0, days * 86400),
        st.sampled_from([50.0, 200.0, 400.0, 500.0, 800.0, 1000.0]),
        st.sampled_from(ACCOUNTS),
        st.sampled_from(KINDS),
        st.sampled_from(["Springfield", "Brockway", "Ogdenville", None]),
        st.sampled_from(["BR1", "BR2", "BR3"]),
        st.sampled_from(["7011", "5411", "5814", "4900"]),
        st.sampled_from(["X1", "X2", "X3"]),
    ), min_size=1, max_size=45)


def _rows(draws):
    # One fixed purchase with an MCC and a memo, so rules that need those columns are never skipped.
    rows = [{**{c: None for c in COLUMNS}, "txn_id": "t9999", "ts": T0, "amount": 5.0, "currency": "USD",
             "payer_account": "Z", "beneficiary_account": "MZ", "channel": "card", "mcc": "5999", "memo": "x"}]
    for n, (sec, amount, acct, kind, city, branch, mcc, other) in enumerate(draws):
        r = {c: None for c in COLUMNS}
        r.update(txn_id=f"t{n:04d}", ts=T0 + timedelta(seconds=sec), amount=amount, currency="USD")
        if kind in ("cash_in", "atm_in"):
            r.update(beneficiary_account=acct, channel=kind[:-3], city=city, branch_id=branch)
        elif kind in ("cash_out", "atm_out"):
            r.update(payer_account=acct, channel=kind[:-4], city=city, branch_id=branch)
        elif kind == "card":
            r.update(payer_account=acct, beneficiary_account=f"M{mcc}", channel="card", city=city, mcc=mcc,
                     memo="rent" if mcc == "4900" and sec % 2 else None)
        elif kind == "p2p_in":
            r.update(payer_account=other, beneficiary_account=acct, channel="p2p")
        elif kind == "p2p_out":
            r.update(payer_account=acct, beneficiary_account=other, channel="p2p", memo="back rent" if sec % 3 == 0 else None)
        elif kind == "own_out":
            r.update(payer_account=acct, beneficiary_account=f"{acct}-SAV", channel="transfer")
        elif kind == "pay_in":
            r.update(payer_account="EMP", beneficiary_account=acct, channel="ach", counterparty_name="ACME",
                     memo="PAYROLL ACME" if sec % 4 else "bonus")
        else:  # bank_in: a payment from an account at another bank, named by the bank
            r.update(payer_account=f"EXT-{other}", beneficiary_account=acct, channel="ach",
                     counterparty_name={"X1": "FIRST BANK", "X2": "SECOND BANK", "X3": " first bank"}[other])
        rows.append(r)
    return rows


def _table(rows):
    return pa.table({c: pa.array([r[c] for r in rows], pa.timestamp("us") if c == "ts" else
                                 pa.float64() if c == "amount" else pa.string()) for c in COLUMNS})


PARTIES = pa.table({
    "account_id": ["A", "A-SAV", "B", "C"],
    "party_id": ["PA", "PA", "PB", "PC"],
    "home_city": ["Springfield", "Springfield", "brockway ", None],
    "account_type": ["credit_card", "personal", "personal", "credit_card"],
})
HOME = {"A": "springfield", "B": "brockway", "C": None}
PARTY = {"A": "PA", "A-SAV": "PA", "B": "PB", "C": "PC"}
CARDS = {"A", "C"}


def _key(r):
    # Rows are ingested in list order, which is txn_idx order: the fixed row comes first.
    return (r["ts"], int(r["txn_id"][1:]) % 9999)


def _ids(rows):
    return [r["txn_id"] for r in sorted({r["txn_id"]: r for r in rows}.values(), key=_key)]


def _credit(r, account):
    return r["beneficiary_account"] == account


def _debit(r, account):
    return r["payer_account"] == account


def _episodes(events, gap):
    """Split events sorted by time where consecutive ones are more than `gap` apart."""
    out, cur = [], []
    for e in events:
        if cur and e["ts"] - cur[-1]["ts"] > gap:
            out.append(cur)
            cur = []
        cur.append(e)
    return out + ([cur] if cur else [])


def _observed(hits):
    return sorted((h["account_id"], round(h["value"], 6), h["evidence_txn_ids"]) for h in hits)


def _check(indicator, rows, params, reference):
    got = _observed(run_rows(registry.get(indicator), _table(rows), params, parties=PARTIES))
    want = sorted((a, round(v, 6), ev) for a, v, ev in reference(rows, **params))
    assert got == want


# ----------------------------------------------------------------------------------------- CSH06
def reference_multi_location(rows, min_deposits, min_branches, min_cities, min_total, window_hours):
    window = timedelta(hours=window_hours)
    hits = []
    for account in ACCOUNTS:
        deps = sorted((r for r in rows if _credit(r, account) and r["channel"] in ("cash", "atm")), key=_key)
        anchors = []
        for d in deps:
            win = [x for x in deps if d["ts"] - window <= x["ts"] and _key(x) <= _key(d)]
            if (len(win) >= min_deposits and len({x["branch_id"] for x in win if x["branch_id"]}) >= min_branches
                    and len({x["city"] for x in win if x["city"]}) >= min_cities
                    and sum(x["amount"] for x in win) >= min_total - 1e-6):
                anchors.append(d["ts"])
        groups = []
        for a in anchors:
            if groups and a - window <= groups[-1][1]:
                groups[-1][1] = a
            else:
                groups.append([a - window, a])
        for lo, hi in groups:
            ev = [x for x in deps if lo <= x["ts"] <= hi]
            hits.append((account, float(len(ev)), _ids(ev)))
    return hits


@SETTINGS
@given(txns(4))
def test_multi_location_deposits_match_reference(draws):
    params = {"min_deposits": 2, "min_branches": 2, "min_cities": 2, "min_total": 600.0, "window_hours": 24}
    _check("CSH06", _rows(draws), params, reference_multi_location)


# ----------------------------------------------------------------------------------------- CSH08
def reference_atm_near_booking(rows, window_hours, min_pairs, min_cities, period_days):
    period = timedelta(days=period_days)
    hits = []
    for account in ACCOUNTS:
        lodging = [r for r in rows if _debit(r, account) and r["mcc"] == "7011" and r["city"]]
        cash = [r for r in rows if (_debit(r, account) or _credit(r, account)) and r["channel"] in ("cash", "atm")
                and r["city"]]
        pairs = {c["txn_id"]: [lo for lo in lodging if lo["city"] == c["city"]
                               and lo["ts"] <= c["ts"] <= lo["ts"] + timedelta(hours=window_hours)] for c in cash}
        events = sorted((c for c in cash if pairs[c["txn_id"]]), key=_key)
        anchors = [a["ts"] for a in events
                   if len(w := [e for e in events if a["ts"] - period <= e["ts"] <= a["ts"]]) >= min_pairs
                   and len({e["city"] for e in w}) >= min_cities]
        evidence = [e for e in events if any(a - period <= e["ts"] <= a for a in anchors)]
        for ep in _episodes(evidence, period):
            ev = ep + [lo for e in ep for lo in pairs[e["txn_id"]]]
            hits.append((account, float(len(ep)), _ids(ev)))
    return hits


@SETTINGS
@given(txns(20))
def test_atm_near_booking_matches_reference(draws):
    params = {"window_hours": 72, "min_pairs": 2, "min_cities": 2, "period_days": 10}
    _check("CSH08", _rows(draws), params, reference_atm_near_booking)


# ----------------------------------------------------------------------------------------- CSH07
def reference_funnel(rows, window_hours, min_pairs, period_days, min_withdrawn_share):
    period = timedelta(days=period_days)
    hits = []
    for account in ACCOUNTS:
        home = HOME[account]
        credits = sorted((r for r in rows if _credit(r, account) and r["channel"] in ("cash", "atm") and r["city"]
                          and (home is None or r["city"].lower() != home)), key=_key)
        debits = [r for r in rows if _debit(r, account) and r["channel"] in ("cash", "atm", "card") and r["city"]]
        pairs = {c["txn_id"]: [d for d in debits if d["city"] != c["city"]
                               and c["ts"] <= d["ts"] <= c["ts"] + timedelta(hours=window_hours)] for c in credits}
        anchors = []
        for a in credits:
            if not pairs[a["txn_id"]]:
                continue
            win = [e for e in credits if a["ts"] - period <= e["ts"] <= a["ts"]]
            paired = [e for e in win if pairs[e["txn_id"]]]
            out = sum({d["txn_id"]: d["amount"] for e in paired for d in pairs[e["txn_id"]]}.values())
            if len(paired) >= min_pairs and out >= min_withdrawn_share * sum(e["amount"] for e in win) - 1e-6:
                anchors.append(a["ts"])
        evidence = [e for e in credits if pairs[e["txn_id"]] and any(a - period <= e["ts"] <= a for a in anchors)]
        for ep in _episodes(evidence, period):
            hits.append((account, float(len(ep)), _ids(ep + [d for e in ep for d in pairs[e["txn_id"]]])))
    return hits


@SETTINGS
@given(txns(12))
def test_funnel_deposits_match_reference(draws):
    params = {"window_hours": 36, "min_pairs": 2, "period_days": 6, "min_withdrawn_share": 0.5}
    _check("CSH07", _rows(draws), params, reference_funnel)


# ----------------------------------------------------------------------------------------- FLW03
def reference_salary_sweep(rows, window_hours, min_share, cycles, min_swept):
    hits = []
    for account in ACCOUNTS:
        pay = sorted((r for r in rows if _credit(r, account) and r["channel"] == "ach"
                      and ("payroll" in (r["memo"] or "").lower() or "payroll" in (r["counterparty_name"] or "").lower())),
                     key=_key)
        outs = [r for r in rows if _debit(r, account) and (
            r["channel"] in ("cash", "atm") or (r["channel"] != "card" and r["beneficiary_account"] is not None
                                                and PARTY.get(r["beneficiary_account"]) != PARTY[account]))]
        def answers(k, o, pay=pay):
            """Debit `o` is in pay k's window and no later pay came before it."""
            later = [q for q in pay[k + 1:] if q["ts"] <= o["ts"]]
            return pay[k]["ts"] <= o["ts"] <= pay[k]["ts"] + timedelta(hours=window_hours) and not later

        sweeps = [[o for o in outs if answers(k, o)] for k in range(len(pay))]
        swept = [sum(o["amount"] for o in s) >= min_share * p["amount"] - 1e-6 for p, s in zip(pay, sweeps, strict=True)]
        top = []
        for s in sweeps:
            by: dict = {}
            for o in s:
                by[o["beneficiary_account"]] = by.get(o["beneficiary_account"], 0.0) + o["amount"]
            # Ties go to the smaller account id; cash (no account) sorts last.
            best = min(by.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or "")) if by else (None, 0)
            top.append(best[0])
        anchors = [k for k in range(len(pay)) if sum(swept[max(0, k - cycles + 1):k + 1]) >= min_swept]
        chosen = sorted({j for k in anchors for j in range(max(0, k - cycles + 1), k + 1) if swept[j]})
        groups: list[list[int]] = []
        for j in chosen:
            if groups and j - groups[-1][-1] < cycles:
                groups[-1].append(j)
            else:
                groups.append([j])
        for g in groups:
            tops = [top[j] for j in g if top[j] is not None]
            same = len(tops) > len(set(tops))
            hits.append((account, len(g) + (0.5 if same else 0.0),
                         _ids([pay[j] for j in g] + [o for j in g for o in sweeps[j]])))
    return hits


@SETTINGS
@given(txns(10))
def test_salary_sweep_matches_reference(draws):
    params = {"window_hours": 48, "min_share": 0.8, "cycles": 3, "min_swept": 2}
    _check("FLW03", _rows(draws), params, reference_salary_sweep)


# ----------------------------------------------------------------------------------------- PAY08
def reference_cash_advance(rows, min_banks, min_ratio, window_days):
    window = timedelta(days=window_days)
    hits = []
    for account in sorted(CARDS):
        events = []
        for r in rows:
            if _debit(r, account) and r["channel"] in ("atm", "cash"):
                events.append(dict(r, advance=True, bank=None))
            elif _credit(r, account) and r["channel"] not in ("atm", "cash", "card"):
                internal = r["payer_account"] in PARTY
                bank = None if internal or r["counterparty_name"] is None else r["counterparty_name"].strip().lower()
                events.append(dict(r, advance=False, bank=bank))
        events.sort(key=_key)
        anchors = []
        for a in events:
            if not a["advance"]:
                continue
            win = [e for e in events if a["ts"] - window <= e["ts"] <= a["ts"]]
            adv = sum(e["amount"] for e in win if e["advance"])
            paid = sum(e["amount"] for e in win if not e["advance"])
            if len({e["bank"] for e in win if e["bank"]}) >= min_banks and adv >= min_ratio * paid - 1e-6:
                anchors.append(a["ts"])
        evidence = [e for e in events if any(a - window <= e["ts"] <= a for a in anchors)]
        for ep in _episodes(evidence, window):
            hits.append((account, float(len({e["bank"] for e in ep if e["bank"]})), _ids(ep)))
    return hits


@SETTINGS
@given(txns(20))
def test_cash_advance_matches_reference(draws):
    params = {"min_banks": 2, "min_ratio": 0.5, "window_days": 10}
    _check("PAY08", _rows(draws), params, reference_cash_advance)


# ----------------------------------------------------------------------------------------- FLW02
def reference_depleted(rows, period_days, min_inflow, min_out_ratio, max_hold_hours, max_balance_share, inflow_days,
                       min_low_days_share, max_living_share):
    def day_of(ts):
        return math.floor((ts - datetime(1970, 1, 1)).total_seconds() / 86400)

    everyone = {a for r in rows for a in (r["payer_account"], r["beneficiary_account"]) if a}
    end_day = max(day_of(r["ts"]) for r in rows)
    hits = []
    for account in sorted(everyone):
        legs = sorted([(r, r["amount"] if _credit(r, account) else -r["amount"]) for r in rows
                       if _credit(r, account) or _debit(r, account)], key=lambda x: _key(x[0]))
        cum_in = cum_out = 0.0
        state = []
        for r, amt in legs:
            cum_in += max(amt, 0.0)
            cum_out += max(-amt, 0.0)
            state.append((r, amt, round(cum_in, 2), round(cum_out, 2)))
        opening = max(0.0, max(co - ci for _, _, ci, co in state))
        first_day = min(day_of(r["ts"]) for r, *_ in state)
        hold = {}
        for r, amt, ci, _ in state:
            if amt > 0:
                level = round(opening + ci - amt / 2, 2)
                outs = [x["ts"] for x, a2, _, co in state if a2 < 0 and co >= level]
                hold[r["txn_id"]] = (min(outs) - r["ts"]).total_seconds() if outs else None
        by_period: dict = {}
        for s in state:
            by_period.setdefault((day_of(s[0]["ts"]) - first_day) // period_days, []).append(s)
        days: dict = {}
        for r, amt, ci, co in state:
            d = day_of(r["ts"])
            entry = days.setdefault(d, {"in": 0.0})
            entry["in"] += max(amt, 0.0)
            entry["eod"] = opening + ci - co
        active = sorted(days)
        for p, legs_p in sorted(by_period.items()):
            if first_day + (p + 1) * period_days > end_day + 1:
                continue
            inflow = sum(a for _, a, _, _ in legs_p if a > 0)
            outflow = sum(-a for _, a, _, _ in legs_p if a < 0)
            living = sum(-a for r, a, _, _ in legs_p if a < 0 and (
                r["mcc"] in ("5411", "4900") or " rent " in f" {(r['memo'] or '').lower()} "))
            credits = [r for r, a, _, _ in legs_p if a > 0]
            quick = [r for r in credits if hold[r["txn_id"]] is not None and hold[r["txn_id"]] <= max_hold_hours * 3600]
            low = total = 0.0
            for i, d in enumerate(active):
                if (d - first_day) // period_days != p:
                    continue
                nxt = active[i + 1] if i + 1 < len(active) else d + 100000
                weight = min(nxt, first_day + (p + 1) * period_days) - d
                trailing = sum(days[x]["in"] for x in active if d - inflow_days < x <= d)
                total += weight
                if days[d]["eod"] < max_balance_share * trailing - 1e-6:
                    low += weight
            share = low / total
            if (inflow >= min_inflow and outflow >= min_out_ratio * inflow - 1e-6 and 2 * len(quick) >= len(credits)
                    and share >= min_low_days_share - 1e-9 and living < max_living_share * outflow):
                ranked_in = sorted(((r, a) for r, a, _, _ in legs_p if a > 0), key=lambda x: (-abs(x[1]), _key(x[0])))
                ranked_out = sorted(((r, a) for r, a, _, _ in legs_p if a < 0), key=lambda x: (-abs(x[1]), _key(x[0])))
                ev = [r for r, _ in ranked_in[:20]] + [r for r, _ in ranked_out[:20]]
                hits.append((account, share, _ids(ev)))
    return hits


@SETTINGS
@given(txns(40), st.sampled_from([0.5, 0.8]))
def test_pass_through_depleted_matches_reference(draws, min_low_days_share):
    params = {"period_days": 14, "min_inflow": 400.0, "min_out_ratio": 0.8, "max_hold_hours": 96,
              "max_balance_share": 0.3, "inflow_days": 10, "min_low_days_share": min_low_days_share,
              "max_living_share": 0.2}
    _check("FLW02", _rows(draws), params, reference_depleted)


@pytest.mark.parametrize(("indicator", "reference", "params", "draws"), [
    ("CSH06", reference_multi_location,
     {"min_deposits": 3, "min_branches": 2, "min_cities": 2, "min_total": 1000.0, "window_hours": 24},
     [(0, 400.0, "A", "cash_in", "Springfield", "BR1", "5411", "X1"),
      (3600, 400.0, "A", "atm_in", "Brockway", "BR2", "5411", "X1"),
      (7200, 400.0, "A", "cash_in", "Brockway", "BR2", "5411", "X1")]),
    ("FLW03", reference_salary_sweep, {"window_hours": 48, "min_share": 0.8, "cycles": 3, "min_swept": 2},
     [(3601, 1000.0, "B", "pay_in", None, "BR1", "5411", "X1"), (7200, 1000.0, "B", "p2p_out", None, "BR1", "5411", "X2"),
      (86400 * 14 + 3601, 1000.0, "B", "pay_in", None, "BR1", "5411", "X1"),
      (86400 * 14 + 7200, 1000.0, "B", "p2p_out", None, "BR1", "5411", "X2")]),
])
def test_references_see_the_obvious_case(indicator, reference, params, draws):
    """The references are not vacuous: a hand-made positive is flagged by both sides."""
    rows = _rows(draws)
    assert reference(rows, **params)
    _check(indicator, rows, params, reference)
