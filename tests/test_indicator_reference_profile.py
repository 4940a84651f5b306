"""Window rules of the profile and payment-instrument catalogue against naive reference implementations.

As in `test_indicator_reference.py`, the references work on plain transaction dicts, independently
of postings and SQL, so they check the whole path: ingest, integer keys, the SQL and the decoding
of evidence back to txn ids. Covered: BUS02 business_after_hours_takings (both arms), PAY07
gambling_after_fanin (both arms), RUN10 living_costs_for_others (sliding own baseline) and GEO06
travel_purchases_for_others (passenger memos and one-way tickets).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from followmoney import registry
from followmoney.testing import run_rows

T0 = datetime(2024, 1, 1)
COLS = ["txn_id", "ts", "amount", "currency", "payer_account", "beneficiary_account", "channel", "mcc",
        "counterparty_name"]


def _table(rows: list[dict]) -> pa.Table:
    return pa.table({c: pa.array([r.get(c) for r in rows], pa.string() if c in ("mcc", "counterparty_name") else None)
                     for c in COLS})


def _observed(hits: list[dict]) -> list[tuple]:
    return sorted((h["account_id"], h["window_start"], h["window_end"], h["value"], h["evidence_txn_ids"])
                  for h in hits)


def _legs(rows: list[dict], account: str) -> list[tuple]:
    """The account's legs as postings hold them: (ts, row order, signed amount, row), sorted."""
    legs = []
    for idx, r in enumerate(rows):
        if r["payer_account"] == account:
            legs.append((r["ts"], idx, -r["amount"], r))
        if r["beneficiary_account"] == account:
            legs.append((r["ts"], idx, r["amount"], r))
    return sorted(legs, key=lambda x: (x[0], x[1]))


def _episodes(account: str, evidence: list[tuple], gap: timedelta, value) -> list[tuple]:
    """Evidence legs (ts, idx, row) closer than `gap` form one hit; `value` maps an episode to its value."""
    evidence = sorted(set(evidence), key=lambda e: (e[0], e[1]))
    hits, episode = [], []
    for e in [*evidence, None]:
        if episode and (e is None or e[0] - episode[-1][0] > gap):
            hits.append((account, episode[0][0], episode[-1][0], value(episode), [x[2] for x in episode]))
            episode = []
        if e is not None:
            episode.append(e)
    return hits


# --------------------------------------------------------------------------- BUS02

def _outside(hour: int, hours: str) -> int:
    open_h, close_h = int(hours[:2]), int(hours[3:])
    if open_h == close_h or (open_h == 0 and close_h == 24):
        return 0
    if open_h < close_h:
        return 0 if open_h <= hour < close_h else 1
    return 0 if hour >= open_h or hour < close_h else 1


def reference_after_hours(rows, hours_of, window_days, min_txns, min_share, min_hours_per_day, min_long_days):
    hits = []
    window = timedelta(days=window_days)
    for account, hours in sorted(hours_of.items()):
        takings = [(ts, idx, r) for ts, idx, amount, r in _legs(rows, account) if amount > 0 and r["channel"] == "card"]
        out = {r["txn_id"]: _outside(ts.hour, hours) for ts, _, r in takings}
        anchors = [ts for ts, _, _ in takings
                   if (lambda win: len(win) >= min_txns and sum(out[t] for t in win) >= min_share * len(win))(
                       [r["txn_id"] for ts2, _, r in takings if ts - window <= ts2 <= ts])]
        evidence = [(ts, idx, r["txn_id"]) for ts, idx, r in takings if any(ts <= a <= ts + window for a in anchors)]
        days: dict[int, set[int]] = {}
        for ts, _, _ in takings:
            days.setdefault((ts - datetime(1970, 1, 1)).days, set()).add(ts.hour)
        long_days = sorted(d for d, hs in days.items() if len(hs) >= min_hours_per_day)
        day_anchors = [d for d in long_days if sum(1 for x in long_days if d - window_days < x <= d) >= min_long_days]
        marked = {d for d in long_days if any(d <= a < d + window_days for a in day_anchors)}
        evidence += [(ts, idx, r["txn_id"]) for ts, idx, r in takings
                     if (ts - datetime(1970, 1, 1)).days in marked]
        hits += _episodes(account, evidence, window, lambda ep, out=out: sum(out[x[2]] for x in ep) / len(ep))
    return sorted(hits)


