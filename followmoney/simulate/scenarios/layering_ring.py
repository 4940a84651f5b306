"""Layering ring: money scattered over intermediaries, gathered, and sent back to where it started.

Detector shapes it is planted against (without importing them): scatter-gather (one origin pays
>= 3 intermediaries >= 1,000 each, each pays the same gatherer >= 70 % of it within 14 days) and a
time-respecting cycle (the money is back at the origin within 30 days, every leg >= 70 % of the
first).

True instances: an origin (role ``controller``) receives a wire of 10,000-25,000 from abroad and,
within a day, splits it over 3-5 intermediaries (role ``mule``); each intermediary passes 85-98 %
on to one gatherer (role ``mule``) 50-120 h later; 3-10 days after the last of those the gatherer
returns 70-90 % of everything to the origin. 1-3 rounds, at least 35 days apart, so no account sees
three fast pass-through events within 30 days. No account of the ring is expected to alert: network
hits alone stay below the alert threshold (they need another family to corroborate), so the
labels say `expected_alert = false` and the tests check the hits instead.

Look-alikes (role ``look_alike``, no hit expected from the two detector shapes):

* ``layering_ring-lookalike-spread-*``: a parent splits money over 3-5 children who each pay a
  different landlord (no common gatherer);
* ``layering_ring-lookalike-slow-*``: the same ring, but the money comes back 40-60 days after it
  left (outside the 30-day window) and each intermediary pays its own, different account.
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
    """Scatter over intermediaries, gather, and round-trip back to the origin."""

    name = "layering_ring"
    typology = "laundering_of_proceeds"
    description = ("An origin splits a foreign wire over 3-5 intermediaries who pass it to one gatherer, "
                   "who sends most of it back to the origin within 30 days.")

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
            accounts = [origin] + mids + ([gatherer] if kind == "ring" else [])
            parties.append(world.make_parties(rng, accounts, [city] * len(accounts),
                                              occupation=("self-employed", "consultant", "driver", "student"),
                                              declared_income=(20000, 60000)))
            for a in accounts:
                role = "look_alike" if kind != "ring" else ("controller" if a == origin else "mule")
                labels.add(a, sid, role, False)
                spenders.append((a, city, sid))
            rounds = draw_int(rng, p["rounds"])
            # A round takes up to 30 days (60 for the slow look-alike) and rounds are spaced apart.
            span = 60 if kind == "slow" else 30
            for r in range(rounds):
                start = float(rng.uniform(0, 10)) + r * (span + float(p["round_gap_days"]))
                if start + span + 2 >= world.days:
                    break
                self._round(world, rng, txns, sid, base, origin, gatherer, mids, start, kind)
        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, list(accts), list(cities), list(sids),
                                               float(p["everyday_daily_prob"]), float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    def _round(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, base: str, origin: str,
               gatherer: str, mids: list[str], start_day: float, kind: str) -> None:
        """One round: wire in, split, pass on, return (or the look-alike's version of it)."""
        p = self.params
        t0 = start_day * 24 + float(draw_uniform(rng, (9, 17)))
        wire = round(float(draw_uniform(rng, p["wire_amount"])), -2)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t0), amount=wire, channel="wire",
                 payer_account=f"{base}-F", beneficiary_account=origin,
                 payer_country=str(rng.choice(["AE", "HK", "CY", "PA"])), beneficiary_country="US")
        if kind == "spread":
            # A parent's gift: below 1,000 each, to the children, who pay their own landlords.
            shares = np.round(draw_uniform(rng, (500, 950), len(mids)), -1)
        else:
            shares = np.round(wire * rng.dirichlet(np.full(len(mids), 4.0)) * 0.97, 2)
            shares = np.maximum(shares, 1000.0)
        t_split = t0 + draw_uniform(rng, (1, 20), len(mids))
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_split), amount=shares, channel="transfer",
                 payer_account=origin, beneficiary_account=mids)
        hold = draw_uniform(rng, p["hold_hours"], len(mids))
        passed = shares * draw_uniform(rng, p["pass_fraction"], len(mids))
        t_pass = t_split + hold
        if kind == "ring":
            targets = [gatherer] * len(mids)
        else:
            targets = [f"{m}-LL" for m in mids]
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_pass), amount=np.round(passed, 2), channel="p2p",
                 payer_account=mids, beneficiary_account=targets)
        if kind == "spread":
            return
        if kind == "slow":
            # The money comes back from one of the intermediaries' own recipients, 40-60 days later.
            t_back = t0 + float(draw_uniform(rng, (40, 60))) * 24
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t_back), amount=round(float(passed.sum()) * 0.8, 2),
                     channel="transfer", payer_account=targets[0], beneficiary_account=origin)
            return
        t_back = float(t_pass.max()) + float(draw_uniform(rng, p["return_days"])) * 24
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_back),
                 amount=round(float(passed.sum()) * float(draw_uniform(rng, p["return_fraction"])), 2),
                 channel="transfer", payer_account=gatherer, beneficiary_account=origin)
