"""Pass-through: a controlled victim's account used as a mule.

Reference detector the plant is checked against: for each credit of 500 or
more, sum the account's debits in (t, t + 48 h]; the credit is an event when
that sum reaches 90 % of it; flag when 3 or more events fall within 30 days.

True instances: one controller (role ``controller``, not expected to alert:
it only accumulates) and 2-4 mules (role ``mule``, expected alert).  Each
mule has 1-3 bursts of 4-8 inflows of 1,000 or more within 28 days, p2p from
various "client" accounts at other banks or cash it deposits itself; 2-40 h
after each inflow it sends 92-100 % of it on, in one or two p2p/transfer
payments to the controller (often from the controller's own device) or by
one ATM withdrawal.  Mules otherwise barely use their accounts and are
sometimes registered at the controller's address.

Look-alikes (role ``look_alike``, no alert):

* ``pass_through-lookalike-a-*``: forwards only 55-80 % of each inflow within
  40 h (e.g. remittances to family); inflows are at least 3 days apart so
  no window sees two forwards;
* ``pass_through-lookalike-b-*``: forwards 95 %, but 60-100 h later, and the
  next inflow only arrives after that forward.
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
    schedule_episodes,
)

_REMIT_COUNTRIES = ("MX", "GT", "SV", "HN", "PH", "DO", "CO")




class PassThrough(Scenario):
    """Mule accounts that quickly forward almost every inflow to a controller."""

    name = "pass_through"
    typology = "sexual_exploitation"
    plants = {"mule": ("FLW01",)}
    description = ("Mules receive 4-8 inflows >= 1,000 per 30 days and forward 92-100 % of "
                   "each within 2-40 h to a controller or out of an ATM.")

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` controller+mules rings and the look-alikes."""
        p = self.params
        # Bursts must fit with two spare days for the last forwards.
        if self.too_short(world, float(p["burst_span_days"]) + 2):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spend: dict[str, list] = {"acct": [], "city": [], "sid": [], "prob": [], "max": []}

        def spender(acct: str, city: int, sid: str, prob: float, cap: float) -> None:
            for key, val in zip(spend, (acct, city, sid, prob, cap), strict=True):
                spend[key].append(val)

        for i in range(n_instances):
            sid, base = f"pass_through-{i + 1:04d}", f"S-PASSTHRU-{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            ctrl = f"{base}-C"
            ctrl_party = world.make_parties(rng, [ctrl], [city], age=(24, 50),
                                            occupation=("self-employed", "driver", "promoter"),
                                            declared_income=(25000, 60000))
            parties.append(ctrl_party)
            labels.add(ctrl, sid, "controller", False)
            spender(ctrl, city, sid, float(p["controller_daily_prob"]), float(p["controller_max_amount"]))
            ctrl_device = (self._device(rng), self._ip(world, rng, city))

            mules = [f"{base}-M{j + 1}" for j in range(draw_int(rng, p["mules_per_instance"]))]
            shared = rng.random(len(mules)) < float(p["shared_address_prob"])
            address = ctrl_party.column("address")[0].as_py()
            parties.append(world.make_parties(
                rng, mules, [city] * len(mules), age=p["mule_age"],
                occupation=("student", "unemployed", "hospitality worker", "model"),
                declared_income=(6000, 22000),
                addresses=[address if s else None for s in shared]))
            for mule in mules:
                labels.add(mule, sid, "mule", True)
                spender(mule, city, sid, float(p["mule_daily_prob"]), float(p["mule_max_amount"]))
                self._mule(world, rng, txns, sid, mule, ctrl, city, ctrl_device)

        for kind, code, cfg in (("a", "LA", p["lookalike_partial"]), ("b", "LB", p["lookalike_slow"])):
            for i in range(n_look):
                sid, acct = f"pass_through-lookalike-{kind}-{i + 1:04d}", f"S-PASSTHRU-{code}{i + 1:04d}"
                city = int(world.pick_cities(rng, 1)[0])
                parties.append(world.make_parties(
                    rng, [acct], [city], occupation=("cook", "driver", "cleaner", "freelancer"),
                    declared_income=(25000, 55000)))
                labels.add(acct, sid, "look_alike", False)
                spender(acct, city, sid, float(cfg["daily_prob"]), float(cfg["max_amount"]))
                self._lookalike(world, rng, txns, sid, acct, city, cfg, slow=kind == "b")

        # Everyday spending per group of identical settings, in a fixed order.
        for prob, cap in sorted(set(zip(spend["prob"], spend["max"], strict=True))):
            sel = [k for k, pc in enumerate(zip(spend["prob"], spend["max"], strict=True)) if pc == (prob, cap)]
            txns.add(**world.everyday_activity(
                rng, [spend["acct"][k] for k in sel], [spend["city"][k] for k in sel],
                [spend["sid"][k] for k in sel], prob, cap))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    @staticmethod
    def _device(rng: np.random.Generator) -> str:
        return f"D-{int(rng.integers(0, 1 << 48)):012x}"

    @staticmethod
    def _ip(world: World, rng: np.random.Generator, city: int) -> str:
        return f"{world.cities[city].ip_prefix}.{int(rng.integers(1, 255))}.{int(rng.integers(1, 255))}"

    def _mule(self, world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str,
              mule: str, ctrl: str, city: int, ctrl_device: tuple[str, str]) -> None:
        """Inflows and forwards of one mule."""
        p = self.params
        c = world.cities[city]
        own_device = (self._device(rng), self._ip(world, rng, city))
        payers = [f"{mule}-X{k + 1:02d}" for k in range(draw_int(rng, p["payers_per_mule"]))]
        span = float(p["burst_span_days"])
        # Leave two days at the end so that every forward falls in the period.
        starts = schedule_episodes(rng, world.days - 2, draw_int(rng, p["bursts"]), span,
                                   float(draw_uniform(rng, p["burst_gap_days"])))
        for start in starts:
            n = draw_int(rng, p["inflows_per_burst"])
            t_in = start * 24 + draw_uniform(rng, (0, span * 24), n)
            p2p = rng.random(n) < float(p["inflow_p2p_prob"])
            # Cash goes in over the counter, during branch hours.
            t_in = np.where(p2p, t_in, np.floor(t_in / 24) * 24 + draw_uniform(rng, (9, 17), n))
            amount = np.where(p2p, np.round(draw_uniform(rng, p["p2p_inflow_amount"], n), -1),
                              np.round(draw_uniform(rng, p["cash_inflow_amount"], n), -1))
            ts = world.hours_to_ts(t_in)
            if p2p.any():
                txns.add(scenario_id=sid, ts=ts[p2p], amount=amount[p2p], channel="p2p",
                         payer_account=rng.choice(payers, int(p2p.sum())), beneficiary_account=mule)
            if (~p2p).any():
                m = int((~p2p).sum())
                txns.add(scenario_id=sid, ts=ts[~p2p], amount=amount[~p2p], channel="cash",
                         beneficiary_account=mule, city=c.name, region=c.region,
                         branch_id=world.branch(rng, city, m))
            for t, a in zip(t_in, amount, strict=True):
                total = a * draw_uniform(rng, p["forward_fraction"])
                d = np.sort(draw_uniform(rng, p["forward_delay_hours"], 2))
                if rng.random() < float(p["atm_prob"]):
                    # ATMs pay multiples of 20: round up, but never above the inflow.
                    cash = np.ceil(total / 20) * 20
                    cash = cash - 20 if cash > a else cash
                    white = rng.random() < 0.5
                    atm = (c.white_label_atms[int(rng.integers(len(c.white_label_atms)))] if white
                           else world.branch(rng, city, 1)[0])
                    txns.add(scenario_id=sid, ts=world.hours_to_ts(t + d[0]), amount=cash,
                             channel="atm", payer_account=mule, city=c.name, region=c.region,
                             branch_id=atm, atm_owner_type="white_label" if white else "bank")
                    continue
                if rng.random() < float(p["two_outflows_prob"]):
                    share = rng.uniform(0.4, 0.6)
                    parts, delays = [total * share, total * (1 - share)], d
                else:
                    parts, delays = [total], d[:1]
                for part, delay in zip(parts, delays, strict=True):
                    device = ctrl_device if rng.random() < float(p["controller_device_prob"]) else own_device
                    txns.add(scenario_id=sid, ts=world.hours_to_ts(t + delay), amount=part,
                             channel=str(rng.choice(["p2p", "transfer"])), payer_account=mule,
                             beneficiary_account=ctrl, device_id=device[0], ip=device[1])

    @staticmethod
    def _lookalike(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str,
                   city: int, cfg: dict, slow: bool) -> None:
        """Inflows and (partial or slow) forwards of one look-alike account."""
        device = (PassThrough._device(rng), PassThrough._ip(world, rng, city))
        n = draw_int(rng, cfg["inflows"])
        payers = [f"{acct}-X{k + 1:02d}" for k in range(3)]
        family = f"{acct}-F1"
        country = str(rng.choice(_REMIT_COUNTRIES))
        end = world.days * 24
        t = draw_uniform(rng, (0, max(1.0, end / 3)))
        for _ in range(n):
            delay = draw_uniform(rng, cfg["forward_delay_hours"])
            if t + delay >= end:
                break
            amount = round(float(draw_uniform(rng, cfg["inflow_amount"])), -1)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t), amount=amount, channel="p2p",
                     payer_account=str(rng.choice(payers)), beneficiary_account=acct)
            total = amount * draw_uniform(rng, cfg["forward_fraction"])
            wire = bool(rng.random() < 0.5)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(t + delay), amount=total,
                     channel="wire" if wire else "p2p", payer_account=acct,
                     beneficiary_account=family, beneficiary_country=country if wire else "US",
                     memo="family support" if wire else None, device_id=device[0], ip=device[1])
            if slow:
                # The next inflow only arrives after this forward went out.
                t = t + delay + draw_uniform(rng, cfg["inflow_gap_hours"])
            else:
                # > 48 h apart, so a forward never lands in another inflow's window.
                t = t + draw_uniform(rng, cfg["inflow_gap_days"]) * 24
