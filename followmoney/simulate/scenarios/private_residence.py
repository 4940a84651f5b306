"""Private-residence sexual exploitation: a controller renting several flats and advertising online.

The third business model of sexual exploitation in FINTRAC (2021) besides short-stay hotels and
storefronts: victims are housed in apartments the controller rents (often several at once, each a
separate incall location), clients find them through online ads whose contact numbers are the
victims' or the controller's phones, and the takings come back to the controller in cash.

True instances (role ``controller``, expected alert), per instance within ``active_days``:

* rent for ``apartments`` flats paid every month to as many landlords (running costs: RUN08, two
  landlords in 31 days);
* ``ad_payments_per_week`` fixed-fee payments to adult-ad sites every week (running costs: RUN01,
  three in 30 days);
* the controller's phone (and, with ``email_in_ads_prob``, e-mail) is a contact in scraped ads and
  so on the ``ad_identifiers`` list the simulator writes (external: EXT01);
* cash takings paid in at branches and a jewellery purchase and nightclub bills beyond half the
  low declared income for 90 days (lifestyle: LUX01).

Each victim (``victims`` per instance, role ``victim``, **no** alert expected) holds an account
whose phone is in the ads too (EXT01 fires on it) and receives a small weekly allowance from the
controller: a phone in the ads alone is one family, which must not alert by itself.

The ad list also holds ``decoy_identifiers`` numbers per instance that belong to nobody at the
bank (most scraped numbers do), written in the assorted formats ads use.

Look-alikes (role ``look_alike``, no alert):

* ``private_residence-lookalike-a-*``: a small landlord renting out several flats: rent comes in
  from each tenant every month, mortgages and a management fee go out mid-month, and vacancies
  are listed twice on a classified site (one ad short of RUN01); nothing fires;
* ``private_residence-lookalike-b-*``: someone selling furniture through classified ads while
  moving house: ``classified_ads`` ads in a month (RUN01 fires), the last rent to the old landlord
  and the first to the new one in the same month (RUN08 fires, same family), buyers paying by
  e-transfer; their phone is in a legitimate classified ad but not on the watchlist, so EXT01 does
  not fire.

Amounts and counts come from ``defaults.yml`` ``scenarios.private_residence.params``; names of ad
sites are taken from the default ``ad_sites`` list's examples as plain text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

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
from followmoney.simulate.schema import LIST_SCHEMA

_AD_SITES = ("LISTCRAWLER.COM", "ESCORTBABYLON AD", "PRIVATEDELIGHTS")
_CLASSIFIED = "LOCANTO CLASSIFIEDS"
_LANDLORDS = ("HILLSIDE RENTALS LLC", "BAYVIEW APARTMENTS", "NORTHGATE PROPERTY GROUP", "ELM COURT LIVING",
              "SILVERLINE RESIDENCES", "CROWN REALTY MGMT")
_MORTGAGE_BANKS = ("FIRST HOME MORTGAGE", "UNITED SAVINGS LOAN SVC")
_JEWELLER = "GOLDLINE JEWELERS"
_CLUB = "VELVET ROOM CLUB"


class PrivateResidence(Scenario):
    """Controller renting several flats as incall locations, advertising them online."""

    name = "private_residence"
    typology = "sexual_exploitation"
    plants = {"controller": ("EXT01", "LUX01", "RUN01", "RUN08")}
    description = ("Rent for several flats every month, weekly adult-ad fees, a phone found in scraped ads, "
                   "cash takings and luxury spending by one low-income controller.")

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` controllers with their victims and ``lookalike_ratio`` look-alikes of each kind."""
        p = self.params
        span_max = int(p["active_days"][1])
        if self.too_short(world, span_max + 10):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties: list[pa.Table] = []
        ads: list[tuple[str, str]] = []
        spenders: list[tuple[str, int, str]] = []

        for i in range(n_instances):
            sid, acct = f"private_residence-{i + 1:04d}", f"S-PRIV-{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            own = world.make_parties(rng, [acct], [city], age=(25, 50), occupation=("self-employed", "promoter"),
                                     declared_income=p["declared_income"])
            parties.append(own)
            labels.add(acct, sid, "controller", True)
            ads.append((own.column("phone")[0].as_py(), "phone"))
            if rng.random() < float(p["email_in_ads_prob"]):
                ads.append((own.column("email")[0].as_py(), "email"))
            span = draw_int(rng, p["active_days"])
            start = float(np.floor(rng.uniform(3, world.days - span - 3)))  # midnight: hours are local
            self._rents(world, rng, txns, sid, acct, start, span, draw_int(rng, p["apartments"]), p)
            self._ads(world, rng, txns, sid, acct, city, start, span, p)
            self._takings(world, rng, txns, sid, acct, city, start, span, p)
            self._luxury(world, rng, txns, sid, acct, city, start + span / 2, p)
            spenders.append((acct, city, sid))

            n_victims = draw_int(rng, p["victims"])
            victims = [f"S-PRIV-{i + 1:04d}-V{k + 1}" for k in range(n_victims)]
            vp = world.make_parties(rng, victims, [city] * n_victims, age=(18, 26),
                                    occupation=("student", "unemployed", "waitress"),
                                    declared_income=p["victim_income"])
            parties.append(vp)
            ads += [(phone, "phone") for phone in vp.column("phone").to_pylist()]
            for victim in victims:
                labels.add(victim, sid, "victim", False)
                weeks = np.arange(max(1, span // 7))
                txns.add(scenario_id=sid, ts=world.hours_to_ts((start + 2 + 7 * weeks) * 24 + rng.uniform(11, 20)),
                         amount=np.round(draw_uniform(rng, p["allowance_amount"], weeks.size)), channel="p2p",
                         payer_account=acct, beneficiary_account=victim)
                spenders.append((victim, city, sid))
            ads += self._decoys(world, rng, city, draw_int(rng, p["decoy_identifiers"]))

        for i in range(n_look):
            # (a) a small landlord: rents in, mortgages out mid-month, two classified ads.
            sid, acct = f"private_residence-lookalike-a-{i + 1:04d}", f"S-PRIV-LA{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [city], age=(35, 70), occupation=("landlord", "retired"),
                                              declared_income=p["lookalike_income"]))
            labels.add(acct, sid, "look_alike", False)
            self._landlord(world, rng, txns, sid, acct, city, p)
            spenders.append((acct, city, sid))

            # (b) moving house and selling furniture through classified ads.
            sid, acct = f"private_residence-lookalike-b-{i + 1:04d}", f"S-PRIV-LB{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [city], occupation=("teacher", "nurse", "engineer"),
                                              declared_income=p["lookalike_income"]))
            labels.add(acct, sid, "look_alike", False)
            self._mover(world, rng, txns, sid, acct, city, p)
            spenders.append((acct, city, sid))

        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, accts, cities, sids, float(p["everyday_daily_prob"]),
                                               float(p["everyday_max_amount"])))
        values, tags = zip(*ads, strict=True) if ads else ((), ())
        ad_list = pa.Table.from_arrays([pa.array(list(values), pa.string()), pa.array(list(tags), pa.string())],
                                       schema=LIST_SCHEMA)
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table(),
                              lists={"ad_identifiers": ad_list})

    @staticmethod
    def _rents(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, start: float,
               span: int, n_flats: int, p: dict[str, Any]) -> None:
        """Monthly rent for ``n_flats`` flats, each to its own landlord, paid within a few hours."""
        landlords = rng.permutation(len(_LANDLORDS))[:n_flats]
        months = np.arange(max(1, int(span // 30)))
        for k, ll in enumerate(landlords):
            rent = float(np.round(draw_uniform(rng, p["rent_amount"]), -1))
            hours = (start + 1 + 30 * months) * 24 + 9 + 2 * k + rng.uniform(0, 1.5, months.size)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=rent, channel="transfer",
                     payer_account=acct, beneficiary_account=f"X-PRIV-LL-{ll + 1:02d}",
                     counterparty_name=_LANDLORDS[ll], memo=f"RENT UNIT {int(rng.integers(1, 40))}")

    @staticmethod
    def _ads(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
             start: float, span: int, p: dict[str, Any]) -> None:
        """Fixed-fee ad bumps, ``ad_payments_per_week`` a week over the active span."""
        per_week = int(p["ad_payments_per_week"])
        weeks = np.arange(max(1, span // 7))
        day = (start + 7 * np.repeat(weeks, per_week) + np.tile(np.arange(per_week) * (7 / per_week), weeks.size))
        n = day.size
        fee = float(rng.choice(np.asarray(p["ad_fees"], dtype=float)))
        txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + rng.uniform(10, 22, n)), amount=fee, channel="card",
                 payer_account=acct, beneficiary_account="M-PRIV-ADS", mcc="7311",
                 counterparty_name=[_AD_SITES[k % len(_AD_SITES)] for k in range(n)],
                 city=world.cities[city].name, region=world.cities[city].region)

    @staticmethod
    def _takings(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                 start: float, span: int, p: dict[str, Any]) -> None:
        """Cash takings paid in at branches, ``deposits_per_week`` a week during opening hours."""
        per_week = int(p["deposits_per_week"])
        n = max(1, span // 7) * per_week
        day = start + np.sort(rng.uniform(0, span, n)).astype(int)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + rng.uniform(10, 16, n)),
                 amount=np.round(draw_uniform(rng, p["deposit_amount"], n), -1), channel="cash",
                 beneficiary_account=acct, city=world.cities[city].name, region=world.cities[city].region,
                 branch_id=world.branch(rng, city, n))

    @staticmethod
    def _luxury(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                day: float, p: dict[str, Any]) -> None:
        """A jewellery purchase and two nightclub bills within ten days."""
        hours = (np.floor(day) + np.array([0.0, 3.0, 9.0])) * 24 + np.array([15.0, 23.5, 23.5])
        amounts = [draw_uniform(rng, p["jewellery_amount"]), *draw_uniform(rng, p["nightclub_amount"], 2)]
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=np.round(amounts, 2), channel="card",
                 payer_account=acct, beneficiary_account=["M-PRIV-JEWEL", "M-PRIV-CLUB", "M-PRIV-CLUB"],
                 counterparty_name=[_JEWELLER, _CLUB, _CLUB], mcc=["5944", "5813", "5813"],
                 city=world.cities[city].name, region=world.cities[city].region)

    @staticmethod
    def _decoys(world: World, rng: np.random.Generator, city: int, n: int) -> list[tuple[str, str]]:
        """Numbers scraped from the same ads that belong to no customer, in the formats ads use.

        The exchange ``555-01xx`` is reserved for fiction, so no drawn customer phone can equal one.
        """
        area = world.cities[city].area_code
        line = rng.integers(100, 200, n)
        forms = (lambda a, x: f"({a}) 555-0{x}", lambda a, x: f"{a}.555.0{x}", lambda a, x: f"+1 {a} 5550{x}")
        return [(forms[k % 3](area, int(x)), "phone") for k, x in enumerate(line)]

    @staticmethod
    def _landlord(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                  p: dict[str, Any]) -> None:
        """Rent in from each tenant early in the month, mortgages and fees out mid-month, two ads."""
        n_flats = draw_int(rng, p["apartments"]) + 1
        months = np.arange(world.days // 30)
        for k in range(n_flats):
            rent = float(np.round(draw_uniform(rng, p["rent_amount"]), -1))
            txns.add(scenario_id=sid, ts=world.hours_to_ts((30 * months + 1 + k % 3) * 24 + rng.uniform(8, 20)),
                     amount=rent, channel="transfer", payer_account=f"{acct}-T{k + 1}", beneficiary_account=acct,
                     memo=f"RENT UNIT {k + 1}")
            # Mortgage instalments on the 15th, far from the rents: no pass-through pattern.
            bank = k % len(_MORTGAGE_BANKS)
            txns.add(scenario_id=sid, ts=world.hours_to_ts((30 * months + 15) * 24 + 6 + k), amount=round(rent * 0.6, 2),
                     channel="ach", payer_account=acct, beneficiary_account=f"X-PRIV-MTG-{bank + 1}",
                     counterparty_name=_MORTGAGE_BANKS[bank], memo="MORTGAGE PAYMENT")
        txns.add(scenario_id=sid, ts=world.hours_to_ts((30 * months + 20) * 24 + 10), amount=round(120.0 * n_flats, 2),
                 channel="ach", payer_account=acct, beneficiary_account="X-PRIV-PM", counterparty_name="KEYHOLD PROPERTY SVCS",
                 memo="MANAGEMENT FEE")
        # A vacancy listed twice within a month: one payment short of the ad rule.
        day = float(rng.integers(5, max(6, world.days - 20)))
        txns.add(scenario_id=sid, ts=world.hours_to_ts((day + np.array([0.0, 8.0])) * 24 + 12), amount=25.0,
                 channel="card", payer_account=acct, beneficiary_account="M-PRIV-CLASSIFIED", mcc="7311",
                 counterparty_name=_CLASSIFIED, city=world.cities[city].name, region=world.cities[city].region)

    @staticmethod
    def _mover(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
               p: dict[str, Any]) -> None:
        """Old and new rent in one month, classified ads for the furniture, buyers paying by e-transfer."""
        move = float(rng.integers(35, max(36, world.days - 40)))
        old, new = rng.permutation(len(_LANDLORDS))[:2]
        rent = float(np.round(draw_uniform(rng, p["rent_amount"]), -1))
        before = np.arange(move, -1, -30)[::-1]  # the last rent to the old landlord falls in the moving month
        after = np.arange(move + 10, world.days, 30)
        for landlord, days in ((old, before), (new, after)):
            txns.add(scenario_id=sid, ts=world.hours_to_ts(days * 24 + 9), amount=rent, channel="transfer",
                     payer_account=acct, beneficiary_account=f"X-PRIV-LL-{landlord + 1:02d}",
                     counterparty_name=_LANDLORDS[landlord], memo="RENT")
        n_ads = int(p["classified_ads"])
        ad_days = move - 12 + 3 * np.arange(n_ads)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(ad_days * 24 + 19), amount=25.0, channel="card",
                 payer_account=acct, beneficiary_account="M-PRIV-CLASSIFIED", mcc="7311",
                 counterparty_name=_CLASSIFIED, city=world.cities[city].name, region=world.cities[city].region)
        buyers = rng.integers(2, 5)
        txns.add(scenario_id=sid, ts=world.hours_to_ts((move - 8 + 2 * np.arange(buyers)) * 24 + 18),
                 amount=np.round(rng.uniform(40, 350, buyers)), channel="p2p",
                 payer_account=[f"{acct}-B{k + 1}" for k in range(buyers)], beneficiary_account=acct,
                 memo="furniture")
