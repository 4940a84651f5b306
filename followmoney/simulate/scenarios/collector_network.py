"""Collector network: victims' accounts collect clients' e-transfers and forward them to a controller.

The pattern FINTRAC's Project PROTECT describes: many clients pay small e-transfers, mostly at
night, into accounts of the people they "book"; those accounts pass most of it on within a day or
two to one controller (sometimes split with an aide). Detector shape it is planted against
(without importing it): >= 8 distinct senders within 30 days, >= 60 % of what came in forwarded to
at most 3 accounts within 72 h of the last credit.

True instances: one controller (role ``controller``, not expected to alert: it only receives from
a few accounts, and joins the cluster as their common beneficiary) and 2-4 collectors (role
``victim``, expected alert). Each collector is active for 40-90 days; its clients (10-20 new ones
per 30 days, external accounts) pay 120-400 each on about 60 % of nights; 70-95 % of each night's
takings goes to the controller 6-40 h later, often from the controller's device. The collectors'
accounts are registered with the controller's phone number (FinCEN 2020: a controller gives his
own contact details for his victims' accounts), so a phone is shared by three or more customers of
different surnames.

Look-alikes (role ``look_alike``, no alert), straddling the two thresholds from the other side:

* ``collector_network-lookalike-keeper-*``: a tutor or hairdresser paid by as many clients, who
  passes on only 15-45 % (rent to a landlord);
* ``collector_network-lookalike-few-*``: forwards 70-95 % to one person, but has only 4-6 distinct
  payers in the whole period (a family pooling money);
* ``collector_network-lookalike-family-*``: three members of one family (one surname, one address)
  who all gave the home landline: a shared phone that is not a network;
* ``collector_network-lookalike-students-*``: five students of different surnames who share a
  campus residence address (on the shipped list of legitimately shared identifiers).
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


def _with_phone(people: pa.Table, phone: str | None, surname: str | None = None,
                address: str | None = None) -> pa.Table:
    """`people` with every row's phone set to `phone` (and, when given, the surname and address)."""
    rows = people.to_pylist()
    for r in rows:
        r["phone"] = phone
        if surname and r["name"]:
            r["name"] = r["name"].rsplit(" ", 1)[0] + " " + surname
        if address:
            r["address"] = address
    return pa.Table.from_pylist(rows, schema=PARTY_SCHEMA)


