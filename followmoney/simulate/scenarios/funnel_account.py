"""Funnel account: cash collected in other towns, paid in at several branches, spent at home.

Reference detectors the plant is checked against (the defaults of CSH06, CSH07 and FLW01):

* multi-location deposits: >= 3 cash credits at >= 2 branches/ATMs and >= 2 cities within 24 h,
  totalling >= 1,000;
* funnel pairs: a cash credit in a city other than the holder's home city followed within 36 h by
  cash debits or card purchases in another city; >= 3 such deposits within 30 days, and the remote
  debits take out >= 50 % of the away-from-home deposits;
* pass-through: >= 3 credits of >= 500 each followed within 48 h by debits of >= 90 % of it, within
  30 days (the decisive rule that alerts a mule whose money only passes through).

True instances (role ``mule``, expected alert): one personal account per instance with
``collection_days`` collection days, ``collection_gap_days`` apart. On each, a courier pays in
``deposits_per_day`` cash deposits of ``deposit_amount`` at branches of ``cities_per_day`` towns
other than the holder's home, within ``deposit_span_hours`` hours; the next day the holder takes out
``withdrawn_fraction`` of it at ATMs in the home city (and buys a little by card there).

Look-alikes (role ``look_alike``, no alert):

* ``funnel_account-lookalike-a-*``: a travelling sales representative who banks the day's takings
  in the two towns of the route (two deposits a day, one fewer than the rule needs) and back home
  spends ``lookalike_a_spent_fraction`` of it (under half), keeping the rest;
* ``funnel_account-lookalike-b-*``: someone who pays three deposits a day into branches of the
  home city and spends ``lookalike_b_spent_fraction`` of it in another city the next day: the
  deposits are where the holder lives, so they are not funnel pairs, and one city is not several.

Look-alike deposits (``lookalike_deposit_amount``) stay under the 500 that starts a pass-through
event, so neither look-alike is a pass-through either.
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
    draw_uniform,
)


class FunnelAccount(Scenario):
    """Cash paid in at branches of several towns in a day and drawn out at home the next day."""

    name = "funnel_account"
    typology = "laundering_of_proceeds"
    plants = {"mule": ("CSH06", "CSH07")}
    description = ("Collection days with 3-4 cash deposits in 2-3 towns away from home, 85-98 % taken out "
                   "at home within a day and a half.")

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` funnel accounts and ``lookalike_ratio`` look-alikes of each kind."""
        p = self.params
        n_days_max = int(p["collection_days"][1])
        needed = (n_days_max - 1) * float(p["collection_gap_days"][1]) + 4
        if self.too_short(world, needed) or len(world.cities) < 4:
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []
        kinds = (("", "M", "mule", n_instances), ("lookalike-a-", "LA", "look_alike", n_look),
                 ("lookalike-b-", "LB", "look_alike", n_look))
        for prefix, code, role, count in kinds:
            for i in range(count):
                sid, acct = f"funnel_account-{prefix}{i + 1:04d}", f"S-FUNNEL-{code}{i + 1:04d}"
                home = int(world.pick_cities(rng, 1)[0])
                occupation = ("sales representative",) if prefix == "lookalike-a-" else ("unemployed", "cleaner")
                parties.append(world.make_parties(rng, [acct], [home], occupation=occupation,
                                                  declared_income=p["declared_income"]))
                labels.add(acct, sid, role, role == "mule")
                if prefix == "":
                    self._collections(world, rng, txns, sid, acct, home, p)
                elif prefix == "lookalike-a-":
                    self._sales_route(world, rng, txns, sid, acct, home, p)
                else:
                    self._home_deposits(world, rng, txns, sid, acct, home, p)
                spenders.append((acct, home, sid))
        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, accts, cities, sids, float(p["everyday_daily_prob"]),
                                               float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    @staticmethod
    def _days(world: World, rng: np.random.Generator, n: int, gap: Any) -> list[float]:
        """Start (midnight) of ``n`` collection days, consecutive ones ``gap`` days apart."""
        span = (n - 1) * float(gap[1])
        day = float(np.floor(rng.uniform(1, world.days - span - 3)))
        days = []
        for _ in range(n):
            days.append(day)
            day += float(np.floor(rng.uniform(float(gap[0]), float(gap[1]) + 1)))
        return days

    @staticmethod
    def _away(world: World, rng: np.random.Generator, home: int, k: int) -> list[int]:
        return [int(c) for c in rng.permutation(len(world.cities)) if c != home][:k]

    def _collections(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str,
                     home: int, p: Mapping[str, Any]) -> None:
        """Collection days: deposits in towns away from home, taken out at home the next day."""
        for day in self._days(world, rng, draw_int(rng, p["collection_days"]), p["collection_gap_days"]):
            k = draw_int(rng, p["deposits_per_day"])
            towns = self._away(world, rng, home, draw_int(rng, p["cities_per_day"]))
            # Every town gets a deposit; the rest go to towns drawn again, each at a different branch.
            city_of = towns + [towns[int(j)] for j in rng.integers(0, len(towns), k - len(towns))]
            hours = day * 24 + 9 + np.sort(rng.uniform(0, float(p["deposit_span_hours"]), k))
            amounts = np.round(draw_uniform(rng, p["deposit_amount"], k), -1)
            branches = [world.branch(rng, c, 1)[0] for c in city_of]
            txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=amounts, channel="cash",
                     beneficiary_account=acct, city=[world.cities[c].name for c in city_of],
                     region=[world.cities[c].region for c in city_of], branch_id=branches)
            self._take_out(world, rng, txns, sid, acct, home, day, float(amounts.sum()),
                           float(draw_uniform(rng, p["withdrawn_fraction"])))

    @staticmethod
    def _take_out(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                  day: float, total: float, fraction: float) -> None:
        """The next morning: ATM withdrawals in ``city`` of ``fraction`` of ``total`` (one by card)."""
        out = total * fraction
        n_atm = max(1, int(np.ceil(out / 800)))
        parts = np.full(n_atm, out / n_atm)
        card = round(min(60.0, out * 0.05), 2)
        parts[-1] -= card
        hours = (day + 1) * 24 + 8 + np.sort(rng.uniform(0, 6, n_atm))
        c = world.cities[city]
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=np.round(parts, 2), channel="atm",
                 payer_account=acct, city=c.name, region=c.region, atm_owner_type="bank",
                 branch_id=world.branch(rng, city, n_atm))
        txns.add(scenario_id=sid, ts=world.hours_to_ts((day + 1) * 24 + 15), amount=card, channel="card",
                 payer_account=acct, beneficiary_account=f"M-FUNNEL-STORE-{c.code}", mcc="5411",
                 counterparty_name=f"{c.name.upper()} MARKET", city=c.name, region=c.region)

    def _sales_route(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str,
                     home: int, p: Mapping[str, Any]) -> None:
        """Route days: takings banked in two towns (two deposits), a little spent back home."""
        for day in self._days(world, rng, draw_int(rng, p["collection_days"]), p["collection_gap_days"]):
            towns = self._away(world, rng, home, 2)
            amounts = np.round(draw_uniform(rng, p["lookalike_deposit_amount"], 2), -1)
            hours = day * 24 + 10 + np.sort(rng.uniform(0, float(p["deposit_span_hours"]), 2))
            txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=amounts, channel="cash",
                     beneficiary_account=acct, city=[world.cities[c].name for c in towns],
                     region=[world.cities[c].region for c in towns],
                     branch_id=[world.branch(rng, c, 1)[0] for c in towns])
            self._take_out(world, rng, txns, sid, acct, home, day, float(amounts.sum()),
                           float(draw_uniform(rng, p["lookalike_a_spent_fraction"])))

    def _home_deposits(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str,
                       home: int, p: Mapping[str, Any]) -> None:
        """Three deposits at home branches, part of it spent in another town the next day."""
        for day in self._days(world, rng, draw_int(rng, p["collection_days"]), p["collection_gap_days"]):
            amounts = np.round(draw_uniform(rng, p["lookalike_deposit_amount"], 3), -1)
            hours = day * 24 + 9 + np.sort(rng.uniform(0, float(p["deposit_span_hours"]), 3))
            c = world.cities[home]
            txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=amounts, channel="cash",
                     beneficiary_account=acct, city=c.name, region=c.region,
                     branch_id=world.branch(rng, home, 3, distinct=True))
            self._take_out(world, rng, txns, sid, acct, self._away(world, rng, home, 1)[0], day,
                           float(amounts.sum()), float(draw_uniform(rng, p["lookalike_b_spent_fraction"])))
