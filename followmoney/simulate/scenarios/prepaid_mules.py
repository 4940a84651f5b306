"""Prepaid mules: victims' prepaid cards funded only by card-to-card transfers from the trafficker's card.

Detector shapes it is planted against (without importing them):

* prepaid card-to-card: a prepaid card (parties ``account_type`` = ``prepaid``) with no load in 60
  days, >= 3 card-to-card credits (p2p from another prepaid card) and >= 80 % of that money from
  one sender;
* rapid pass-through: >= 3 inflows (>= 500) within 30 days each followed within 48 h by outflows of
  >= 90 % of it. The victims' cards alert through this one: every transfer is taken out in cash
  at once.

True instances: a trafficker (role ``controller``) loads a prepaid card with cash and at once funds
the cards of 2-3 victims (role ``victim``) with 500-900 card-to-card every 5-9 days for 6-12 weeks; each victim
takes 92-99 % of every transfer out of an ATM 4-30 h later (cash for the hotel and the ads). The
trafficker's card passes every cash load straight on, so it alerts as a pass-through as well.

Look-alikes (role ``look_alike``, must not alert):

* ``prepaid_mules-lookalike-teen-*``: a teenager's prepaid card topped up by a parent from a current
  account (loads, not card-to-card), spent by card over the following days;
* ``prepaid_mules-lookalike-couple-*``: two partners' prepaid cards, each loaded with cash, paying
  each other now and then.
"""

from __future__ import annotations

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


class PrepaidMules(Scenario):
    """Victims' prepaid cards fed card-to-card by one trafficker's card and emptied at ATMs."""

    name = "prepaid_mules"
    typology = "sexual_exploitation"
    description = ("A trafficker's prepaid card funds 2-3 victims' prepaid cards card-to-card every 5-9 days; "
                   "each victim takes the money out at an ATM within hours.")
    plants = {"victim": ("FLW01", "NET10"), "controller": ("FLW01",)}

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` trafficker cards with their victims' cards, and the look-alikes."""
        p = self.params
        if self.too_short(world, 7 * float(p["weeks"][1]) + 3):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []
        for i in range(n_instances):
            sid, base = f"prepaid_mules-{i + 1:04d}", f"S-PREPAID-{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            boss = f"{base}-T"
            victims = [f"{base}-V{j + 1}" for j in range(draw_int(rng, p["victims"]))]
            parties.append(world.make_parties(rng, [boss] + victims, [city] * (1 + len(victims)),
                                              age=(18, 45), occupation=("unemployed", "dancer", "driver"),
                                              declared_income=(8000, 25000), account_type="prepaid"))
            labels.add(boss, sid, "controller", True)
            spenders.append((boss, city, sid))
            for v in victims:
                labels.add(v, sid, "victim", True)
                spenders.append((v, city, sid))
                self._fund(world, rng, txns, sid, boss, v, city)
        for i in range(n_look):
            self._teen(world, rng, txns, labels, parties, spenders, i)
            self._couple(world, rng, txns, labels, parties, spenders, i)
        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, list(accts), list(cities), list(sids),
                                               float(p["everyday_daily_prob"]), float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    def _fund(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, boss: str, victim: str,
              city: int) -> None:
        """The trafficker loads cash and sends it on card-to-card; the victim withdraws it at once."""
        p = self.params
        weeks = draw_int(rng, p["weeks"])
        t = float(rng.uniform(0, max(1.0, world.days - 7 * weeks - 3))) * 24
        end = t + weeks * 7 * 24
        place = {"city": world.cities[city].name, "region": world.cities[city].region}
        while t < end and t < (world.days - 2) * 24:
            amount = round(float(draw_uniform(rng, p["transfer_amount"])), -1)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t - 3.0), amount=amount, channel="cash",
                     beneficiary_account=boss, branch_id=world.branch(rng, city, 1)[0], **place)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t), amount=amount, channel="p2p",
                     payer_account=boss, beneficiary_account=victim)
            t_out = t + float(draw_uniform(rng, p["withdraw_hours"]))
            out = round(amount * float(draw_uniform(rng, p["withdraw_fraction"])), -1)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t_out), amount=out, channel="atm", payer_account=victim,
                     branch_id=world.branch(rng, city, 1)[0], atm_owner_type="bank", **place)
            t += float(draw_uniform(rng, p["interval_days"])) * 24

    def _teen(self, world: World, rng: np.random.Generator, txns: TxnBuilder, labels: LabelBuilder,
              parties: list, spenders: list, i: int) -> None:
        """A parent tops up a teenager's prepaid card from a current account; the teen spends it by card."""
        sid, card = f"prepaid_mules-lookalike-teen-{i + 1:04d}", f"S-PREPAID-LT{i + 1:04d}"
        city = int(world.pick_cities(rng, 1)[0])
        parties.append(world.make_parties(rng, [card], [city], age=(16, 18), occupation=("student",),
                                          declared_income=(0, 2000), account_type="prepaid"))
        labels.add(card, sid, "look_alike", False)
        spenders.append((card, city, sid))
        days = np.arange(float(rng.uniform(0, 7)), world.days - 1, 7.0)
        pocket = np.round(rng.uniform(30, 80, days.size), 0)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(days * 24 + 18), amount=pocket,
                 channel="transfer", payer_account=f"{card}-PARENT", beneficiary_account=card, memo="pocket money")

    def _couple(self, world: World, rng: np.random.Generator, txns: TxnBuilder, labels: LabelBuilder,
                parties: list, spenders: list, i: int) -> None:
        """Two partners' prepaid cards, each loaded with cash, paying each other now and then."""
        sid, base = f"prepaid_mules-lookalike-couple-{i + 1:04d}", f"S-PREPAID-LC{i + 1:04d}"
        city = int(world.pick_cities(rng, 1)[0])
        cards = [f"{base}-A", f"{base}-B"]
        parties.append(world.make_parties(rng, cards, [city, city], occupation=("waiter", "cook"),
                                          declared_income=(20000, 30000), account_type="prepaid"))
        for c in cards:
            labels.add(c, sid, "look_alike", False)
            spenders.append((c, city, sid))
        for day in np.arange(float(rng.uniform(0, 5)), world.days - 1, 10.0):
            # Each partner loads their own card with their tips, then one pays the other.
            for c in cards:
                tips = round(float(rng.uniform(100, 300)), -1)
                txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + 10), amount=tips,
                         channel="cash", beneficiary_account=c, branch_id=world.branch(rng, city, 1)[0],
                         city=world.cities[city].name, region=world.cities[city].region)
            a, b = (cards if rng.random() < 0.5 else cards[::-1])
            txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + 20), amount=round(float(rng.uniform(40, 120)), 0),
                     channel="p2p", payer_account=a, beneficiary_account=b)
