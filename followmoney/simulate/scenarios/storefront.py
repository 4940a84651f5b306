"""Storefront exploitation: a venue business without payroll and the worker it holds in debt.

The illicit-storefront model (FINTRAC 2021) runs a nail salon or massage parlour as a front: cash
takings far above what comparable salons take, with no wages paid, card sales at night although
the salon declares day hours, food delivered for the workers who live on site, several phone
lines, and e-transfers from clients that name the booking. Its foreign workers repay recruitment
debts, keep in touch with an incarcerated recruiter and send money home. Each flag alone is ordinary; the
planted accounts combine three families or more.

True instances (expected alert), per instance:

* the front (role ``front_business``): a nail salon declared open 09-19, each in its own city,
  with ``takings_per_day`` cash deposits of the day's takings (together well above the monthly cash
  of the other salons, almost all of its income in cash) and no payroll outflow, and about
  ``card_sales_per_day`` card sales a day of which a share ``night_share`` falls between 22:00 and
  03:00 (front business), ``delivery_days`` days with 3 food-delivery orders and
  ``telecom_providers`` phone providers within a month (running costs), and ``escort_memos``
  client e-transfers with booking terms (external lists);
* the worker (role ``victim``): ``debt_payments`` debt or recruitment-fee payments (labour),
  ``jail_calls`` inmate-call payments (running costs) and ``remittances`` wires without memo to
  THB-risk countries (movement).

Look-alikes (role ``look_alike``, no alert), one family each and one step short of a second:

* ``storefront-lookalike-a-*``: a genuine salon that takes cash once a day and cards within its
  declared hours, pays its payroll monthly, pays three phone providers (running costs fire) and
  orders food three times a day on one day fewer than the rule;
* ``storefront-lookalike-b-*``: a relative of an inmate who pays the call service (running costs
  fire) and one visa fee (one payment short of the labour rule).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from followmoney.simulate.core import World
from followmoney.simulate.scenario import LabelBuilder, Scenario, ScenarioOutput, TxnBuilder, concat_parties

_DELIVERY = ("DOORDASH*ORDER", "UBER EATS", "GRUBHUB")
_TELECOM = ("BOOST MOBILE TOPUP", "CRICKET WIRELESS", "TRACFONE PREPAID", "MINT MOBILE")
_ESCORT_MEMOS = ("1hr incall", "outcall thx", "gfe 30min", "incall booking")
_RISK_COUNTRIES = ("MD", "UA", "VN", "TH", "PH")


class Storefront(Scenario):
    """A front business without payroll, and its indebted worker."""

    name = "storefront"
    typology = "labour_exploitation"
    plants = {"front_business": ("BUS01", "BUS02", "BUS03", "CSH04", "EXT02", "RUN04", "RUN06"),
              "victim": ("GEO05", "LAB01", "RUN07")}
    description = ("Venue business with outsized cash takings, night card sales and no payroll, food delivery, "
                   "several phone lines and booking e-transfers; its worker repays debts, pays an inmate-call service and sends money home.")

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` front/worker pairs and ``lookalike_ratio`` look-alikes of each kind."""
        p = self.params
        if self.too_short(world, 100):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []

        # One front per city while cities last: fronts of one network in one town would be each
        # other's peers, and a real portfolio holds few fronts among many genuine salons.
        n_cities = len(world.cities)
        front_cities = np.concatenate([rng.choice(n_cities, n_cities, replace=False, p=world.city_weights)
                                       for _ in range(n_instances // n_cities + 1)])[:n_instances]
        for i in range(n_instances):
            sid = f"storefront-{i + 1:04d}"
            front, worker = f"S-STORE-{i + 1:04d}-B", f"S-STORE-{i + 1:04d}-W"
            city = int(front_cities[i])
            front_party = world.make_parties(rng, [front], [city], account_type="business",
                                             business_type="nail salon", business_hours="09-19",
                                             occupation=("business owner",), declared_income=(90000, 160000))
            parties.append(front_party)
            # The worker lives on site (FINTRAC 2021): the salon's address is hers too, the one trace
            # that ties the two accounts, since she is paid in cash.
            parties.append(world.make_parties(rng, [worker], [city], age=(19, 30), occupation=("therapist",),
                                              declared_income=(14000, 20000),
                                              addresses=[front_party["address"][0].as_py()]))
            labels.add(front, sid, "front_business", True)
            labels.add(worker, sid, "victim", True)
            self._takings(world, rng, txns, sid, front, city, p, int(rng.integers(*p["takings_per_day"], endpoint=True)))
            self._card_sales(world, rng, txns, sid, front, p, float(rng.uniform(*map(float, p["night_share"]))))
            start = float(np.floor(rng.uniform(20, 45)))  # inside the first 90-day payroll period
            self._delivery(world, rng, txns, sid, front, city, start, int(p["delivery_days"]))
            self._telecom(world, rng, txns, sid, front, city, start, int(p["telecom_providers"]))
            n = int(p["escort_memos"])
            hours = (start + 3 + 5 * np.arange(n)) * 24 + rng.uniform(18, 23, n)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=np.round(rng.uniform(120, 300, n)),
                     channel="p2p", payer_account=[f"{front}-CLIENT{k + 1}" for k in range(n)],
                     beneficiary_account=front, memo=[_ESCORT_MEMOS[k % len(_ESCORT_MEMOS)] for k in range(n)])
            # The worker: cash pay-outs in, debt payments, inmate calls and wires home out.
            weeks = np.arange(2, world.days // 7 - 1)
            txns.add(scenario_id=sid, ts=world.hours_to_ts((weeks * 7 + 1) * 24 + 11.0),
                     amount=np.round(rng.uniform(350, 500, weeks.size)), channel="cash", beneficiary_account=worker,
                     city=world.cities[city].name, region=world.cities[city].region,
                     branch_id=world.branch(rng, city, weeks.size))
            self._debts(world, rng, txns, sid, worker, start, int(p["debt_payments"]), "debt repayment")
            self._calls(world, rng, txns, sid, worker, city, start, int(p["jail_calls"]))
            n = int(p["remittances"])
            hours = (start + 4 + 8 * np.arange(n)) * 24 + rng.uniform(10, 16, n)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=np.round(rng.uniform(200, 450, n)),
                     channel="wire", payer_account=worker, beneficiary_account=[f"{worker}-X{k + 1}" for k in range(n)],
                     beneficiary_country=[str(rng.choice(_RISK_COUNTRIES)) for _ in range(n)])
            spenders += [(front, city, sid), (worker, city, sid)]

        for i in range(n_look):
            sid, acct = f"storefront-lookalike-a-{i + 1:04d}", f"S-STORE-LA{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [city], account_type="business", business_type="salon",
                                              business_hours="09-19", occupation=("business owner",),
                                              declared_income=(90000, 160000)))
            labels.add(acct, sid, "look_alike", False)
            self._takings(world, rng, txns, sid, acct, city, p, 1)
            self._card_sales(world, rng, txns, sid, acct, p, 0.0)
            months = np.arange(1, world.days // 30 + 1)
            txns.add(scenario_id=sid, ts=world.hours_to_ts((months * 30 - 1) * 24 + 9.0),
                     amount=np.round(rng.uniform(4000, 6000, months.size)), channel="ach", payer_account=acct,
                     beneficiary_account="X-STORE-PAYROLL", counterparty_name="PAYCHEX", memo="PAYROLL RUN")
            start = float(np.floor(rng.uniform(20, 45)))  # inside the first 90-day payroll period
            self._delivery(world, rng, txns, sid, acct, city, start, int(p["delivery_days"]) - 1)
            self._telecom(world, rng, txns, sid, acct, city, start, int(p["telecom_providers"]))
            spenders.append((acct, city, sid))

            sid, acct = f"storefront-lookalike-b-{i + 1:04d}", f"S-STORE-LB{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [city], occupation=("cashier", "cook"),
                                              declared_income=(25000, 40000)))
            labels.add(acct, sid, "look_alike", False)
            start = float(np.floor(rng.uniform(10, world.days - 35)))
            self._calls(world, rng, txns, sid, acct, city, start, int(p["jail_calls"]))
            self._debts(world, rng, txns, sid, acct, start, int(p["debt_payments"]) - 2, "visa fee")
            spenders.append((acct, city, sid))

        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, accts, cities, sids, float(p["everyday_daily_prob"]),
                                               float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    @staticmethod
    def _takings(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                 p: dict[str, Any], per_day: int) -> None:
        """``per_day`` cash deposits of the day's takings (each under 500) on most days of the period."""
        days = np.repeat(np.flatnonzero(rng.random(world.days) < 0.85), per_day)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(days * 24 + rng.uniform(12, 20, days.size)),
                 amount=np.round(rng.uniform(*map(float, p["daily_takings"]), days.size)), channel="cash",
                 beneficiary_account=acct, city=world.cities[city].name, region=world.cities[city].region,
                 branch_id=world.branch(rng, city, days.size))

    @staticmethod
    def _card_sales(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str,
                    p: dict[str, Any], night_share: float) -> None:
        """Card sales to clients: a share ``night_share`` between 22:00 and 03:00, the rest 10:00-18:00.

        Each sale is a card credit from a client's card (transaction-level acquiring), not the
        nightly ACH settlement of the background businesses.
        """
        n = int(rng.poisson(float(p["card_sales_per_day"]) * world.days))
        day = rng.integers(0, world.days, n)
        night = rng.random(n) < night_share
        hour = np.where(night, 22 + rng.uniform(0, 5, n), rng.uniform(10, 18, n))
        txns.add(scenario_id=sid, ts=world.hours_to_ts(day * 24 + hour),
                 amount=np.round(rng.uniform(*map(float, p["card_sale_amount"]), n)), channel="card",
                 payer_account=[f"X-CARD-{int(k):06d}" for k in rng.integers(0, 10**6, n)], beneficiary_account=acct)

    @staticmethod
    def _delivery(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                  start: float, n_days: int) -> None:
        """Three food-delivery orders (12:00, 16:00, 20:00) on ``n_days`` days, four days apart."""
        day = start + 4 * np.repeat(np.arange(n_days), 3)
        hours = day * 24 + np.tile([12.0, 16.0, 20.0], n_days) + rng.uniform(0, 1, day.size)
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=np.round(rng.uniform(25, 70, day.size), 2),
                 channel="card", payer_account=acct, beneficiary_account="M-STORE-DELIVERY",
                 counterparty_name=[_DELIVERY[k % len(_DELIVERY)] for k in range(day.size)], mcc="5814",
                 city=world.cities[city].name, region=world.cities[city].region)

    @staticmethod
    def _telecom(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                  start: float, n: int) -> None:
        """One payment to each of ``n`` phone providers, a week apart."""
        hours = (start + 7 * np.arange(n)) * 24 + 10.0
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=np.round(rng.uniform(30, 60, n)),
                 channel="card", payer_account=acct, beneficiary_account=[f"M-STORE-TEL{k}" for k in range(n)],
                 counterparty_name=list(_TELECOM[:n]), mcc="4814", city=world.cities[city].name,
                 region=world.cities[city].region)

    @staticmethod
    def _debts(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, start: float,
               n: int, memo: str) -> None:
        """``n`` fee or debt payments to a recruiter, two weeks apart."""
        if n <= 0:
            return
        hours = (start - 20 + 14 * np.arange(n)) * 24 + 12.0
        txns.add(scenario_id=sid, ts=world.hours_to_ts(np.maximum(hours, 1.0)),
                 amount=np.round(rng.uniform(200, 400, n)), channel="p2p", payer_account=acct,
                 beneficiary_account=f"{acct}-RECRUITER", memo=memo)

    @staticmethod
    def _calls(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                  start: float, n: int) -> None:
        """``n`` inmate-call payments, ten days apart."""
        hours = (start + 10 * np.arange(n)) * 24 + 19.0
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=np.round(rng.uniform(15, 40, n)),
                 channel="card", payer_account=acct, beneficiary_account="M-STORE-INMATE",
                 counterparty_name="SECURUS TECHNOLOGIES", mcc="7399",  # business services: no merchant group
                 city=world.cities[city].name, region=world.cities[city].region)
