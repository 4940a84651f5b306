"""Business sweep: proceeds moved at once from a personal account into a business and drained out again.

Detector shapes it is planted against (without importing them):

* sweep and drain: a personal account pays a business within 24 h of cash or p2p inflows, and the
  business pays >= 80 % of it out by p2p or cash within 72 h;
* same-owner transfers: >= 4 transfers within 30 days between business accounts that share a party
  (the owner, authorised on both);
* rapid pass-through: >= 3 inflows (>= 500) within 30 days each followed within 48 h by outflows of
  >= 90 % of it. Every true account alerts through this one.

True instances: a victim's personal account (role ``mule``) takes a cash deposit of 600-1,500 and
1-3 client e-transfers, and 2-20 h later sends 92-99 % of the day to a front business (role
``front_business``, a "spa"), twice a week; the business pays 92-99 % of each sweep out within
4-40 h by e-transfers to the controller and ATM cash. The owner's second business (role
``front_business``) and the first pay each other 2,000-4,000 back and forth every week, each
payment returned within 1-2 days.

Look-alikes (role ``look_alike``, must not alert):

* ``business_sweep-lookalike-takings-*``: an owner paying weekly cash into their own account tops
  the salon's account up with half of it once a month; the salon pays its supplier by ACH;
* ``business_sweep-lookalike-group-*``: two businesses of one owner settling one management fee a
  month.
"""

from __future__ import annotations

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
from followmoney.simulate.schema import PARTY_SCHEMA


def _same_owner(parties: pa.Table, first: str) -> pa.Table:
    """Make the authorised owner of every business in `parties` the owner of account `first`."""
    rows = parties.to_pylist()
    owner = next(r for r in rows if r["account_id"] == first and r["relation"] == "authorised")
    for r in rows:
        if r["relation"] == "authorised":
            r.update(party_id=owner["party_id"], name=owner["name"], birth_date=owner["birth_date"],
                     phone=owner["phone"], email=owner["email"])
    return pa.Table.from_pylist(rows, schema=PARTY_SCHEMA)


