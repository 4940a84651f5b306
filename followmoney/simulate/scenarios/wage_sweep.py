"""Wage sweep: workers whose pay is taken by the same man within hours of landing, pay after pay.

Reference detectors the plant is checked against (the defaults of FLW03, FLW02 and FLW01):

* salary sweep: an ACH payroll credit followed within 48 h by cash or transfers to third parties of
  >= 80 % of it, in >= 2 of 3 consecutive pay cycles;
* depleted pass-through: over a complete 60-day period, debits >= 90 % of credits, half the credits
  half gone within 72 h, end-of-day balance under 5 % of the trailing 30 days' credits on >= 80 %
  of days, and groceries, utilities and rent under 5 % of debits;
* pass-through: >= 3 credits of >= 500 moved out at >= 90 % within 48 h within 30 days (decisive).

True instances (role ``victim``, expected alert): ``workers`` accounts per instance, paid
``wage`` by one employer every 14 days (memo ``PAYROLL ...``). Within ``sweep_hours`` of each pay
``sweep_fraction`` of it leaves: to the crew boss's account by transfer, or in cash at an ATM
with probability ``cash_prob``. What is left is spent in small card purchases at convenience
stores and fast-food places (the boss provides food and a bed), so the balance stays near zero.

Look-alikes (role ``look_alike``, no alert):

* ``wage_sweep-lookalike-a-*``: a tenant who pays rent (``lookalike_rent_share`` of the monthly
  salary) the day after payday and buys groceries and utilities: money leaves right after payday,
  but far less than 80 %, and it is living costs;
* ``wage_sweep-lookalike-b-*``: a saver who moves ``lookalike_saving_fraction`` of each fortnightly
  pay to a savings account of their own (same party) the next day: as much as a sweep, but to
  themselves, and too little for a pass-through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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

_EMPLOYERS = ("GREENFIELD HARVEST LLC", "SUNRISE PACKING CO", "TRI-COUNTY CLEANING SERVICES")
_SNACKS = (("5499", "QUICKSTOP"), ("5814", "BURGER BARN"), ("5499", "CORNER MART"))


class WageSweep(Scenario):
    """Fortnightly pay swept to the crew boss or taken in cash within hours, living costs paid by nobody."""

    name = "wage_sweep"
    typology = "labour_exploitation"
    plants = {"victim": ("FLW02", "FLW03")}
    description = "2-4 workers per crew whose fortnightly pay is 90-98 % swept to one boss or cash within 30 h."

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` crews and ``lookalike_ratio`` look-alikes of each kind."""
        p = self.params
        # FLW02 judges complete 60-day periods from the first payday (up to two weeks in), and the
        # last period must be covered by data: 80 days hold one whatever the first payday.
        if self.too_short(world, 80):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        for i in range(n_instances):
            sid = f"wage_sweep-{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            boss = f"X-WAGE-BOSS{i + 1:04d}"
            employer = _EMPLOYERS[i % len(_EMPLOYERS)]
            accts = [f"S-WAGE-V{i + 1:04d}-{k + 1}" for k in range(draw_int(rng, p["workers"]))]
            parties.append(world.make_parties(rng, accts, [city] * len(accts), age=p["worker_age"],
                                              occupation=("farm worker", "packer", "cleaner"),
                                              declared_income=p["declared_income"]))
            for acct in accts:
                labels.add(acct, sid, "victim", True)
                self._worker(world, rng, txns, sid, acct, city, boss, employer, p)
            # The boss is part of the scheme (the link stage joins him to his workers): a labelled
            # customer, not expected to alert on his own.
            parties.append(world.make_parties(rng, [boss], [city], age=(30, 55), occupation=("labour contractor",)))
            labels.add(boss, sid, "controller", False)
        for i in range(n_look):
            sid, acct = f"wage_sweep-lookalike-a-{i + 1:04d}", f"S-WAGE-LA{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [city], occupation=("warehouse worker",),
                                              declared_income=(30000, 50000)))
            labels.add(acct, sid, "look_alike", False)
            self._tenant(world, rng, txns, sid, acct, city, p)
            sid, acct = f"wage_sweep-lookalike-b-{i + 1:04d}", f"S-WAGE-LB{i + 1:04d}"
            savings = f"{acct}-SAV"
            city = int(world.pick_cities(rng, 1)[0])
            table = world.make_parties(rng, [acct, savings], [city, city], occupation=("nurse",),
                                       declared_income=(40000, 60000))
            # One customer holding both accounts: the savings account is the holder's own.
            parties.append(table.set_column(table.schema.get_field_index("party_id"), "party_id",
                                            pa.array([f"{acct}-P"] * 2, pa.string())))
            parties[-1] = parties[-1].set_column(
                parties[-1].schema.get_field_index("name"), "name",
                pa.array([pc.min(table.column("name")).as_py()] * 2, pa.string()))
            labels.add(acct, sid, "look_alike", False)
            labels.add(savings, sid, "look_alike", False)
            self._saver(world, rng, txns, sid, acct, savings, city, p)
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    @staticmethod
    def _paydays(world: World, rng: np.random.Generator, every: int) -> np.ndarray:
        return np.arange(int(rng.integers(0, every)), world.days - 2, every).astype(float)

    def _worker(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                boss: str, employer: str, p: Mapping[str, Any]) -> None:
        """Fortnightly pay, swept within hours; the remainder spent on snacks over the next days."""
        c = world.cities[city]
        days = self._paydays(world, rng, 14)
        wage = round(float(draw_uniform(rng, p["wage"])), 2)
        pay_hours = days * 24 + rng.uniform(2, 6, days.size)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(pay_hours), amount=wage, channel="ach",
                 payer_account=f"X-EMP-{employer.split()[0]}", beneficiary_account=acct, counterparty_name=employer,
                 memo=f"PAYROLL {employer}")
        for h in pay_hours:
            swept = round(wage * float(draw_uniform(rng, p["sweep_fraction"])), 2)
            t = h + float(draw_uniform(rng, p["sweep_hours"]))
            if rng.random() < float(p["cash_prob"]):
                parts = np.round(np.full(2, swept / 2), 2)
                txns.add(scenario_id=sid, ts=world.hours_to_ts(t + np.array([0.0, 0.2])), amount=parts,
                         channel="atm", payer_account=acct, city=c.name, region=c.region, atm_owner_type="bank",
                         branch_id=world.branch(rng, city, 2))
            else:
                txns.add(scenario_id=sid, ts=world.hours_to_ts(t), amount=swept, channel="p2p",
                         payer_account=acct, beneficiary_account=boss)
            # The rest goes on snacks in the days after (never more than is left: no overdraft).
            left = (wage - swept) * float(draw_uniform(rng, p["spent_of_rest"]))
            n = int(rng.integers(1, 4))
            shares = rng.dirichlet(np.ones(n)) * left
            snack = [_SNACKS[int(j)] for j in rng.integers(0, len(_SNACKS), n)]
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t + 6 + np.sort(rng.uniform(0, 24 * 10, n))),
                     amount=np.maximum(np.round(shares, 2), 0.01), channel="card", payer_account=acct,
                     beneficiary_account=[f"M-WAGE-{s[1].split()[0]}-{c.code}" for s in snack],
                     mcc=[s[0] for s in snack], counterparty_name=[s[1] for s in snack], city=c.name,
                     region=c.region)

    def _tenant(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                p: Mapping[str, Any]) -> None:
        """Monthly salary, rent the next day, groceries weekly and utilities monthly."""
        c = world.cities[city]
        days = self._paydays(world, rng, 30)
        salary = round(float(draw_uniform(rng, p["lookalike_salary"])), 2)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(days * 24 + 4), amount=salary, channel="ach",
                 payer_account="X-EMP-METRO", beneficiary_account=acct, counterparty_name="METRO LOGISTICS",
                 memo="PAYROLL METRO LOGISTICS")
        rent = round(salary * float(draw_uniform(rng, p["lookalike_rent_share"])), 2)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(days * 24 + 4 + rng.uniform(6, 30, days.size)), amount=rent,
                 channel="transfer", payer_account=acct, beneficiary_account=f"X-LANDLORD-{acct}",
                 counterparty_name="OAK STREET APARTMENTS", memo="RENT")
        weeks = np.arange(float(rng.integers(0, 7)), world.days, 7)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(weeks * 24 + 17), amount=np.round(
            rng.uniform(60, 140, weeks.size), 2), channel="card", payer_account=acct,
            beneficiary_account=f"M-WAGE-GROCER-{c.code}", mcc="5411", counterparty_name="FRESH FOODS",
            city=c.name, region=c.region)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(days * 24 + 40), amount=np.round(
            rng.uniform(80, 150, days.size), 2), channel="card", payer_account=acct,
            beneficiary_account=f"M-WAGE-POWER-{c.code}", mcc="4900", counterparty_name="CITY POWER & WATER",
            city=c.name, region=c.region)

    def _saver(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, savings: str,
               city: int, p: Mapping[str, Any]) -> None:
        """Fortnightly pay, most of it moved to the holder's own savings account the next day."""
        c = world.cities[city]
        days = self._paydays(world, rng, 14)
        wage = round(float(draw_uniform(rng, p["wage"])), 2)
        hours = days * 24 + 4
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=wage, channel="ach",
                 payer_account="X-EMP-HOSPITAL", beneficiary_account=acct, counterparty_name="ST MARY HOSPITAL",
                 memo="PAYROLL ST MARY HOSPITAL")
        saved = np.round(wage * draw_uniform(rng, p["lookalike_saving_fraction"], days.size), 2)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours + rng.uniform(4, 30, days.size)), amount=saved,
                 channel="transfer", payer_account=acct, beneficiary_account=savings, memo="to savings")
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours + 60), amount=np.round(
            rng.uniform(40, 90, days.size), 2), channel="card", payer_account=acct,
            beneficiary_account=f"M-WAGE-GROCER-{c.code}", mcc="5411", counterparty_name="FRESH FOODS",
            city=c.name, region=c.region)
