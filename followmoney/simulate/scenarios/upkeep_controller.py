"""A controller paying the upkeep and the journeys of several victims.

FinCEN (2014, 2020) and FINTRAC (2016, 2021) describe the person who runs a small group paying
for everything the victims need: their bus tickets and flights from the source country, hotel
rooms (two a night, round amounts, a card hold settled in cash), groceries and fast food for
several people, pharmacy, clothing and make-up, parking near the hotels, gift cards bought over
the counter. Each purchase is ordinary; the month of them, against the customer's own past and
means, is not.

True instances (role ``controller``, expected alert), one personal account each, with a modest
declared income and months of ordinary spending before a month of upkeep:

* ``tickets`` bus tickets and flights for ``passengers`` people named in the passenger memo, and
  ``one_way_tickets`` one-way bus tickets sold by a merchant in a THB-risk country (movement);
* upkeep: groceries, fast food, pharmacy, clothing, cosmetics and lodging for ``upkeep_total``
  within 30 days, several times the own baseline and over half a month's income (running costs);
* lodging with two rooms the same night, ``round_rooms`` round-amount room charges and a
  pre-authorisation released unsettled with an ATM withdrawal the same evening (running costs);
* ``parking`` low-value parking payments (running costs);
* ``round_buys`` round grocery or convenience purchases of several times the usual basket (gift
  or prepaid cards bought over the counter; payment instruments).

Look-alikes (role ``look_alike``, no alert), one family at most and one step short elsewhere:

* ``upkeep_controller-lookalike-a-*``: a parent paying a student's rent monthly and three flights
  in the student's name (one other passenger: one short of two), on a high income; rent is not upkeep;
* ``upkeep_controller-lookalike-b-*``: a business traveller: flights in the own name, hotel nights
  in three cities, two round-amount hotel rates (one short of three) and ``lookalike_parking``
  parking payments (fewer than ten).

Amounts and counts come from ``defaults.yml`` ``scenarios.upkeep_controller.params``.
"""

from __future__ import annotations

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
    draw_uniform,
)

_PASSENGERS = ("MARIA IONESCU", "ELENA RUSU", "IRINA CEBAN", "DOINA LUPU", "OKSANA MELNYK", "LIEN NGUYEN",
               "ANA MORARU", "SVETLANA BOTNARU")
_AIRLINES = ("SKYWAYS AIR", "TRANSATLANTIC AIRLINES")
_RISK_BUS = (("TRANSNISTRIA EXPRESS BUS", "MD"), ("CARPATI COACH LINES", "RO"), ("KYIV INTERCITY BUS", "UA"))
_DOMESTIC_BUS = "GREYLINE BUS"
_MOTELS = ("STARLIGHT MOTEL", "ROADSIDE LODGE", "ECONO INN & SUITES")
_BUSINESS_HOTELS = ("GRAND PLAZA HOTEL", "CITYVIEW BUSINESS HOTEL", "HARBOR SUITES")
# name, MCC, amount range: the victims' upkeep, bought in bulk.
_UPKEEP = (("SUNRISE SUPERMARKET", "5411", (90, 230)), ("BURGER BARN", "5814", (35, 90)),
           ("CITY DRUG", "5912", (40, 120)), ("FASHION HUB", "5651", (80, 240)),
           ("LACE & SILK BOUTIQUE", "5631", (60, 180)), ("GLAMOUR COSMETICS", "5977", (40, 130)))
_PARKING = "CITYPARK METER"
_CONVENIENCE = ("CORNER MARKET", "QUICKSTOP MART")


