"""Short-stay sexual exploitation: the controller's running costs, income and spending.

The short-stay / hotel model (FINTRAC 2021) moves victims from city to city, advertises them
online, takes payment through processors and sends money home. Each family of red flags alone is
ordinary; the combination is not, so the planted controller shows several families at once, as
real cases do.

True instances (role ``controller``, expected alert): one personal account per instance, low
declared income, that within about four weeks

* pays ``ad_payments`` fixed fees to adult-ad sites (running costs; the rule needs 3 in 30 days);
* pays lodging in ``trip_cities`` cities over a week (running costs; 4 charges, 2 cities in 14
  days) and night rides between 22:00 and 04:00 (running costs; 5 in 7 days);
* receives ``processor_credits`` payouts from adult-tagged payment processors (payment
  instruments; 5 in 30 days);
* wires ``remittances`` abroad to countries on the THB-risk list with no memo (movement; 3 in 30
  days);
* spends at a jeweller and nightclubs beyond half its declared income for 90 days (lifestyle).

Look-alikes (role ``look_alike``, no alert), each one family at most and one step short elsewhere:

* ``short_stay-lookalike-a-*``: a travelling sales representative: the same lodging trip and night
  rides (running costs fire), two payments to a classified site (one short of three) and one
  jewellery purchase well within a high income;
* ``short_stay-lookalike-b-*``: a migrant worker: three wires home without a memo (movement
  fires) and ``lookalike_processor_credits`` general-processor credits (one short of ten).

The planted amounts and counts come from ``defaults.yml`` ``scenarios.short_stay.params``;
the names come from the default lists (`followmoney/data/lists`), which the simulator reads as
plain text, never through an indicator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from followmoney.simulate.core import World
from followmoney.simulate.scenario import LabelBuilder, Scenario, ScenarioOutput, TxnBuilder, concat_parties

_AD_SITES = ("SKIPTHEGAMES.COM", "MEGAPERSONALS*AD", "TRYST LINK")
_CLASSIFIED = "LOCANTO CLASSIFIEDS"
_MOTELS = ("STARLIGHT MOTEL", "ECONO INN & SUITES", "AIRBNB * HM", "ROADSIDE LODGE")
_RIDES = ("UBER *TRIP", "LYFT RIDE")
_ADULT_PROCESSORS = ("CCBILL PAYOUT", "SEGPAY SETTLEMENT", "EPOCH PAYOUT")
_RISK_COUNTRIES = ("MD", "RO", "UA", "VN")
_JEWELLER = "GOLDLINE JEWELERS"
_CLUB = "VELVET ROOM CLUB"


class ShortStay(Scenario):
    """Controller of a short-stay operation: ads, hotels, rides, processors, remittances, luxury."""

    name = "short_stay"
    typology = "sexual_exploitation"
    plants = {"controller": ("GEO05", "LUX01", "PAY05", "RUN01", "RUN02", "RUN03")}
    description = ("Ads, lodging in several cities, night rides, adult-processor payouts, remittances to "
                   "THB-risk countries and luxury spending by one low-income account within a month.")

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` controllers and ``lookalike_ratio`` look-alikes of each kind."""
        p = self.params
        span = float(p["span_days"])
        if self.too_short(world, span + 10):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []

        for i in range(n_instances):
            sid, acct = f"short_stay-{i + 1:04d}", f"S-SHORT-{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [city], age=(21, 40),
                                              occupation=("self-employed", "model", "promoter"),
                                              declared_income=p["declared_income"]))
            labels.add(acct, sid, "controller", True)
            start = float(np.floor(rng.uniform(5, world.days - span - 5)))  # midnight: hours are local
            self._trip(world, rng, txns, sid, acct, city, start, p)
            self._ads(world, rng, txns, sid, acct, city, start, int(p["ad_payments"]), _AD_SITES)
            self._processors(world, rng, txns, sid, acct, start, int(p["processor_credits"]), _ADULT_PROCESSORS)
            self._remittances(world, rng, txns, sid, acct, start, p)
            # Luxury: one jewellery purchase and nightclub bills, together above the income share.
            hours = (start + np.array([8.0, 12.0, 20.0])) * 24 + np.array([15.0, 23.5, 23.5])
            amounts = [rng.uniform(*map(float, p["jewellery_amount"])),
                       *rng.uniform(*map(float, p["nightclub_amount"]), 2)]
            txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=np.round(amounts, 2), channel="card",
                     payer_account=acct, beneficiary_account=["M-SHORT-JEWEL", "M-SHORT-CLUB", "M-SHORT-CLUB"],
                     counterparty_name=[_JEWELLER, _CLUB, _CLUB], mcc=["5944", "5813", "5813"],
                     city=world.cities[city].name, region=world.cities[city].region)
            spenders.append((acct, city, sid))

        for i in range(n_look):
            # (a) travelling sales representative: one family (running costs) and a near miss on ads.
            sid, acct = f"short_stay-lookalike-a-{i + 1:04d}", f"S-SHORT-LA{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [city], occupation=("sales representative",),
                                              declared_income=p["lookalike_income"]))
            labels.add(acct, sid, "look_alike", False)
            start = float(np.floor(rng.uniform(5, world.days - span - 5)))  # midnight: hours are local
            self._trip(world, rng, txns, sid, acct, city, start, p)
            self._ads(world, rng, txns, sid, acct, city, start, int(p["ad_payments"]) - 1, (_CLASSIFIED,))
            txns.add(scenario_id=sid, ts=world.hours_to_ts((start + 9) * 24 + 14), amount=600.0, channel="card",
                     payer_account=acct, beneficiary_account="M-SHORT-JEWEL", counterparty_name=_JEWELLER,
                     mcc="5944", city=world.cities[city].name, region=world.cities[city].region)
            spenders.append((acct, city, sid))

            # (b) migrant worker: one family (movement) and a near miss on processors.
            sid, acct = f"short_stay-lookalike-b-{i + 1:04d}", f"S-SHORT-LB{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [city], occupation=("cook", "cleaner", "farm worker"),
                                              declared_income=p["declared_income"]))
            labels.add(acct, sid, "look_alike", False)
            start = float(np.floor(rng.uniform(5, world.days - span - 5)))  # midnight: hours are local
            self._remittances(world, rng, txns, sid, acct, start, p)
            self._processors(world, rng, txns, sid, acct, start, int(p["lookalike_processor_credits"]),
                             ("PAYPAL TRANSFER",))
            spenders.append((acct, city, sid))

        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, accts, cities, sids, float(p["everyday_daily_prob"]),
                                               float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    @staticmethod
    def _trip(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, home: int,
              start: float, p: dict[str, Any]) -> None:
        """Two nights in each of ``trip_cities`` cities, with night rides on the first nights."""
        n_cities = int(p["trip_cities"])
        others = [c for c in rng.permutation(len(world.cities)) if c != home][: n_cities - 1]
        cities = [home, *others]
        nights = np.arange(2 * n_cities)
        city_of = [cities[n // 2] for n in nights]
        hours = (start + nights) * 24 + rng.uniform(20, 23, nights.size)
        motel = [f"{_MOTELS[int(rng.integers(0, len(_MOTELS)))]}" for _ in nights]
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours),
                 amount=np.round(rng.uniform(*map(float, p["lodging_amount"]), nights.size), 2), channel="card",
                 payer_account=acct, beneficiary_account=[f"M-SHORT-LODGE-{world.cities[c].code}" for c in city_of],
                 counterparty_name=motel, mcc="7011", city=[world.cities[c].name for c in city_of],
                 region=[world.cities[c].region for c in city_of])
        # Night rides: one per night from 22:00 to 04:00 local (the world is in UTC).
        n_rides = int(p["night_rides"])
        ride_hours = (start + np.arange(n_rides)) * 24 + 22 + rng.uniform(0, 6, n_rides)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(ride_hours),
                 amount=np.round(rng.uniform(12, 45, n_rides), 2), channel="card", payer_account=acct,
                 beneficiary_account="M-SHORT-RIDES", counterparty_name=[_RIDES[k % 2] for k in range(n_rides)],
                 mcc="4121", city=[world.cities[city_of[min(k, nights.size - 1)]].name for k in range(n_rides)])

    @staticmethod
    def _ads(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
             start: float, n: int, sites: tuple[str, ...]) -> None:
        """``n`` fixed-fee ad payments, six days apart (all within 30 days for n <= 5)."""
        hours = (start - 2 + 6 * np.arange(n)) * 24 + rng.uniform(9, 23, n)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(np.maximum(hours, 1.0)), amount=45.0, channel="card",
                 payer_account=acct, beneficiary_account="M-SHORT-ADS",
                 counterparty_name=[sites[k % len(sites)] for k in range(n)], mcc="7311",
                 city=world.cities[city].name, region=world.cities[city].region)

    @staticmethod
    def _processors(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, start: float,
                    n: int, names: tuple[str, ...]) -> None:
        """``n`` processor payouts spread over 24 days."""
        hours = (start + 1 + np.sort(rng.uniform(0, 24, n))) * 24
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=np.round(rng.uniform(150, 420, n), 2),
                 channel="transfer", payer_account=[f"X-PROC-{names[k % len(names)].split()[0]}" for k in range(n)],
                 beneficiary_account=acct, counterparty_name=[names[k % len(names)] for k in range(n)])

    @staticmethod
    def _remittances(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, start: float,
                     p: dict[str, Any]) -> None:
        """Wires abroad to THB-risk countries with no memo, eight days apart."""
        n = int(p["remittances"])
        hours = (start + 5 + 8 * np.arange(n)) * 24 + rng.uniform(10, 16, n)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours),
                 amount=np.round(rng.uniform(*map(float, p["remittance_amount"]), n), 2), channel="wire",
                 payer_account=acct, beneficiary_account=[f"{acct}-X{k + 1}" for k in range(n)],
                 beneficiary_country=[str(rng.choice(_RISK_COUNTRIES)) for _ in range(n)])
