"""Gather-scatter hub: money from several collectors pooled in one account and paid out at once to many.

Detector shapes it is planted against (without importing them):

* gather-scatter: >= 5 distinct senders and >= 5 distinct recipients within 14 days, >= 80 % of
  the inflow paid out;
* fan-out: >= 8 distinct recipients and >= 3,000 paid within 7 days;
* unusual joint holders: >= 3 authorised users of a personal account with another surname and
  address than the holder's;
* rapid pass-through: >= 3 inflows (>= 500) within 30 days each followed within 48 h by outflows of
  >= 90 % of it. The hub alerts through this one (network hits alone never alert).

True instances: a hub (role ``controller``) is paid by 5-8 collectors (role ``victim``, not
expected to alert: they only hand money over) over 1-2 days, 700-1,500 each, and 12-40 h after the
last of them pays out 90-98 % of it to 8-12 recipients (drivers, landlords, recruiters; role
``mule``, not expected to alert: each receives one payment a week and spends it slowly). Weekly,
for 4-8 weeks. The collectors are authorised users of the hub's account, each with their own name
and address (the unusual-joint-holders shape: >= 3 authorised users who are not family).

Look-alikes (role ``look_alike``, must not alert):

* ``gather_scatter-lookalike-employer-*``: a small business paid by 2-3 clients that pays 8-12
  wages every two weeks (a fan-out, but not a hub: few senders, and pay days are days after the
  clients paid);
* ``gather_scatter-lookalike-landlord-*``: a landlord collecting rent from 6-10 tenants at the
  start of each month and paying one mortgage (many senders, one recipient).

Every amount is a parameter, so a test can draw them from the background's payment distribution
and check that shape and timing alone find the hub.
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


def _authorised_on(people: pa.Table, account: str, others: list[str]) -> pa.Table:
    """Rows making the holders of `others` authorised users of `account` (names and addresses their own)."""
    rows = [dict(r, account_id=account, relation="authorised")
            for r in people.to_pylist() if r["account_id"] in others and r["relation"] == "holder"]
    return pa.Table.from_pylist(rows, schema=PARTY_SCHEMA)


class GatherScatter(Scenario):
    """A hub that pools collectors' money and pays it out at once to many accounts."""

    name = "gather_scatter"
    typology = "laundering_of_proceeds"
    description = ("A hub collects from 5-8 accounts over 1-2 days and pays 90-98 % out within 40 h to 8-12 "
                   "accounts, weekly.")
    plants = {"controller": ("FLW01", "NET02", "NET06", "NET12")}

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` hubs with their senders and recipients, and the look-alikes."""
        p = self.params
        if self.too_short(world, 7 * float(p["weeks"][1]) + 3):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []
        for i in range(n_instances):
            sid, base = f"gather_scatter-{i + 1:04d}", f"S-HUB-{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            hub = f"{base}-H"
            senders = [f"{base}-S{j + 1}" for j in range(draw_int(rng, p["senders"]))]
            recipients = [f"{base}-R{j + 1:02d}" for j in range(draw_int(rng, p["recipients"]))]
            everyone = [hub] + senders + recipients
            people = world.make_parties(rng, everyone, [city] * len(everyone),
                                        occupation=("self-employed", "driver", "student", "unemployed"),
                                        declared_income=(10000, 40000))
            parties += [people, _authorised_on(people, hub, senders)]
            labels.add(hub, sid, "controller", True)
            for s in senders:
                labels.add(s, sid, "victim", False)
            for r in recipients:
                labels.add(r, sid, "mule", False)
            spenders += [(a, city, sid) for a in everyone]
            weeks = draw_int(rng, p["weeks"])
            start = float(rng.uniform(0, max(1.0, world.days - 7 * weeks - 3)))
            for w in range(weeks):
                self._week(world, rng, txns, sid, hub, senders, recipients, (start + 7 * w) * 24, city)
        for i in range(n_look):
            self._employer(world, rng, txns, labels, parties, spenders, i)
            self._landlord(world, rng, txns, labels, parties, spenders, i)
        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, list(accts), list(cities), list(sids),
                                               float(p["everyday_daily_prob"]), float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    def _week(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, hub: str,
              senders: list[str], recipients: list[str], t0: float, city: int) -> None:
        """One week of the hub: the senders pay in over 1-2 days, the hub pays out at once."""
        p = self.params
        n_in = len(senders)
        t_in = t0 + draw_uniform(rng, p["collect_hours"], n_in)
        paid_in = np.round(draw_uniform(rng, p["sender_amount"], n_in), -1)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_in), amount=paid_in, channel="p2p",
                 payer_account=senders, beneficiary_account=hub)
        total = float(paid_in.sum()) * float(draw_uniform(rng, p["payout_fraction"]))
        t_out = float(t_in.max()) + float(draw_uniform(rng, p["payout_delay_hours"]))
        if t_out >= world.days * 24:
            return
        n_out = len(recipients)
        shares = np.round(total * rng.dirichlet(np.full(n_out, 6.0)), 2)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(t_out + draw_uniform(rng, (0, 3), n_out)), amount=shares,
                 channel="p2p", payer_account=hub, beneficiary_account=recipients)
        # Each recipient spends its share over the following days (card, cash): no pass-through.
        for r, amount in zip(recipients, shares, strict=True):
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t_out + float(draw_uniform(rng, (60, 150)))),
                     amount=round(float(amount) * float(draw_uniform(rng, (0.3, 0.6))), 2), channel="atm",
                     payer_account=r, branch_id=world.branch(rng, city, 1)[0], atm_owner_type="bank",
                     city=world.cities[city].name, region=world.cities[city].region)

    def _employer(self, world: World, rng: np.random.Generator, txns: TxnBuilder, labels: LabelBuilder,
                  parties: list, spenders: list, i: int) -> None:
        """A small employer: a few clients pay it, and every two weeks it pays its staff."""
        p = self.params
        sid, acct = f"gather_scatter-lookalike-employer-{i + 1:04d}", f"S-HUB-LE{i + 1:04d}"
        city = int(world.pick_cities(rng, 1)[0])
        parties.append(world.make_parties(rng, [acct], [city], account_type="business", business_type="cleaning",
                                          business_hours="07-19", declared_income=(200000, 400000)))
        labels.add(acct, sid, "look_alike", False)
        spenders.append((acct, city, sid))
        clients = [f"{acct}-K{k + 1}" for k in range(draw_int(rng, (2, 3)))]
        staff = [f"{acct}-W{k + 1:02d}" for k in range(draw_int(rng, p["recipients"]))]
        wage = draw_uniform(rng, p["lookalike_wage"], len(staff))
        for day in range(3, world.days - 1, 14):
            # Clients settle invoices a week before pay day; wages go out by ACH on pay day.
            t = day * 24.0
            invoices = np.round(wage.sum() * draw_uniform(rng, (0.6, 0.8), len(clients)), -1)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t + draw_uniform(rng, (9, 17), len(clients))),
                     amount=invoices, channel="ach", payer_account=clients, beneficiary_account=acct,
                     memo="invoice")
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t + 7 * 24 + 6.0), amount=np.round(wage, 2), channel="ach",
                     payer_account=acct, beneficiary_account=staff, memo="payroll")

    def _landlord(self, world: World, rng: np.random.Generator, txns: TxnBuilder, labels: LabelBuilder,
                  parties: list, spenders: list, i: int) -> None:
        """A landlord: many tenants pay rent at the start of the month, one mortgage payment goes out."""
        p = self.params
        sid, acct = f"gather_scatter-lookalike-landlord-{i + 1:04d}", f"S-HUB-LL{i + 1:04d}"
        city = int(world.pick_cities(rng, 1)[0])
        parties.append(world.make_parties(rng, [acct], [city], occupation=("landlord", "retired"),
                                          declared_income=(60000, 120000)))
        labels.add(acct, sid, "look_alike", False)
        spenders.append((acct, city, sid))
        tenants = [f"{acct}-T{k + 1:02d}" for k in range(draw_int(rng, p["lookalike_tenants"]))]
        rent = np.round(draw_uniform(rng, p["lookalike_rent"], len(tenants)), -1)
        for day in range(1, world.days - 5, 30):
            t = day * 24.0 + draw_uniform(rng, (8, 80), len(tenants))
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t), amount=rent, channel="p2p",
                     payer_account=tenants, beneficiary_account=acct, memo="rent")
            txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24.0 + 120), amount=round(float(rent.sum()) * 0.55, 2),
                     channel="ach", payer_account=acct, beneficiary_account=f"{acct}-BANK", memo="mortgage")