taking = st.tuples(
    st.integers(0, 12 * 86400),           # seconds since T0
    st.sampled_from(["B1", "B2"]),
    st.sampled_from(["card", "card", "card", "ach"]),
    st.sampled_from(["in", "in", "in", "out"]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(taking, min_size=1, max_size=45), st.sampled_from(["09-19", "18-04", "00-24", "10-10"]))
def test_after_hours_takings_match_reference(draws, hours_b2):
    rows = []
    for n, (sec, acct, channel, direction) in enumerate(draws):
        payer, ben = (f"C{n % 7}", acct) if direction == "in" else (acct, "S1")
        rows.append({"txn_id": f"t{n:04d}", "ts": T0 + timedelta(seconds=sec), "amount": 50.0 + n, "currency": "USD",
                     "payer_account": payer, "beneficiary_account": ben, "channel": channel})
    hours_of = {"B1": "09-19", "B2": hours_b2}
    parties = pa.table({"account_id": list(hours_of), "party_id": [f"{a}-E" for a in hours_of],
                        "business_hours": list(hours_of.values())})
    params = {"window_days": 3, "min_txns": 4, "min_share": 0.5, "min_hours_per_day": 3, "min_long_days": 2}
    got = _observed(run_rows(registry.get("BUS02"), _table(rows), params, parties=parties))
    assert got == reference_after_hours(rows, hours_of, **params)


# --------------------------------------------------------------------------- PAY07

CASINO = "LUCKY SPIN CASINO"


def reference_gambling(rows, min_senders, lookback_hours, cashout_share, cashout_days):
    accounts = sorted({a for r in rows for a in (r["payer_account"], r["beneficiary_account"]) if a})
    # The payee of a card payment under the operator's name is the operator: never judged.
    operators = {r["beneficiary_account"] for r in rows
                 if r["channel"] == "card" and (r["counterparty_name"] == CASINO or r["mcc"] == "7995")}
    hits = []
    for account in sorted(set(accounts) - operators):
        legs = _legs(rows, account)
        operator = [lg for lg in legs if lg[3]["counterparty_name"] == CASINO or lg[3]["mcc"] == "7995"]
        evidence, deposits = [], set()
        for ts, idx, amount, r in operator:
            if amount >= 0:
                continue
            credits = [(ts2, idx2, r2) for ts2, idx2, amount2, r2 in legs
                       if amount2 > 0 and r2["channel"] == "p2p" and ts - timedelta(hours=lookback_hours) <= ts2 <= ts]
            other = r["beneficiary_account"] if r["payer_account"] == account else r["payer_account"]
            back = [(ts2, idx2, r2, amount2) for ts2, idx2, amount2, r2 in operator
                    if amount2 > 0 and ts <= ts2 <= ts + timedelta(days=cashout_days)
                    and ((r2["payer_account"] if r2["beneficiary_account"] == account else r2["beneficiary_account"])
                         == other or r2["counterparty_name"] == r["counterparty_name"])]
            senders = {r2["payer_account"] for _, _, r2 in credits}
            fanin = len(senders) >= min_senders
            cashout = bool(back) and sum(b[3] for b in back) >= cashout_share * -amount
            if fanin:
                evidence += [(t, i, r2["txn_id"]) for t, i, r2 in credits]
            if cashout:
                evidence += [(t, i, r2["txn_id"]) for t, i, r2, _ in back]
            if fanin or cashout:
                evidence.append((ts, idx, r["txn_id"]))
                deposits.add(r["txn_id"])
        hits += _episodes(account, evidence, timedelta(days=30),
                          lambda ep, deposits=deposits: float(sum(1 for x in ep if x[2] in deposits)))
    return sorted(hits)


event = st.tuples(
    st.integers(0, 20 * 86400),
    st.sampled_from(["p2p_in", "p2p_in", "p2p_in", "deposit", "deposit", "cashout", "shop"]),
    st.sampled_from(["S1", "S2", "S3", "S4"]),
    st.sampled_from([100.0, 200.0, 400.0, 500.0]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event, min_size=1, max_size=40))
def test_gambling_after_fanin_matches_reference(draws):
    rows = []
    for n, (sec, kind, sender, amount) in enumerate(draws):
        r = {"txn_id": f"t{n:04d}", "ts": T0 + timedelta(seconds=sec), "amount": amount, "currency": "USD",
             "mcc": None, "counterparty_name": None}
        if kind == "p2p_in":
            r.update(payer_account=sender, beneficiary_account="G1", channel="p2p")
        elif kind == "deposit":
            r.update(payer_account="G1", beneficiary_account="CASINO", channel="card", mcc="7995",
                     counterparty_name=CASINO)
        elif kind == "cashout":
            r.update(payer_account="CASINO", beneficiary_account="G1", channel="transfer", counterparty_name=CASINO)
        else:
            r.update(payer_account="G1", beneficiary_account="SHOP", channel="card", mcc="5411",
                     counterparty_name="FRESHMART")
        rows.append(r)
    params = {"min_senders": 2, "lookback_hours": 48, "cashout_share": 0.8, "cashout_days": 3}
    got = _observed(run_rows(registry.get("PAY07"), _table(rows), params))
    assert got == reference_gambling(rows, **params)


# --------------------------------------------------------------------------- RUN10

UPKEEP_MCC = {"5411", "7011", "5912"}


def reference_living_costs(rows, income_of, window_days, baseline_days, multiple, income_share):
    hits = []
    epoch = datetime(1970, 1, 1)
    for account, income in sorted(income_of.items()):
        legs = _legs(rows, account)
        first_day = min((ts - epoch).days for ts, _, _, _ in legs) if legs else 0
        upkeep = [(ts, idx, -amount, r) for ts, idx, amount, r in legs if amount < 0 and r["mcc"] in UPKEEP_MCC]
        daily: dict[int, float] = {}
        for ts, _, spend, _ in upkeep:
            daily[(ts - epoch).days] = daily.get((ts - epoch).days, 0.0) + spend
        period_income = income * window_days / 365.0
        anchors = {}
        for d in daily:
            recent = sum(v for x, v in daily.items() if d - window_days + 1 <= x <= d)
            prior = sum(v for x, v in daily.items() if d - window_days - baseline_days + 1 <= x <= d - window_days)
            covered = min(baseline_days, d - window_days + 1 - first_day)
            if (2 * covered >= baseline_days and recent >= multiple * prior * window_days / max(covered, 1)
                    and recent >= income_share * income * window_days / 365.0):
                anchors[d] = recent / period_income
        evidence, ratio = [], {}
        for ts, idx, _, r in upkeep:
            day = (ts - epoch).days
            covering = [v for a, v in anchors.items() if a - window_days + 1 <= day <= a]
            if covering:
                evidence.append((ts, idx, r["txn_id"]))
                ratio[r["txn_id"]] = max(covering)
        hits += _episodes(account, evidence, timedelta(days=window_days),
                          lambda ep, ratio=ratio: max(ratio[x[2]] for x in ep))
    return sorted(hits)


spend = st.tuples(
    st.integers(0, 40 * 86400),
    st.sampled_from(["A", "B"]),
    st.sampled_from(["5411", "5411", "7011", "5912", "5311"]),
    st.sampled_from([10.0, 20.0, 40.0, 80.0]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(spend, min_size=1, max_size=40))
def test_living_costs_for_others_matches_reference(draws):
    rows = [{"txn_id": f"t{n:04d}", "ts": T0 + timedelta(seconds=sec), "amount": amount, "currency": "USD",
             "payer_account": acct, "beneficiary_account": f"M{mcc}", "channel": "card", "mcc": mcc,
             "counterparty_name": None} for n, (sec, acct, mcc, amount) in enumerate(draws)]
    income_of = {"A": 3650.0, "B": 7300.0}
    parties = pa.table({"account_id": list(income_of), "party_id": [f"P{a}" for a in income_of],
                        "declared_income": list(income_of.values())})
    params = {"window_days": 5, "baseline_days": 10, "multiple": 2.0, "income_share": 0.5}
    got = _observed(run_rows(registry.get("RUN10"), _table(rows), params, parties=parties))
    assert got == reference_living_costs(rows, income_of, **params)


# --------------------------------------------------------------------------- GEO06

RISKY = {"MD", "RO"}


def _passenger(memo: str | None) -> tuple[str | None, bool]:
    """(passenger name, one-way flag) read from a ticket memo the way the rule documents it."""
    text = (memo or "").strip(" ").lower()
    one_way = text.endswith((" one-way", " one way", " ow"))
    pax = None
    if text.startswith(("passenger ", "passenger:")):
        pax = text[9:].strip(" ")
    elif text.startswith(("pax ", "pax:")):
        pax = text[3:].strip(" ")
    if pax is not None and pax.startswith(":"):
        pax = pax[1:].strip(" ")
    if not pax:
        return None, one_way
    if pax.endswith((" one-way", " one way")):
        pax = pax[:-8].strip(" ")
    elif pax.endswith(" ow"):
        pax = pax[:-3].strip(" ")
    return pax, one_way


def reference_travel(rows, holders, window_days, min_tickets, min_passengers, min_one_way):
    hits = []
    window = timedelta(days=window_days)
    for account, holder in sorted(holders.items()):
        events = []
        for ts, idx, amount, r in _legs(rows, account):
            if amount >= 0 or r["mcc"] not in ("4511", "4131"):
                continue
            pax, one_way = _passenger(r["memo"])
            other = pax if pax is not None and pax != holder.lower() else None
            events.append((ts, idx, r["txn_id"], other, int(one_way and r["beneficiary_country"] in RISKY)))
        evidence = []
        for ts, _, _, _, _ in events:
            win = [e for e in events if ts - window <= e[0] <= ts]
            by_passengers = len(win) >= min_tickets and len({e[3] for e in win if e[3]}) >= min_passengers
            by_one_way = sum(e[4] for e in win) >= min_one_way
            evidence += [(e[0], e[1], e[2]) for e in win if by_passengers or (by_one_way and e[4])]
        hits += _episodes(account, evidence, window, lambda ep: float(len(ep)))
    return sorted(hits)


ticket = st.tuples(
    st.integers(0, 20 * 86400),
    st.sampled_from(["V1", "V2"]),
    st.sampled_from(["4511", "4131", "5411"]),
    st.sampled_from(["PAX ANA POPESCU", "PAX: MARIA IONESCU", "PASSENGER ELENA RUSU ONE-WAY", "pax doina lupu ow",
                     "PAX IRINA CEBAN ONE WAY", "TICKET", None]),
    st.sampled_from(["US", "MD", "RO"]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ticket, min_size=1, max_size=30))
def test_travel_purchases_for_others_matches_reference(draws):
    rows = [{"txn_id": f"t{n:04d}", "ts": T0 + timedelta(seconds=sec), "amount": 100.0, "currency": "USD",
             "payer_account": acct, "beneficiary_account": f"M{mcc}", "channel": "card", "mcc": mcc,
             "counterparty_name": None, "memo": memo, "beneficiary_country": cc}
            for n, (sec, acct, mcc, memo, cc) in enumerate(draws)]
    holders = {"V1": "Ana Popescu", "V2": "Maria Ionescu"}
    parties = pa.table({"account_id": list(holders), "party_id": [f"P{a}" for a in holders],
                        "name": list(holders.values())})
    table = _table(rows).append_column("memo", pa.array([r["memo"] for r in rows], pa.string())) \
        .append_column("beneficiary_country", pa.array([r["beneficiary_country"] for r in rows], pa.string()))
    params = {"window_days": 7, "min_tickets": 3, "min_passengers": 2, "min_one_way": 2}
    got = _observed(run_rows(registry.get("GEO06"), table, params, parties=parties))
    assert got == reference_travel(rows, holders, **params)