class UpkeepController(Scenario):
    """Controller paying several victims' journeys, rooms, food, clothes and parking."""

    name = "upkeep_controller"
    typology = "sexual_exploitation"
    plants = {"controller": ("GEO06", "PAY06", "RUN05", "RUN09", "RUN10")}
    description = ("Tickets for several named passengers (one-way from source countries), a month of upkeep "
                   "far above the own baseline, two rooms a night and round hotel charges, parking and round "
                   "convenience-store buys by one modest-income account.")

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` controllers and ``lookalike_ratio`` look-alikes of each kind."""
        p = self.params
        if self.too_short(world, 150):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []

        for i in range(n_instances):
            sid, acct = f"upkeep_controller-{i + 1:04d}", f"S-UPKEEP-{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [city], age=(25, 50),
                                              occupation=("self-employed", "driver", "promoter"),
                                              declared_income=p["declared_income"]))
            labels.add(acct, sid, "controller", True)
            # The upkeep month starts late enough for months of ordinary spending before it.
            start = float(np.floor(rng.uniform(world.days - 55, world.days - 35)))
            where = {"city": world.cities[city].name, "region": world.cities[city].region}
            names = [str(n) for n in rng.choice(_PASSENGERS, draw_int(rng, p["passengers"]), replace=False)]
            self._tickets(world, rng, txns, sid, acct, start, names, draw_int(rng, p["tickets"]),
                          int(p["one_way_tickets"]), p)
            self._upkeep(world, rng, txns, sid, acct, start, float(draw_uniform(rng, p["upkeep_total"])), where)
            self._rooms(world, rng, txns, sid, acct, start, p, where)
            self._parking(world, rng, txns, sid, acct, start, draw_int(rng, p["parking"]), where)
            self._round_buys(world, rng, txns, sid, acct, start, draw_int(rng, p["round_buys"]), where)
            spenders.append((acct, city, sid))

        for i in range(n_look):
            # (a) a parent paying a student's rent and flights home: one other passenger only.
            sid, acct = f"upkeep_controller-lookalike-a-{i + 1:04d}", f"S-UPKEEP-LA{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [city], age=(45, 60), occupation=("engineer", "nurse"),
                                              declared_income=p["lookalike_income"]))
            labels.add(acct, sid, "look_alike", False)
            start = float(np.floor(rng.uniform(world.days - 55, world.days - 35)))
            child = str(rng.choice(_PASSENGERS))
            months = np.arange(0, world.days // 30)
            txns.add(scenario_id=sid, ts=world.hours_to_ts((months * 30 + 2) * 24 + 9.0),
                     amount=np.round(rng.uniform(*map(float, p["lookalike_rent"]), months.size)), channel="transfer",
                     payer_account=acct, beneficiary_account="X-UPKEEP-CAMPUS-HOUSING",
                     counterparty_name="CAMPUS HOUSING LLC", mcc="6513", memo="RENT " + child)
            self._tickets(world, rng, txns, sid, acct, start, [child], draw_int(rng, p["tickets"]), 0, p)
            spenders.append((acct, city, sid))

            # (b) a business traveller: own flights, hotels in several cities, a few round rates.
            sid, acct = f"upkeep_controller-lookalike-b-{i + 1:04d}", f"S-UPKEEP-LB{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            person = world.make_parties(rng, [acct], [city], occupation=("sales manager", "consultant"),
                                        declared_income=p["lookalike_income"])
            parties.append(person)
            labels.add(acct, sid, "look_alike", False)
            start = float(np.floor(rng.uniform(world.days - 55, world.days - 35)))
            own = str(person.column("name")[0].as_py())
            self._tickets(world, rng, txns, sid, acct, start, [own], draw_int(rng, p["tickets"]), 0, p)
            self._travel_hotels(world, rng, txns, sid, acct, city, start, int(p["round_rooms"]) - 1)
            self._parking(world, rng, txns, sid, acct, start, draw_int(rng, p["lookalike_parking"]),
                          {"city": world.cities[city].name, "region": world.cities[city].region})
            spenders.append((acct, city, sid))

        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, accts, cities, sids, float(p["everyday_daily_prob"]),
                                               float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    @staticmethod
    def _tickets(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, start: float,
                 names: list[str], n: int, one_way: int, p: dict[str, Any]) -> None:
        """``n`` flights for ``names`` in turn within 24 days, and ``one_way`` one-way bus tickets from abroad."""
        hours = (start + np.sort(rng.uniform(0, 24, n))) * 24 + rng.uniform(9, 21, n)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours),
                 amount=np.round(rng.uniform(*map(float, p["ticket_amount"]), n), 2), channel="card",
                 payer_account=acct, beneficiary_account="M-UPKEEP-AIR",
                 counterparty_name=[_AIRLINES[k % len(_AIRLINES)] for k in range(n)], mcc="4511",
                 memo=[f"PAX {names[k % len(names)]}" for k in range(n)])
        if one_way <= 0:
            return
        hours = (start + 2 + np.sort(rng.uniform(0, 20, one_way))) * 24 + rng.uniform(9, 21, one_way)
        bus = [_RISK_BUS[int(k)] for k in rng.integers(0, len(_RISK_BUS), one_way)]
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours),
                 amount=np.round(rng.uniform(60, 140, one_way), 2), channel="card", payer_account=acct,
                 beneficiary_account=[f"M-UPKEEP-BUS-{c}" for _, c in bus], counterparty_name=[b for b, _ in bus],
                 mcc="4131", beneficiary_country=[c for _, c in bus],
                 memo=[f"PAX {str(rng.choice(_PASSENGERS))} ONE-WAY" for _ in range(one_way)])

    @staticmethod
    def _upkeep(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, start: float,
                total: float, where: dict[str, str]) -> None:
        """Bulk upkeep purchases within 25 days until about ``total`` is spent."""
        rows = []
        spent = 0.0
        while spent < total:
            name, mcc, (lo, hi) = _UPKEEP[int(rng.integers(0, len(_UPKEEP)))]
            amount = round(float(rng.uniform(lo, hi)), 2)
            rows.append((name, mcc, amount))
            spent += amount
        n = len(rows)
        hours = (start + np.sort(rng.uniform(0, 25, n))) * 24 + rng.uniform(9, 21, n)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=[r[2] for r in rows], channel="card",
                 payer_account=acct, beneficiary_account=[f"M-UPKEEP-{r[1]}" for r in rows],
                 counterparty_name=[r[0] for r in rows], mcc=[r[1] for r in rows], **where)

    @staticmethod
    def _rooms(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, start: float,
               p: dict[str, Any], where: dict[str, str]) -> None:
        """Two rooms one night, round-amount rooms, and a hold released unsettled with cash the same evening."""
        motel = str(rng.choice(_MOTELS))
        night = start + 3
        two = np.round(rng.uniform(*map(float, p["room_amount"]), 2), 2)
        n_round = draw_int(rng, [int(p["round_rooms"]), int(p["round_rooms"]) + 1])
        round_nights = start + 6 + 5 * np.arange(n_round)
        round_amounts = 50.0 * rng.integers(2, 5, n_round)
        hold_night = start + 8.0
        hold = float(50 * rng.integers(4, 7))
        txns.add(scenario_id=sid,
                 ts=world.hours_to_ts(np.r_[night * 24 + 20.0, night * 24 + 20.2, round_nights * 24 + 21.0,
                                            hold_night * 24 + 15.0]),
                 amount=np.r_[two, round_amounts, hold], channel="card", payer_account=acct,
                 beneficiary_account="M-UPKEEP-MOTEL", counterparty_name=motel, mcc="7011",
                 memo=["ROOM", "ROOM", *["ROOM"] * n_round, "PRE-AUTH HOLD"], **where)
        # The hold is released three days later and the stay paid with cash withdrawn that evening.
        txns.add(scenario_id=sid, ts=world.hours_to_ts((hold_night + 3) * 24 + 10.0), amount=hold, channel="card",
                 payer_account="M-UPKEEP-MOTEL", beneficiary_account=acct, counterparty_name=motel, mcc="7011",
                 memo="PRE-AUTH RELEASE", is_refund=True, **where)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hold_night * 24 + 22.0), amount=hold, channel="atm",
                 payer_account=acct, atm_owner_type="bank", **where)

    @staticmethod
    def _travel_hotels(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, home: int,
                       start: float, n_round: int) -> None:
        """Business trips: one night in each of three other cities, ``n_round`` of them at a round rate."""
        cities = [c for c in rng.permutation(len(world.cities)) if c != home][:3]
        nights = start + 4 + 6 * np.arange(3)
        amounts = np.round(rng.uniform(161, 289, 3), 2)
        amounts[:n_round] = 50.0 * rng.integers(4, 6, n_round)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(nights * 24 + 21.0), amount=amounts, channel="card",
                 payer_account=acct, beneficiary_account=[f"M-UPKEEP-HOTEL-{c}" for c in cities],
                 counterparty_name=[_BUSINESS_HOTELS[k] for k in range(3)], mcc="7011", memo="ROOM",
                 city=[world.cities[c].name for c in cities], region=[world.cities[c].region for c in cities])

    @staticmethod
    def _parking(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, start: float,
                 n: int, where: dict[str, str]) -> None:
        """``n`` parking payments of 3-18 within 25 days."""
        hours = (start + np.sort(rng.uniform(0, 25, n))) * 24 + rng.uniform(10, 23, n)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=np.round(rng.uniform(3, 18, n), 2),
                 channel="card", payer_account=acct, beneficiary_account="M-UPKEEP-PARK", counterparty_name=_PARKING,
                 mcc="7523", **where)

    @staticmethod
    def _round_buys(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, start: float,
                    n: int, where: dict[str, str]) -> None:
        """``n`` convenience-store buys of 150-250 in steps of 50 (cards bought over the counter)."""
        hours = (start + 1 + np.sort(rng.uniform(0, 20, n))) * 24 + rng.uniform(10, 21, n)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=50.0 * rng.integers(3, 6, n), channel="card",
                 payer_account=acct, beneficiary_account="M-UPKEEP-CONV",
                 counterparty_name=[_CONVENIENCE[k % 2] for k in range(n)], mcc="5499", **where)