class BusinessSweep(Scenario):
    """A victim's takings swept into a front business and drained; the owner's businesses pay each other."""

    name = "business_sweep"
    typology = "sexual_exploitation"
    description = ("Cash and e-transfers on a personal account go the same day to a front business, which "
                   "drains them by e-transfer and ATM; the owner's two businesses pay each other weekly.")
    plants = {"front_business": ("FLW01", "NET11"), "mule": ("FLW01",)}

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` sweeps with their two businesses, and the look-alikes."""
        p = self.params
        if self.too_short(world, 7 * float(p["weeks"][1]) + 3):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []
        for i in range(n_instances):
            sid, base = f"business_sweep-{i + 1:04d}", f"S-SWEEP-{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            mule, spa, other = f"{base}-V", f"{base}-B1", f"{base}-B2"
            parties.append(world.make_parties(rng, [mule], [city], age=(18, 30), occupation=("student", "dancer"),
                                              declared_income=(8000, 20000)))
            parties.append(_same_owner(world.make_parties(rng, [spa, other], [city, city], account_type="business",
                                                          business_type="spa", business_hours="10-22",
                                                          declared_income=(80000, 200000)), spa))
            labels.add(mule, sid, "mule", True)
            labels.add(spa, sid, "front_business", True)
            labels.add(other, sid, "front_business", True)
            spenders += [(mule, city, sid)]
            weeks = draw_int(rng, p["weeks"])
            start = float(rng.uniform(0, max(1.0, world.days - 7 * weeks - 3)))
            for day in np.arange(start, start + 7 * weeks, 3.5):
                self._sweep(world, rng, txns, sid, base, mule, spa, float(day) * 24 + 9, city)
            for day in np.arange(start + 1, start + 7 * weeks, 7.0):
                self._circle(world, rng, txns, sid, spa, other, float(day) * 24 + 11)
        for i in range(n_look):
            self._takings(world, rng, txns, labels, parties, spenders, i)
            self._group(world, rng, txns, labels, parties, i)
        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, list(accts), list(cities), list(sids),
                                               float(p["everyday_daily_prob"]), float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    def _sweep(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, base: str, mule: str,
               spa: str, t0: float, city: int) -> None:
        """One day's takings: cash and client e-transfers, swept to the spa, drained by e-transfer and ATM."""
        p = self.params
        if t0 + 72 >= world.days * 24:
            return
        place = {"city": world.cities[city].name, "region": world.cities[city].region}
        cash = round(float(draw_uniform(rng, p["cash_amount"])), -1)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t0), amount=cash, channel="cash", beneficiary_account=mule,
                 branch_id=world.branch(rng, city, 1)[0], **place)
        n = draw_int(rng, p["client_payments"])
        clients = draw_uniform(rng, p["client_amount"], n).round(-1)
        t_clients = t0 + draw_uniform(rng, (1, 8), n)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_clients), amount=clients, channel="p2p",
                 payer_account=[f"{base}-K{int(k)}" for k in rng.integers(0, 40, n)], beneficiary_account=mule)
        swept = round((cash + float(clients.sum())) * float(draw_uniform(rng, p["sweep_fraction"])), 2)
        t_sweep = float(t_clients.max()) + float(draw_uniform(rng, p["sweep_hours"]))
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_sweep), amount=swept, channel="transfer",
                 payer_account=mule, beneficiary_account=spa)
        out = swept * float(draw_uniform(rng, p["drain_fraction"]))
        t_out = t_sweep + float(draw_uniform(rng, p["drain_hours"]))
        atm = round(min(out * 0.3, 800.0), -1)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_out), amount=round(out - atm, 2), channel="p2p",
                 payer_account=spa, beneficiary_account=f"{base}-C")
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_out + 1.0), amount=atm, channel="atm", payer_account=spa,
                 atm_owner_type="bank", branch_id=world.branch(rng, city, 1)[0], **place)

    def _circle(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, spa: str, other: str,
                t0: float) -> None:
        """The owner's two businesses pay each other: there and back within 1-2 days."""
        p = self.params
        if t0 + 48 >= world.days * 24:
            return
        amount = round(float(draw_uniform(rng, p["circle_amount"])), -2)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t0), amount=amount, channel="transfer",
                 payer_account=spa, beneficiary_account=other, memo="management fee")
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t0 + float(draw_uniform(rng, (24, 44)))),
                 amount=round(amount * float(draw_uniform(rng, (0.92, 0.99))), 2), channel="transfer",
                 payer_account=other, beneficiary_account=spa, memo="supplies")

    def _takings(self, world: World, rng: np.random.Generator, txns: TxnBuilder, labels: LabelBuilder,
                 parties: list, spenders: list, i: int) -> None:
        """An owner tops the salon's account up monthly from their own cash; it pays its supplier by ACH."""
        sid, base = f"business_sweep-lookalike-takings-{i + 1:04d}", f"S-SWEEP-LT{i + 1:04d}"
        city = int(world.pick_cities(rng, 1)[0])
        owner, salon = f"{base}-O", f"{base}-B"
        parties.append(world.make_parties(rng, [owner], [city], occupation=("salon owner",),
                                          declared_income=(30000, 60000)))
        parties.append(world.make_parties(rng, [salon], [city], account_type="business", business_type="salon",
                                          business_hours="09-18", declared_income=(80000, 150000)))
        labels.add(owner, sid, "look_alike", False)
        labels.add(salon, sid, "look_alike", False)
        spenders.append((owner, city, sid))
        cash_days = np.arange(float(rng.uniform(0, 5)), world.days - 3, 7.0)
        cash = np.round(rng.uniform(600, 1400, cash_days.size), -1)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(cash_days * 24 + 17), amount=cash, channel="cash",
                 beneficiary_account=owner, branch_id=world.branch(rng, city, cash_days.size),
                 city=world.cities[city].name, region=world.cities[city].region)
        # Once a month the owner tops the salon's account up with part of what came in.
        for k in range(0, cash_days.size, 4):
            t = float(cash_days[k]) * 24 + 20
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t), amount=round(float(cash[k:k + 4].sum()) * 0.5, 2),
                     channel="transfer", payer_account=owner, beneficiary_account=salon)
        for day in range(5, world.days - 1, 30):
            bill = round(float(rng.uniform(1500, 2500)), 2)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + 8.0), amount=bill,
                     channel="ach", payer_account=salon, beneficiary_account=f"{base}-SUP", memo="supplies")

    def _group(self, world: World, rng: np.random.Generator, txns: TxnBuilder, labels: LabelBuilder,
               parties: list, i: int) -> None:
        """Two businesses of one owner settle a management fee once a month."""
        sid, base = f"business_sweep-lookalike-group-{i + 1:04d}", f"S-SWEEP-LG{i + 1:04d}"
        city = int(world.pick_cities(rng, 1)[0])
        a, b = f"{base}-B1", f"{base}-B2"
        parties.append(_same_owner(world.make_parties(rng, [a, b], [city, city], account_type="business",
                                                      business_type="restaurant", business_hours="11-23",
                                                      declared_income=(150000, 300000)), a))
        labels.add(a, sid, "look_alike", False)
        labels.add(b, sid, "look_alike", False)
        for day in range(10, world.days - 1, 30):
            fee = round(float(rng.uniform(2000, 4000)), -2)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + 10.0), amount=fee,
                     channel="transfer", payer_account=a, beneficiary_account=b, memo="management fee")
