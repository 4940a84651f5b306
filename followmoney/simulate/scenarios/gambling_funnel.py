"""A collection account that launders clients' e-transfers through an online casino.

FINTRAC (2021) reports online-casino purchases funded by e-transfers from several people,
clustered late in the evening and early in the morning, and casino accounts with money moving in
and out but little play; the collection account also takes booking e-transfers that name the
service and withdraws cash at non-bank ATMs (casinos, hotels, convenience stores).

True instances (role ``mule``, expected alert), one personal account each, with a low declared
income:

* ``fanins`` evenings on which ``clients_per_fanin`` clients send e-transfers and, within hours,
  the account deposits most of it at an online casino (payment instruments), and
  ``cashouts`` deposits withdrawn again from the casino within days at ``cashout_fraction``
  (payment instruments);
* ``escort_memos`` of those e-transfers name the booking (external lists);
* ``atm_withdrawals`` withdrawals at white-label ATMs within a month (cash).

Look-alikes (role ``look_alike``, no alert): ``gambling_funnel-lookalike-a-*``, a casual online
gambler on a salary who deposits after friends pay back a shared bill (two friends: one short of
three) and wins back less than the rule's share (``lookalike_cashout_fraction``).

Amounts and counts come from ``defaults.yml`` ``scenarios.gambling_funnel.params``.
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

_CASINOS = ("LUCKY SPIN CASINO", "ROYAL ACE CASINO")
_ESCORT_MEMOS = ("incall 1hr", "outcall booking", "gfe 2h", "incall thanks")
_FRIEND_MEMOS = ("pizza", "tickets", "dinner split")


class GamblingFunnel(Scenario):
    """Clients' e-transfers funnelled into an online casino and cashed out at non-bank ATMs."""

    name = "gambling_funnel"
    typology = "sexual_exploitation"
    plants = {"mule": ("CSH03", "EXT02", "PAY07")}
    description = ("Evening e-transfers from several clients deposited at an online casino within hours, casino "
                   "deposits withdrawn again within days, booking memos and non-bank ATM withdrawals.")

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` collection accounts and ``lookalike_ratio`` casual gamblers."""
        p = self.params
        if self.too_short(world, 60):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []

        for i in range(n_instances):
            sid, acct = f"gambling_funnel-{i + 1:04d}", f"S-GAMBLE-{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [city], age=(19, 30), occupation=("student", "dancer"),
                                              declared_income=p["declared_income"]))
            labels.add(acct, sid, "mule", True)
            start = float(np.floor(rng.uniform(5, world.days - 40)))
            casino = str(rng.choice(_CASINOS))
            memos = int(p["escort_memos"])
            for k in range(draw_int(rng, p["fanins"])):
                day = start + 6 * k
                n = draw_int(rng, p["clients_per_fanin"])
                hours = day * 24 + 19 + np.sort(rng.uniform(0, 5, n))
                amounts = np.round(rng.uniform(*map(float, p["client_amount"]), n))
                memo = [(_ESCORT_MEMOS[(k + j) % len(_ESCORT_MEMOS)] if memos > 0 and j == 0 else None)
                        for j in range(n)]
                memos -= 1 if memos > 0 else 0
                txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=amounts, channel="p2p",
                         payer_account=[f"{acct}-CLIENT{int(c)}" for c in rng.integers(0, 10**5, n)],
                         beneficiary_account=acct, memo=memo)
                deposit = round(float(amounts.sum() * draw_uniform(rng, p["deposit_fraction"])), 2)
                dep_hours = float(hours[-1] + draw_uniform(rng, p["deposit_delay_hours"]))
                self._casino(world, txns, sid, acct, casino, dep_hours, deposit)
                if k < int(p["cashouts"]):
                    back = round(deposit * float(draw_uniform(rng, p["cashout_fraction"])), 2)
                    self._cashout(world, txns, sid, acct, casino, dep_hours + 24 * draw_uniform(rng, [1, 5]), back)
            n_atm = draw_int(rng, p["atm_withdrawals"])
            hours = (start + np.sort(rng.uniform(0, 25, n_atm))) * 24 + rng.uniform(0, 24, n_atm)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=20.0 * rng.integers(3, 11, n_atm),
                     channel="atm", payer_account=acct, atm_owner_type="white_label",
                     branch_id=[world.cities[city].white_label_atms[j] for j in
                                rng.integers(0, len(world.cities[city].white_label_atms), n_atm)],
                     city=world.cities[city].name, region=world.cities[city].region)
            spenders.append((acct, city, sid))

        for i in range(n_look):
            sid, acct = f"gambling_funnel-lookalike-a-{i + 1:04d}", f"S-GAMBLE-LA{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            parties.append(world.make_parties(rng, [acct], [city], occupation=("electrician", "teacher"),
                                              declared_income=p["lookalike_income"]))
            labels.add(acct, sid, "look_alike", False)
            start = float(np.floor(rng.uniform(5, world.days - 40)))
            casino = str(rng.choice(_CASINOS))
            for k in range(draw_int(rng, p["fanins"])):
                day = start + 9 * k
                hours = day * 24 + 19 + np.sort(rng.uniform(0, 4, 2))
                amounts = np.round(rng.uniform(15, 60, 2))
                txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=amounts, channel="p2p",
                         payer_account=[f"{acct}-FRIEND{j + 1}" for j in range(2)], beneficiary_account=acct,
                         memo=[str(rng.choice(_FRIEND_MEMOS)) for _ in range(2)])
                deposit = float(50 * rng.integers(1, 4))
                dep_hours = float(hours[-1] + draw_uniform(rng, p["deposit_delay_hours"]))
                self._casino(world, txns, sid, acct, casino, dep_hours, deposit)
                back = round(deposit * float(draw_uniform(rng, p["lookalike_cashout_fraction"])), 2)
                self._cashout(world, txns, sid, acct, casino, dep_hours + 24 * draw_uniform(rng, [1, 5]), back)
            spenders.append((acct, city, sid))

        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, accts, cities, sids, float(p["everyday_daily_prob"]),
                                               float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    @staticmethod
    def _casino(world: World, txns: TxnBuilder, sid: str, acct: str, casino: str, hours: float,
                amount: float) -> None:
        """One deposit at the online casino (MCC 7995)."""
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=amount, channel="card", payer_account=acct,
                 beneficiary_account=f"M-GAMBLE-{casino.split()[0]}", counterparty_name=casino, mcc="7995")

    @staticmethod
    def _cashout(world: World, txns: TxnBuilder, sid: str, acct: str, casino: str, hours: float,
                 amount: float) -> None:
        """A withdrawal from the casino back to the account."""
        if amount <= 0:
            return
        txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=amount, channel="transfer",
                 payer_account=f"M-GAMBLE-{casino.split()[0]}", beneficiary_account=acct,
                 counterparty_name=casino, memo="WITHDRAWAL")
