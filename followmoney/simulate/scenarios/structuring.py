"""Structuring: cash deposits kept just under the 10,000 reporting threshold.

Reference detector the plant is checked against: count the cash credits of
an account with amount in [8,000, 10,000) inside any 7-day window and flag
at 3 or more.

True instances (role ``controller``, expected alert): one account per
instance that, in 1-3 episodes at least ``episode_gap_days`` apart, makes 3-6
cash deposits of 8,100-9,990 on distinct days of a 6-day span, each at a
different branch of its home city, and a few days after each episode wires
most of the money abroad (more than 48 h later, so it does not also look like
a pass-through). With the rest it buys assets: a car at a dealer (MCC 5511) and,
with probability ``property_prob``, pays a property deposit to a real-estate agent
(MCC 6513), so stage `assets` shows vehicle and property end points and LUX01
(luxury spending beyond the declared income) fires on the structurer.

Look-alikes (role ``look_alike``, no alert):

* ``structuring-lookalike-a-*``: a business depositing 3-5 times within 6 days
  but in amounts of 5,000-7,900, below the band;
* ``structuring-lookalike-b-*``: an account depositing in the band, but only
  twice per 6-day episode, with at least 10 idle days between episodes, so
  no 7-day window ever holds three such deposits.
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
    schedule_episodes,
)

_FOREIGN = ("MX", "CO", "PA", "AE", "TR", "CN")
_SHELLS = ("ATLAS", "PACIFIC", "NOVA", "GOLDEN GATE", "ORIENT", "SIERRA")
_DEALERS = ("PREMIER", "SUMMIT", "LIBERTY", "CROWN", "METRO")


class Structuring(Scenario):
    """Repeated cash deposits just below the reporting threshold."""

    name = "structuring"
    typology = "laundering_of_proceeds"
    plants = {"controller": ("CSH01", "LUX01")}
    description = ("3-6 cash deposits of 8,100-9,990 within 6 days at different branches, "
                   "repeated in 1-3 episodes, then wired abroad.")

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` structurers and ``lookalike_ratio`` look-alikes of each kind."""
        p = self.params
        if self.too_short(world, float(p["episode_span_days"])):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []

        for i in range(n_instances):
            sid, acct = f"structuring-{i + 1:04d}", f"S-STRUCT-{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(
                rng, [acct], [city], occupation=("self-employed", "contractor", "consultant"),
                declared_income=p["declared_income"]))
            labels.add(acct, sid, "controller", True)
            self._episodes(world, rng, txns, sid, acct, city, p, wire_out=True)
            self._assets(world, rng, txns, sid, acct, city, p)
            spenders.append((acct, city, sid))

        kinds = (("a", "LA", p["lookalike_business"], "business"),
                 ("b", "LB", p["lookalike_pairs"], "personal"))
        for kind, code, cfg, account_type in kinds:
            for i in range(n_look):
                sid, acct = f"structuring-lookalike-{kind}-{i + 1:04d}", f"S-STRUCT-{code}{i + 1:04d}"
                city = int(world.pick_cities(rng, 1)[0])
                if account_type == "business":
                    btype = str(rng.choice(["retail", "restaurant", "auto_repair", "car_wash"]))
                    parties.append(world.make_parties(
                        rng, [acct], [city], occupation=("business owner",),
                        declared_income=(250000, 600000), account_type="business",
                        business_type=btype, business_hours="09-19"))
                else:
                    parties.append(world.make_parties(
                        rng, [acct], [city], occupation=("self-employed", "sales associate"),
                        declared_income=(40000, 90000)))
                labels.add(acct, sid, "look_alike", False)
                self._episodes(world, rng, txns, sid, acct, city, {**p, **cfg}, wire_out=False)
                spenders.append((acct, city, sid))

        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, accts, cities, sids,
                                               float(p["everyday_daily_prob"]),
                                               float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    @staticmethod
    def _assets(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                p: Mapping[str, Any]) -> None:
        """A car bought at a dealer and, sometimes, a property deposit: where structured cash ends up."""
        lo, hi = p["purchase_day"]
        # Short periods (tests) move the purchase into the period rather than drop it.
        day = float(rng.uniform(min(float(lo), world.days / 2), min(float(hi), world.days - 1)))
        loc = {"city": world.cities[city].name, "region": world.cities[city].region}
        txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + rng.uniform(10, 18)),
                 amount=float(np.round(rng.uniform(*map(float, p["car_amount"])))), channel="card",
                 payer_account=acct, beneficiary_account=f"{acct}-CAR", mcc="5511",
                 counterparty_name=f"{rng.choice(_DEALERS)} MOTORS", **loc)
        if rng.random() < float(p["property_prob"]):
            day2 = min(day + float(rng.uniform(3, 20)), world.days - 0.5)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(day2 * 24 + rng.uniform(10, 17)),
                     amount=float(np.round(rng.uniform(*map(float, p["property_deposit"])))), channel="card",
                     payer_account=acct, beneficiary_account=f"{acct}-RE", mcc="6513",
                     counterparty_name=f"{rng.choice(_DEALERS)} REALTY", memo="PROPERTY DEPOSIT", **loc)

    @staticmethod
    def _episodes(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str,
                  city: int, p: Mapping[str, Any], wire_out: bool) -> None:
        """Deposit episodes of one account (and, for true instances, the wires out)."""
        span = int(p["episode_span_days"])
        n_ep = int(rng.integers(int(p["episodes"][0]), int(p["episodes"][1]) + 1))
        starts = np.floor(schedule_episodes(rng, world.days, n_ep, span, float(p["episode_gap_days"])))
        h0, h1 = p["branch_hours"]
        device = f"D-{int(rng.integers(0, 1 << 48)):012x}"
        ip = f"{world.cities[city].ip_prefix}.{int(rng.integers(1, 255))}.{int(rng.integers(1, 255))}"
        for start in starts:
            k = int(rng.integers(int(p["deposits_per_episode"][0]), int(p["deposits_per_episode"][1]) + 1))
            # Distinct days of the span while possible; times within branch hours.
            day = start + np.sort(rng.choice(span, k, replace=k > span))
            hours = day * 24 + rng.uniform(float(h0), float(h1), k)
            amount = np.round(rng.uniform(float(p["deposit_amount"][0]), float(p["deposit_amount"][1]), k))
            txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=amount, channel="cash",
                     beneficiary_account=acct, city=world.cities[city].name,
                     region=world.cities[city].region,
                     branch_id=world.branch(rng, city, k, distinct=True))
            if not wire_out:
                continue
            lo, hi = p["wire_out_delay_days"]
            t_wire = hours.max() + rng.uniform(float(lo), float(hi)) * 24
            if t_wire >= world.days * 24:
                continue
            n_wire = int(rng.integers(1, 10_000))
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t_wire),
                     amount=amount.sum() * rng.uniform(*map(float, p["wire_out_fraction"])),
                     channel="wire", payer_account=acct, beneficiary_account=f"{acct}-X1",
                     beneficiary_country=str(rng.choice(_FOREIGN)),
                     counterparty_name=f"{rng.choice(_SHELLS)} TRADING LLC",
                     memo=f"INVOICE {n_wire:04d}", device_id=device, ip=ip)
