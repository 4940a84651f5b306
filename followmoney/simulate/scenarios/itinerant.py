"""Itinerant sexual exploitation: a victim moved on a circuit of cities, paid at night, cashed out to crypto.

Reference detectors the plant is checked against (the defaults of CSH02, CSH03, GEO01 and PAY01):

* night cash: >= 4 cash/ATM transactions at local hours 22-06 within 30 days, >= 30 % of them;
* white-label ATMs: >= 6 withdrawals at non-bank ATMs within 30 days, >= 50 % of ATM withdrawals;
* movement: in-person activity in >= 4 cities within 7 days, twice within 60 days;
* crypto after fan-in: a crypto purchase within 24 h after p2p credits from >= 3 senders, twice
  within 30 days.

None of these is decisive and each scores 0.21-0.29, so an account alerts only when three families
fire together (1 - 0.79^3 >= 0.5), which is what the reference catalogue asks for.

True instances (role ``victim``, expected alert): one account per instance that makes 2-3 trips of
``trip_span_days`` days, each through ``cities_per_trip`` cities, trips ``trip_gap_days`` apart (so
each trip is its own movement occurrence). On every trip it receives e-transfers from several
clients in the evening and buys crypto the next day, deposits cash at night and withdraws cash at
night from white-label ATMs. Every single amount stays below 500, so the pass-through rule (FLW01)
does not fire: the alert rests on the three families above.

Look-alikes (role ``look_alike``, no alert), a and b firing exactly two families, c at most one:

* ``itinerant-lookalike-a-*``: a travelling sales representative with the same circuits and
  night-time white-label withdrawals (cash + movement), paid by monthly payroll, no crypto;
  the employer pays the hotels;
* ``itinerant-lookalike-b-*``: the same fan-ins, crypto purchases and night cash (payment
  instruments + cash), but every trip touches ``lookalike_cities`` cities, one fewer than the
  movement rule needs; hotels paid by someone else;
* ``itinerant-lookalike-c-*``: a business traveller who checks into a hotel in another city and
  withdraws cash there the same evening, one city per trip, trips ``lookalike_trip_gap_days``
  apart: booking-cash pairs, but at most two within 30 days, one fewer than CSH08 needs.

Victims also pay their hotels by card on arrival, which the lodging rules of the running-costs family
see, and take cash out or pay it in that same night in that city: booking-cash pairs in every city
of the circuit, which CSH08 (>= 3 cash events within 48 h after a lodging charge in the same city,
in >= 2 cities within 30 days) sees. The hotels of look-alikes a and b are paid by others, so they
make no such pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from followmoney.simulate.core import World
from followmoney.simulate.scenario import (
    LabelBuilder,
    Scenario,
    ScenarioOutput,
    TxnBuilder,
    concat_parties,
    draw_int,
)


class Itinerant(Scenario):
    """A victim moved between cities, paid by several clients, cashing out at night and to crypto."""

    name = "itinerant"
    typology = "sexual_exploitation"
    plants = {"victim": ("CSH02", "CSH03", "CSH08", "GEO01", "PAY01", "RUN02")}
    description = ("2-3 trips through 4-5 cities, night cash deposits and white-label ATM withdrawals, "
                   "client e-transfers converted to crypto the next day.")

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` victims and ``lookalike_ratio`` look-alikes of each kind."""
        p = self.params
        span, gap = float(p["trip_span_days"]), p["trip_gap_days"]
        trips_max = int(p["trips"][1])
        needed = trips_max * span + (trips_max - 1) * float(gap[1]) + 2
        if self.too_short(world, needed):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        kinds = [("", "V", p["cities_per_trip"], True, True, "victim", n_instances),
                 ("lookalike-a-", "LA", p["cities_per_trip"], False, False, "look_alike", n_look),
                 ("lookalike-b-", "LB", [p["lookalike_cities"]] * 2, True, True, "look_alike", n_look)]
        for i in range(n_look):
            sid, acct = f"itinerant-lookalike-c-{i + 1:04d}", f"S-ITIN-LC{i + 1:04d}"
            home = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [home], occupation=("consultant",),
                                              declared_income=(60000, 110000)))
            labels.add(acct, sid, "look_alike", False)
            self._business_trips(world, rng, txns, sid, acct, home, p)
            self._payroll(world, rng, txns, sid, acct, p)
        for prefix, code, n_cities, fanin, night_cash, role, count in kinds:
            for i in range(count):
                sid, acct = f"itinerant-{prefix}{i + 1:04d}", f"S-ITIN-{code}{i + 1:04d}"
                home = int(world.pick_cities(rng, 1)[0])
                if role == "victim":
                    parties.append(world.make_parties(rng, [acct], [home], age=p["victim_age"],
                                                      occupation=("unemployed", "student", "self-employed"),
                                                      declared_income=p["victim_income"]))
                elif prefix == "lookalike-a-":
                    parties.append(world.make_parties(rng, [acct], [home], occupation=("sales representative",),
                                                      declared_income=(45000, 90000)))
                else:
                    parties.append(world.make_parties(rng, [acct], [home], occupation=("self-employed",),
                                                      declared_income=(25000, 50000)))
                labels.add(acct, sid, role, role == "victim")
                self._trips(world, rng, txns, sid, acct, home, n_cities, p, fanin=fanin, night_cash=night_cash,
                            lodging=role == "victim")
                if prefix == "lookalike-a-":
                    self._payroll(world, rng, txns, sid, acct, p)
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    @staticmethod
    def _payroll(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str,
                 p: Mapping[str, Any]) -> None:
        """Monthly salary by ACH: the sales representative is employed."""
        days = np.arange(int(rng.integers(0, 28)), world.days, 30)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(days * 24 + 6.0),
                 amount=np.round(rng.uniform(*map(float, p["lookalike_salary"]), len(days)), 2),
                 channel="ach", payer_account="X-EMP-ITIN", beneficiary_account=acct,
                 counterparty_name="NATIONAL SUPPLY CO", memo="PAYROLL NATIONAL SUPPLY CO")

    @staticmethod
    def _business_trips(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, home: int,
                        p: Mapping[str, Any]) -> None:
        """Trips to one other city each: a hotel in the afternoon, a bank ATM there in the evening."""
        day = float(rng.integers(0, 10))
        while day < world.days - 2:
            k = int(rng.choice([j for j in range(len(world.cities)) if j != home]))
            c = world.cities[k]
            loc = {"city": c.name, "region": c.region}
            txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + rng.uniform(14, 17)),
                     amount=round(float(rng.uniform(*map(float, p["lodging_amount"]))), 2), channel="card",
                     payer_account=acct, beneficiary_account=f"M-ITIN-HOTEL-{c.code}", mcc="7011",
                     counterparty_name=f"{c.name.upper()} BUSINESS HOTEL", **loc)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + rng.uniform(18, 21)),
                     amount=round(float(rng.uniform(*map(float, p["atm_amount"]))), -1), channel="atm",
                     payer_account=acct, atm_owner_type="bank", branch_id=world.branch(rng, k, 1)[0], **loc)
            day += float(np.floor(rng.uniform(*map(float, p["lookalike_trip_gap_days"]))))

    @staticmethod
    def _trips(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, home: int,
               n_cities: Any, p: Mapping[str, Any], fanin: bool, night_cash: bool, lodging: bool) -> None:
        """The trips of one account: lodging and food by card, night cash, night ATM, fan-ins and crypto."""
        span = float(p["trip_span_days"])
        n_trips = draw_int(rng, p["trips"])
        start = float(rng.uniform(0, world.days - n_trips * span - (n_trips - 1) * float(p["trip_gap_days"][1]) - 1))
        clients = [f"{acct}-C{k + 1:02d}" for k in range(int(p["clients_per_account"]))]
        for _ in range(n_trips):
            k = draw_int(rng, n_cities)
            # The circuit: k distinct cities (home may be one of them), one stop per city in order.
            cities = rng.permutation(len(world.cities))[:k]
            # Whole days: times of day below are added to midnight (UTC, the simulator's clock).
            stop_days = np.floor(start + np.sort(rng.uniform(0, span, k)))
            for c, day in zip(cities, stop_days, strict=True):
                city = world.cities[int(c)]
                loc = {"city": city.name, "region": city.region}
                # Lodging by card on arrival (a hotel in each city of the circuit). Look-alikes' hotels
                # are paid by an employer or a companion, so lodging rules (RUN02) stay quiet on them.
                if lodging:
                    txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + rng.uniform(14, 18)),
                             amount=round(float(rng.uniform(*map(float, p["lodging_amount"]))), 2), channel="card",
                             payer_account=acct, beneficiary_account=f"M-ITIN-HOTEL-{city.code}", mcc="7011",
                             counterparty_name=f"{city.name.upper()} INN", **loc)
                # Night withdrawals at white-label ATMs (hotel lobby, gas station), 22:00-04:00.
                n_atm = draw_int(rng, p["atm_per_stop"])
                night = day * 24 + 22 + rng.uniform(0, 6, n_atm)
                txns.add(scenario_id=sid, ts=world.hours_to_ts(night),
                         amount=np.round(rng.uniform(*map(float, p["atm_amount"]), n_atm), -1), channel="atm",
                         payer_account=acct, atm_owner_type="white_label",
                         branch_id=[city.white_label_atms[j] for j in
                                    rng.integers(0, len(city.white_label_atms), n_atm)], **loc)
                if night_cash:
                    txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + 23 + rng.uniform(0, 3)),
                             amount=round(float(rng.uniform(*map(float, p["cash_amount"]))), -1), channel="cash",
                             beneficiary_account=acct, branch_id=world.branch(rng, int(c), 1)[0], **loc)
            if fanin:
                # Clients pay in the evening of the trip's second day; crypto the next afternoon.
                n_pay = draw_int(rng, p["clients_per_fanin"])
                payers = list(rng.choice(clients, n_pay, replace=False))
                t_pay = (np.floor(start) + 1) * 24 + 19 + np.sort(rng.uniform(0, 5, n_pay))
                amounts = np.round(rng.uniform(*map(float, p["client_amount"]), n_pay))
                txns.add(scenario_id=sid, ts=world.hours_to_ts(t_pay), amount=amounts, channel="p2p",
                         payer_account=payers, beneficiary_account=acct, memo="thanks")
                txns.add(scenario_id=sid, ts=world.hours_to_ts((np.floor(start) + 2) * 24 + rng.uniform(12, 16)),
                         amount=round(float(amounts.sum() * rng.uniform(*map(float, p["crypto_fraction"]))), 2),
                         channel="crypto", payer_account=acct, beneficiary_account="X-COINX-EXCHANGE",
                         counterparty_name="COINX DIGITAL ASSETS")
            start += span + float(rng.uniform(*map(float, p["trip_gap_days"])))