class CollectorNetwork(Scenario):
    """Collectors forward most of many small client payments to one controller."""

    name = "collector_network"
    typology = "sexual_exploitation"
    plants = {"victim": ("NET01", "NET03", "NET13")}
    description = ("Collectors receive night-time e-transfers from 10-20 clients a month and forward "
                   "70-95 % within 6-40 h to a controller.")

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` controller+collectors rings and the look-alikes."""
        p = self.params
        if self.too_short(world, float(p["active_days"][1]) + 3):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []
        for i in range(n_instances):
            sid, base = f"collector_network-{i + 1:04d}", f"S-COLLECT-{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            ctrl = f"{base}-C"
            ctrl_party = world.make_parties(rng, [ctrl], [city], age=(25, 50),
                                            occupation=("self-employed", "driver", "unemployed"),
                                            declared_income=(15000, 35000))
            parties.append(ctrl_party)
            labels.add(ctrl, sid, "controller", False)
            spenders.append((ctrl, city, sid))
            aide = f"{base}-A" if rng.random() < float(p["aide_prob"]) else None
            if aide:
                parties.append(world.make_parties(rng, [aide], [city], age=(20, 45),
                                                  occupation=("driver", "unemployed")))
                labels.add(aide, sid, "controller", False)
            # The controller's phone: device id and home IP travel together, as in the background.
            c = world.cities[city]
            device = (f"D-{int(rng.integers(0, 1 << 48)):012x}",
                      f"{c.ip_prefix}.{int(rng.integers(1, 255))}.{int(rng.integers(1, 255))}")
            collectors = [f"{base}-V{j + 1}" for j in range(draw_int(rng, p["collectors_per_instance"]))]
            victims = world.make_parties(rng, collectors, [city] * len(collectors), age=p["victim_age"],
                                         occupation=("student", "unemployed", "model", "dancer"),
                                         declared_income=(5000, 20000))
            parties.append(_with_phone(victims, ctrl_party.column("phone")[0].as_py()))
            for v in collectors:
                labels.add(v, sid, "victim", True)
                spenders.append((v, city, sid))
                self._collect(world, rng, txns, sid, v, [ctrl] + ([aide] if aide else []), p,
                              float(draw_uniform(rng, p["forward_fraction"])), device, n_clients=None)
        for kind, cfg in (("keeper", p["lookalike_keeper"]), ("few", p["lookalike_few"])):
            for i in range(n_look):
                sid, acct = f"collector_network-lookalike-{kind}-{i + 1:04d}", f"S-COLLECT-L{kind[0].upper()}{i + 1:04d}"
                city = int(world.pick_cities(rng, 1)[0])
                parties.append(world.make_parties(rng, [acct], [city],
                                                  occupation=("tutor", "hairdresser", "freelancer", "student"),
                                                  declared_income=(20000, 45000)))
                labels.add(acct, sid, "look_alike", False)
                spenders.append((acct, city, sid))
                target = f"{acct}-R1"
                self._collect(world, rng, txns, sid, acct, [target], {**p, **cfg},
                              float(draw_uniform(rng, cfg["forward_fraction"])), None,
                              n_clients=draw_int(rng, cfg["clients_total"]) if "clients_total" in cfg else None)
        for i in range(n_look):
            sid, base = f"collector_network-lookalike-family-{i + 1:04d}", f"S-COLLECT-LF{i + 1:04d}"
            city = int(world.pick_cities(rng, 1)[0])
            members = [f"{base}-{j + 1}" for j in range(3)]
            family = world.make_parties(rng, members, [city] * 3, occupation=("teacher", "student", "retired"),
                                        declared_income=(15000, 50000))
            first = family.to_pylist()[0]
            parties.append(_with_phone(family, first["phone"], first["name"].rsplit(" ", 1)[-1], first["address"]))
            for m in members:
                labels.add(m, sid, "look_alike", False)
                spenders.append((m, city, sid))
            sid, base = f"collector_network-lookalike-students-{i + 1:04d}", f"S-COLLECT-LS{i + 1:04d}"
            students = [f"{base}-{j + 1}" for j in range(5)]
            hall = f"Room {int(rng.integers(100, 400))}, Maple Residence Hall, {world.cities[city].name} University"
            parties.append(world.make_parties(rng, students, [city] * 5, age=(18, 23), occupation=("student",),
                                              declared_income=(0, 12000), addresses=[hall] * 5))
            for m in students:
                labels.add(m, sid, "look_alike", False)
                spenders.append((m, city, sid))
        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, list(accts), list(cities), list(sids),
                                               float(p["everyday_daily_prob"]), float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    @staticmethod
    def _collect(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str,
                 recipients: list[str], p: dict, fraction: float, device: tuple[str, str] | None,
                 n_clients: int | None) -> None:
        """Client payments into `acct` on active nights, and each night's forward to the recipients."""
        active = draw_int(rng, p["active_days"])
        start = float(rng.uniform(0, max(1.0, world.days - active - 3)))
        pool: list[str] = []
        if n_clients is not None:
            pool = [f"{acct}-K{k + 1:03d}" for k in range(n_clients)]
        for day in range(active):
            if n_clients is None and day % 30 == 0:
                # A fresh set of clients every 30 days keeps >= 8 distinct payers in any window.
                first = len(pool)
                pool = pool + [f"{acct}-K{first + k + 1:03d}" for k in range(draw_int(rng, p["clients_per_month"]))]
                current = pool[first:]
            elif n_clients is not None:
                current = pool
            if rng.random() >= float(p["night_prob"]):
                continue
            n = draw_int(rng, p["payments_per_night"])
            hours = (start + day) * 24 + draw_uniform(rng, (18, 26), n)
            amounts = np.round(draw_uniform(rng, p["payment_amount"], n), -1)
            txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=amounts, channel="p2p",
                     payer_account=list(rng.choice(current, n)), beneficiary_account=acct)
            total = float(amounts.sum()) * fraction
            t = float(hours.max()) + float(draw_uniform(rng, p["forward_delay_hours"]))
            if t >= world.days * 24:
                continue
            shares = [1.0] if len(recipients) == 1 else [0.7, 0.3]
            for to, share in zip(recipients, shares, strict=False):
                extra = ({"device_id": device[0], "ip": device[1]}
                         if device and rng.random() < float(p["shared_device_prob"]) else {})
                txns.add(scenario_id=sid, ts=world.hours_to_ts(t), amount=round(total * share, 2), channel="p2p",
                         payer_account=acct, beneficiary_account=to, **extra)
