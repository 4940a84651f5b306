"""Layering ring: money scattered over intermediaries, gathered by a front business, and sent home.

Detector shapes it is planted against (without importing them):

* scatter-gather: one origin pays >= 3 intermediaries >= 1,000 each, each pays the same gatherer
  >= 70 % of it within 14 days;
* a time-respecting cycle: the money is back at the origin within 30 days, every leg >= 70 % of
  the first;
* a rapid layering chain: >= 3 payments in a row, each leaving its account within 48 h of the
  previous one arriving and carrying >= 80 % of the first;
* rapid pass-through: >= 3 inflows (>= 500) within 30 days each followed within 48 h by outflows of
  >= 90 % of it. This is what makes the ring alert: network hits alone never do, but an account that
  only relays money is a pass-through account, a decisive flow-structure flag.

True instances: an origin (role ``controller``) receives a wire of 10,000-25,000 from abroad and,
within hours, splits it over 3-5 intermediaries (role ``mule``); each intermediary passes 92-99 %
on to one gatherer, a consulting business (role ``front_business``), 6-40 h later; 4-30 h after the
last of those the gatherer returns 90-97 % of everything to the origin as "consulting fees", and the
origin wires it abroad again within 2-30 h. 3-4 rounds of about the same sum, 6-9 days apart, so
every member relays money at least three times within 30 days and what an intermediary passes on
comes back to it with the next round (a cycle through every member).

Look-alikes (role ``look_alike``, neither alert nor hit by the shapes above):

* ``layering_ring-lookalike-spread-*``: a parent splits a monthly transfer over 3-5 children
  (below 1,000 each) who each pay a different landlord (no common gatherer, no cycle);
* ``layering_ring-lookalike-slow-*``: the ring's shape at a monthly pace with slow hands: each
  intermediary holds the money 50-120 h and pays its own, different account, and the money comes
  back only 40-60 days after it left (outside the 30-day cycle window).

Every amount is a parameter (``wire_amount`` and the fractions), so a test can draw them from the
background's payment distribution and check that shape and timing alone find the ring.
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


class LayeringRing(Scenario):
    """Scatter over intermediaries, gather at a front business, and round-trip back to the origin."""

    name = "layering_ring"
    typology = "laundering_of_proceeds"
    description = ("An origin splits a foreign wire over 3-5 intermediaries who pass it within hours to a front "
                   "business, which sends it back to the origin, who wires it abroad; 3-4 rounds in a month.")
    plants = {"controller": ("FLW01", "NET04", "NET07"),
              "mule": ("FLW01", "NET04"),
              "front_business": ("FLW01", "NET05", "NET07")}

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` rings and the look-alikes."""
        p = self.params
        if self.too_short(world, 40):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []
        plans = [(f"layering_ring-{i + 1:04d}", f"S-LAYER-{i + 1:04d}", "ring") for i in range(n_instances)]
        plans += [(f"layering_ring-lookalike-{k}-{i + 1:04d}", f"S-LAYER-{code}{i + 1:04d}", k)
                  for k, code in (("spread", "LP"), ("slow", "LW")) for i in range(n_look)]
        for sid, base, kind in plans:
            city = int(world.pick_cities(rng, 1)[0])
            origin, gatherer = f"{base}-O", f"{base}-G"
            mids = [f"{base}-M{j + 1}" for j in range(draw_int(rng, p["intermediaries"]))]
            people = [origin] + mids
            parties.append(world.make_parties(rng, people, [city] * len(people),
                                              occupation=("self-employed", "consultant", "driver", "student"),
                                              declared_income=(20000, 60000)))
            accounts = list(people)
            if kind == "ring":
                parties.append(world.make_parties(rng, [gatherer], [city], account_type="business",
                                                  business_type="consulting", business_hours="09-17",
                                                  declared_income=(60000, 150000)))
                accounts.append(gatherer)
            for a in accounts:
                if kind != "ring":
                    role = "look_alike"
                else:
                    role = "controller" if a == origin else "front_business" if a == gatherer else "mule"
                labels.add(a, sid, role, kind == "ring")
                spenders.append((a, city, sid))
            if kind == "ring":
                # Rounds a few days apart: each member relays money >= 3 times within 30 days.
                # The ring moves about the same sum every round, so what an intermediary passes on in
                # one round comes back to it with the next round's share: every member is on a cycle.
                start = float(rng.uniform(0, max(world.days - 40, 1)))
                wire = float(draw_uniform(rng, p["wire_amount"]))
                for _ in range(draw_int(rng, p["rounds"])):
                    if start + 5 >= world.days:
                        break
                    amount = wire * float(draw_uniform(rng, p["round_variation"]))
                    self._ring_round(world, rng, txns, sid, base, origin, gatherer, mids, start, amount)
                    start += float(draw_uniform(rng, p["round_gap_days"]))
            else:
                # Monthly at most: one relay per account and month is ordinary.
                span = 60 if kind == "slow" else 30
                for r in range(draw_int(rng, p["lookalike_rounds"])):
                    start = float(rng.uniform(0, 10)) + r * (span + float(p["lookalike_round_gap_days"]))
                    if start + span + 2 >= world.days:
                        break
                    self._lookalike_round(world, rng, txns, sid, base, origin, mids, start, kind)
        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, list(accts), list(cities), list(sids),
                                               float(p["everyday_daily_prob"]), float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    def _wire_in(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, base: str,
                 origin: str, t0: float, wire: float | None = None) -> float:
        """The foreign wire that starts a round (drawn when `wire` is None); returns its amount."""
        wire = float(draw_uniform(rng, self.params["wire_amount"])) if wire is None else wire
        wire = round(wire, -2) if wire >= 1000 else round(wire, 2)  # round sums, unless drawn small
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t0), amount=wire, channel="wire",
                 payer_account=f"{base}-F", beneficiary_account=origin,
                 payer_country=str(rng.choice(["AE", "HK", "CY", "PA"])), beneficiary_country="US")
        return wire

    def _ring_round(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, base: str,
                    origin: str, gatherer: str, mids: list[str], start_day: float, amount: float) -> None:
        """One round of the ring: wire in, split, pass on, gather, return, wire out."""
        p = self.params
        t0 = start_day * 24 + float(draw_uniform(rng, (9, 17)))
        wire = self._wire_in(world, rng, txns, sid, base, origin, t0, amount)
        # Shares sum to 97 % of the wire and are nearly equal (Dirichlet with a large alpha).
        shares = np.round(wire * rng.dirichlet(np.full(len(mids), 40.0)) * 0.97, 2)
        t_split = t0 + draw_uniform(rng, p["split_hours"], len(mids))
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_split), amount=shares, channel="transfer",
                 payer_account=origin, beneficiary_account=mids)
        passed = np.round(shares * draw_uniform(rng, p["pass_fraction"], len(mids)), 2)
        t_pass = t_split + draw_uniform(rng, p["hold_hours"], len(mids))
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_pass), amount=passed, channel="p2p",
                 payer_account=mids, beneficiary_account=gatherer)
        back = round(float(passed.sum()) * float(draw_uniform(rng, p["return_fraction"])), 2)
        t_back = float(t_pass.max()) + float(draw_uniform(rng, p["return_hours"]))
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_back), amount=back, channel="transfer",
                 payer_account=gatherer, beneficiary_account=origin, memo="consulting fees")
        out = round(back * float(draw_uniform(rng, p["exit_fraction"])), 2)
        t_out = t_back + float(draw_uniform(rng, p["exit_hours"]))
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_out), amount=out, channel="wire",
                 payer_account=origin, beneficiary_account=f"{base}-X", payer_country="US",
                 beneficiary_country=str(rng.choice(["AE", "HK", "CY", "PA"])))

    def _lookalike_round(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, base: str,
                         origin: str, mids: list[str], start_day: float, kind: str) -> None:
        """One round of a look-alike: a parent's spread gift, or the slow ring without a gatherer."""
        p = self.params
        t0 = start_day * 24 + float(draw_uniform(rng, (9, 17)))
        wire = self._wire_in(world, rng, txns, sid, base, origin, t0)
        if kind == "spread":
            # A parent's gift: below 1,000 each, to the children, who pay their own landlords.
            shares = np.round(draw_uniform(rng, p["lookalike_gift"], len(mids)), -1)
        else:
            shares = np.maximum(np.round(wire * rng.dirichlet(np.full(len(mids), 4.0)) * 0.97, 2), 1000.0)
        t_split = t0 + draw_uniform(rng, (1, 20), len(mids))
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_split), amount=shares, channel="transfer",
                 payer_account=origin, beneficiary_account=mids)
        passed = np.round(shares * draw_uniform(rng, (0.85, 0.98), len(mids)), 2)
        t_pass = t_split + draw_uniform(rng, p["lookalike_hold_hours"], len(mids))
        targets = [f"{m}-LL" for m in mids]
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_pass), amount=passed, channel="p2p",
                 payer_account=mids, beneficiary_account=targets)
        if kind == "slow":
            # The money comes back from one of the intermediaries' own recipients, 40-60 days later.
            t_back = t0 + float(draw_uniform(rng, (40, 60))) * 24
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t_back), amount=round(float(passed.sum()) * 0.8, 2),
                     channel="transfer", payer_account=targets[0], beneficiary_account=origin)
