"""Labour pool: several workers' wages paid into one account and swept to a controller who collects fees.

Detector shapes it is planted against (without importing them):

* pooled salary: payroll credits (memo ``PAYROLL <employer>``) from >= 3 distinct employers within
  30 days into one account;
* many devices: the account's online payments come from >= 3 devices within 30 days;
* fee collection: >= 3 distinct people pay one account with a fee, visa or debt memo within 90 days;
* rapid pass-through: >= 3 inflows (>= 500) within 30 days each followed within 48 h by outflows of
  >= 90 % of it. The pool and the controller alert through this one.

True instances: 3-4 employers that placed a group of workers pay their wages (1,200-2,200 every two
weeks each, on different days) into one pool account (role ``victim``), which is emptied 4-30 h
after every pay day by e-transfers to the controller (role ``controller``), initiated in turn from
the controller's phone and the workers' phones. The controller wires 92-99 % of every sweep to a
THB-risk country within 2-30 h, and collects "recruitment fees" and "debt repayments" from 3-5
workers (role ``victim``, not expected to alert: a few fee payments are a weak flag alone). The
controller also pays the monthly rent of the house the workers share (workers' housing paid by the
employer side, recovered through the fees).

Look-alikes (role ``look_alike``, must not alert):

* ``labour_pool-lookalike-twojobs-*``: a person with two jobs, both payrolls into their own
  account, spent on rent and everyday life (two employers, no sweep);
* ``labour_pool-lookalike-sharedphone-*``: a person whose online payments come from their own
  phone and, now and then, a partner's (two devices).
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

_EMPLOYERS = ("HARVEST FRESH PACKING", "SUNRISE FARMS", "METRO CLEANING CO", "GRAND PLAZA HOTEL",
              "EASTSIDE CONSTRUCTION", "BAYVIEW LAUNDRY", "PRIME LOGISTICS")
_FEE_MEMOS = ("recruitment fee", "visa fee", "debt repayment", "travel advance", "placement fee")


class LabourPool(Scenario):
    """Wages of several workers pooled in one account, swept to a controller who also collects fees."""

    name = "labour_pool"
    typology = "labour_exploitation"
    description = ("3-4 employers pay wages into one pool account that is swept within hours to a controller, "
                   "from several phones; the controller wires the money abroad and collects workers' fees.")
    plants = {"victim": ("FLW01", "NET08", "NET09"), "controller": ("FLW01", "LAB02")}

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` pools with their controller and workers, and the look-alikes."""
        p = self.params
        if self.too_short(world, 60):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []
        for i in range(n_instances):
            sid, base = f"labour_pool-{i + 1:04d}", f"S-POOL-{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            pool, ctrl = f"{base}-P", f"{base}-C"
            workers = [f"{base}-W{j + 1}" for j in range(draw_int(rng, p["workers"]))]
            parties.append(world.make_parties(rng, [pool, ctrl] + workers, [city] * (2 + len(workers)),
                                              occupation=("farm worker", "cleaner", "labourer"),
                                              declared_income=(18000, 30000)))
            labels.add(pool, sid, "victim", True)
            labels.add(ctrl, sid, "controller", True)
            for w in workers:
                labels.add(w, sid, "victim", False)
            spenders += [(pool, city, sid), (ctrl, city, sid)] + [(w, city, sid) for w in workers]
            # Each phone travels with its home IP, as in the background.
            c = world.cities[city]
            devices = [(f"D-{int(rng.integers(0, 1 << 48)):012x}",
                        f"{c.ip_prefix}.{int(rng.integers(1, 255))}.{int(rng.integers(1, 255))}")
                       for _ in range(1 + len(workers))]
            employers = list(rng.choice(_EMPLOYERS, draw_int(rng, p["employers"]), replace=False))
            self._pool(world, rng, txns, sid, base, pool, ctrl, employers, devices)
            self._fees(world, rng, txns, sid, ctrl, workers, city)
            self._housing(world, rng, txns, sid, base, ctrl, len(workers))
        for i in range(n_look):
            self._two_jobs(world, rng, txns, labels, parties, spenders, i)
            self._shared_phone(world, rng, txns, labels, parties, spenders, i)
        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, list(accts), list(cities), list(sids),
                                               float(p["everyday_daily_prob"]), float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    def _payroll(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, base: str, acct: str,
                 employer: str, first_day: float) -> list[tuple[float, float]]:
        """Biweekly payroll from one employer into `acct`; returns (hour, amount) of every pay day."""
        p = self.params
        code = employer.split()[0][:4]
        pays = []
        for day in np.arange(first_day, world.days - 2, 14.0):
            t = float(day) * 24 + 6.0
            amount = round(float(draw_uniform(rng, p["wage"])), 2)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t), amount=amount, channel="ach",
                     payer_account=f"{base}-E{code}", beneficiary_account=acct, counterparty_name=employer,
                     memo=f"PAYROLL {employer}")
            pays.append((t, amount))
        return pays

    def _pool(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, base: str, pool: str,
              ctrl: str, employers: list[str], devices: list[tuple[str, str]]) -> None:
        """Wages of every employer into the pool, each swept to the controller and wired abroad."""
        p = self.params
        # Employers pay on different weekdays of the fortnight, so pay days spread over it.
        offsets = rng.permutation(np.arange(0, 14, 14 / len(employers)))[: len(employers)]
        pays = sorted(pay for e, off in zip(employers, offsets, strict=True)
                      for pay in self._payroll(world, rng, txns, sid, base, pool, e, float(off)))
        country = str(rng.choice(["GT", "HN", "PH", "NG"]))
        for k, (t, amount) in enumerate(pays):
            t_sweep = t + float(draw_uniform(rng, p["sweep_hours"]))
            if t_sweep >= world.days * 24 - 2:
                continue
            swept = round(amount * float(draw_uniform(rng, p["sweep_fraction"])), 2)
            # The phones take turns: the controller's and the workers' (whoever holds the card details).
            device, ip = devices[k % len(devices)]
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t_sweep), amount=swept, channel="p2p",
                     payer_account=pool, beneficiary_account=ctrl, device_id=device, ip=ip)
            t_wire = t_sweep + float(draw_uniform(rng, p["wire_hours"]))
            if t_wire < world.days * 24:
                txns.add(scenario_id=sid, ts=world.hours_to_ts(t_wire),
                         amount=round(swept * float(draw_uniform(rng, p["wire_fraction"])), 2), channel="wire",
                         payer_account=ctrl, beneficiary_account=f"{base}-X", payer_country="US",
                         beneficiary_country=country)

    def _housing(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, base: str, ctrl: str,
                 n_workers: int) -> None:
        """The controller rents the house the workers live in (and recovers it through their 'fees')."""
        p = self.params
        lo, hi = p["housing_rent"]
        rent = round(float(rng.uniform(float(lo), float(hi))) * n_workers, 2)
        days = np.arange(float(draw_int(rng, p["rent_day"])), world.days, 30.0)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(days * 24 + rng.uniform(8, 12, len(days))), amount=rent,
                 channel="transfer", payer_account=ctrl, beneficiary_account=f"{base}-LANDLORD",
                 counterparty_name="OAKWOOD PROPERTY MGMT", memo=f"RENT WORKERS HOUSE {base[-4:]}")

    def _fees(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, ctrl: str,
              workers: list[str], city: int) -> None:
        """Each worker pays the controller fees and debt instalments, from cash they are left with."""
        p = self.params
        for w in workers:
            n = draw_int(rng, p["fee_payments"])
            days = np.sort(rng.uniform(5, min(world.days - 1, 85), n))
            amounts = np.round(draw_uniform(rng, p["fee_amount"], n), -1)
            c = world.cities[city]
            txns.add(scenario_id=sid, ts=world.hours_to_ts(days * 24 - 2), amount=amounts, channel="cash",
                     beneficiary_account=w, city=c.name, region=c.region, branch_id=world.branch(rng, city, n))
            txns.add(scenario_id=sid, ts=world.hours_to_ts(days * 24 + 19), amount=amounts, channel="p2p",
                     payer_account=w, beneficiary_account=ctrl, memo=list(rng.choice(_FEE_MEMOS, n)))

    def _two_jobs(self, world: World, rng: np.random.Generator, txns: TxnBuilder, labels: LabelBuilder,
                  parties: list, spenders: list, i: int) -> None:
        """Two jobs, two payrolls into one's own account, rent paid monthly."""
        sid, acct = f"labour_pool-lookalike-twojobs-{i + 1:04d}", f"S-POOL-LJ{i + 1:04d}"
        city = int(world.pick_cities(rng, 1)[0])
        parties.append(world.make_parties(rng, [acct], [city], occupation=("cleaner", "waiter"),
                                          declared_income=(35000, 50000)))
        labels.add(acct, sid, "look_alike", False)
        spenders.append((acct, city, sid))
        for j, employer in enumerate(rng.choice(_EMPLOYERS, 2, replace=False)):
            self._payroll(world, rng, txns, sid, f"{acct}-J{j}", acct, str(employer), float(rng.uniform(0, 13)))
        for day in range(2, world.days, 30):
            rent = round(float(rng.uniform(900, 1300)), 2)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + 10.0), amount=rent,
                     channel="transfer", payer_account=acct, beneficiary_account=f"{acct}-LL", memo="rent")

    def _shared_phone(self, world: World, rng: np.random.Generator, txns: TxnBuilder, labels: LabelBuilder,
                      parties: list, spenders: list, i: int) -> None:
        """Online payments from one's own phone and now and then a partner's: two devices."""
        sid, acct = f"labour_pool-lookalike-sharedphone-{i + 1:04d}", f"S-POOL-LS{i + 1:04d}"
        city = int(world.pick_cities(rng, 1)[0])
        parties.append(world.make_parties(rng, [acct], [city], occupation=("nurse", "teacher"),
                                          declared_income=(40000, 60000)))
        labels.add(acct, sid, "look_alike", False)
        spenders.append((acct, city, sid))
        own, partner = (f"D-{int(rng.integers(0, 1 << 48)):012x}" for _ in range(2))
        home_ip = f"{world.cities[city].ip_prefix}.{int(rng.integers(1, 255))}.{int(rng.integers(1, 255))}"
        days = np.sort(rng.uniform(0, world.days - 1, 24))
        used = [partner if rng.random() < 0.25 else own for _ in days]
        txns.add(scenario_id=sid, ts=world.hours_to_ts(days * 24 + 20), amount=np.round(rng.uniform(20, 150, 24), 2),
                 channel="p2p", payer_account=acct, beneficiary_account=[f"{acct}-F{k % 5}" for k in range(24)],
                 device_id=used, ip=home_ip)
