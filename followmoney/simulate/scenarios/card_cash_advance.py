"""Credit card as a cash pipe: paid off from several other banks, drawn down at ATMs the same day.

Reference detectors the plant is checked against (the defaults of PAY08 and FLW01):

* card payments then cash advances: within 30 days ending at a cash advance, payments to a
  credit card from >= 2 distinct external payer institutions, and cash advances >= 50 % of the
  payments;
* pass-through: >= 3 credits of >= 500 moved out at >= 90 % within 48 h within 30 days (decisive).

True instances (role ``mule``, expected alert): one credit-card account per instance (parties
``account_type`` = credit_card) that within a month receives ``payments`` payments of
``payment_amount`` from accounts at ``banks`` other banks (the payment's counterparty names the
paying bank's bill-payment service) and, ``advance_hours`` after each, ``advance_fraction`` of it
is drawn in cash advances at ATMs.

Look-alikes (role ``look_alike``, no alert):

* ``card_cash_advance-lookalike-a-*``: an ordinary card, paid monthly from the holder's accounts
  at two banks, used for purchases and, every other month, one small cash advance
  (``lookalike_advance_fraction`` of the last bill paid, under half);
* ``card_cash_advance-lookalike-b-*``: a card paid from one bank only and drawn heavily in cash
  advances (``lookalike_heavy_fraction`` of each payment, days later): one payer institution is
  one fewer than the rule needs.
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

_BANKS = ("FIRST RIVER BANK BILLPAY", "LAKESIDE CREDIT UNION EPAY", "PRAIRIE STATE BANK ONLINE PMT",
          "COASTAL SAVINGS BILL PAY", "UNITED MUTUAL BANK TRANSFER")


class CardCashAdvance(Scenario):
    """A credit card paid from several banks and emptied again by cash advances."""

    name = "card_cash_advance"
    typology = "laundering_of_proceeds"
    plants = {"mule": ("PAY08",)}
    description = "4-6 payments from 2-4 other banks into a credit card within a month, each drawn in cash within hours."

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` card mules and ``lookalike_ratio`` look-alikes of each kind."""
        p = self.params
        if self.too_short(world, 40):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        kinds = (("", "M", "mule", n_instances), ("lookalike-a-", "LA", "look_alike", n_look),
                 ("lookalike-b-", "LB", "look_alike", n_look))
        for prefix, code, role, count in kinds:
            for i in range(count):
                sid, acct = f"card_cash_advance-{prefix}{i + 1:04d}", f"S-CARD-{code}{i + 1:04d}"
                city = int(world.pick_cities(rng, 1)[0])
                parties.append(world.make_parties(rng, [acct], [city], occupation=("self-employed", "waitress"),
                                                  declared_income=p["declared_income"], account_type="credit_card"))
                labels.add(acct, sid, role, role == "mule")
                start = float(np.floor(rng.uniform(1, world.days - 35)))
                if prefix == "":
                    banks = list(rng.choice(_BANKS, draw_int(rng, p["banks"]), replace=False))
                    self._cycles(world, rng, txns, sid, acct, city, start, draw_int(rng, p["payments"]), banks,
                                 p["payment_amount"], p["advance_fraction"], p["advance_hours"])
                elif prefix == "lookalike-a-":
                    self._ordinary(world, rng, txns, sid, acct, city, p)
                else:
                    self._cycles(world, rng, txns, sid, acct, city, start, draw_int(rng, p["payments"]),
                                 [str(rng.choice(_BANKS))], p["payment_amount"], p["lookalike_heavy_fraction"],
                                 p["lookalike_heavy_hours"])
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    @staticmethod
    def _cycles(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                start: float, n: int, banks: list[str], amount: Any, fraction: Any, delay: Any) -> None:
        """``n`` payments over four weeks, rotating through ``banks``, each followed by cash advances."""
        c = world.cities[city]
        days = start + np.sort(rng.choice(np.arange(28), n, replace=False)).astype(float)
        for k, day in enumerate(days):
            bank = banks[k % len(banks)]
            paid = round(float(draw_uniform(rng, amount)), 2)
            t = day * 24 + float(rng.uniform(8, 12))
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t), amount=paid, channel="ach",
                     payer_account=f"X-CARDPAY-{bank.split()[0]}-{acct}", beneficiary_account=acct,
                     counterparty_name=bank, memo="PAYMENT THANK YOU")
            cash = paid * float(draw_uniform(rng, fraction))
            parts = np.round(np.full(2, cash / 2), 2)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t + float(draw_uniform(rng, delay)) + np.array([0.0, 0.1])),
                     amount=parts, channel="atm", payer_account=acct, city=c.name, region=c.region,
                     atm_owner_type="bank", branch_id=world.branch(rng, city, 2))

    @staticmethod
    def _ordinary(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
                  p: Mapping[str, Any]) -> None:
        """Monthly purchases paid off from two banks, and one small cash advance a month."""
        c = world.cities[city]
        banks = list(rng.choice(_BANKS, 2, replace=False))
        paid_before = 0.0
        for m, month in enumerate(range(0, world.days - 30, 30)):
            n = int(rng.integers(6, 15))
            amounts = np.round(rng.uniform(15, 120, n), 2)
            txns.add(scenario_id=sid, ts=world.hours_to_ts((month + np.sort(rng.uniform(0, 28, n))) * 24 + 12),
                     amount=amounts, channel="card", payer_account=acct, beneficiary_account=f"M-CARD-SHOP-{c.code}",
                     mcc="5311", counterparty_name="VALUE DEPARTMENT STORE", city=c.name, region=c.region)
            # Every other month, mid-month, a small cash advance: a share of the last bill paid.
            if m % 2 == 1:
                advance = round(paid_before * float(draw_uniform(rng, p["lookalike_advance_fraction"])), 2)
                txns.add(scenario_id=sid, ts=world.hours_to_ts((month + 14) * 24 + 12), amount=advance,
                         channel="atm", payer_account=acct, city=c.name, region=c.region, atm_owner_type="bank",
                         branch_id=world.branch(rng, city, 1))
            total = float(amounts.sum())
            split = float(rng.uniform(0.4, 0.6))
            pay_t = (month + 29) * 24 + np.array([9.0, 10.0])
            txns.add(scenario_id=sid, ts=world.hours_to_ts(pay_t), amount=np.round([total * split, total * (1 - split)], 2),
                     channel="ach", payer_account=[f"X-CARDPAY-{b.split()[0]}-{acct}" for b in banks],
                     beneficiary_account=acct, counterparty_name=banks, memo="PAYMENT THANK YOU")
            paid_before = total
