"""Same-day split structuring: one day's cash broken into deposits that each stay under the threshold.

Reference detector the plant is checked against (CSH05's defaults): a split day is a day with at
least 2 cash deposits, each under 10,000, adding up to more than 10,000; flag when 2 split days
fall within 30 days.

True instances (role ``controller``, expected alert): one account per instance with
``split_days`` split days, consecutive ones ``split_gap_days`` apart, each day's total of
``day_total`` split over ``deposits_per_day`` deposits at different branches of the home city.
Each share of the day's total lies in ``share`` so no deposit reaches 8,000, the band of CSH01:
this plant tests the split-day rule alone.

Look-alikes (role ``look_alike``, no alert):

* ``same_day_split-lookalike-a-*``: a business banking its takings twice on one busy day only;
* ``same_day_split-lookalike-b-*``: two split days, but ``lookalike_gap_days`` apart, more than the
  30-day window.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from followmoney.simulate.core import World
from followmoney.simulate.scenario import LabelBuilder, Scenario, ScenarioOutput, TxnBuilder, concat_parties


class SameDaySplit(Scenario):
    """Cash split within one day so no single deposit is reportable, on several days."""

    name = "same_day_split"
    typology = "laundering_of_proceeds"
    plants = {"controller": ("CSH05",)}
    description = "2-3 days within a month on which 10,500-13,000 of cash is paid in as 2-3 smaller deposits."

    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Plant ``n_instances`` split-day depositors and ``lookalike_ratio`` look-alikes of each kind."""
        p = self.params
        needed = float(p["lookalike_gap_days"][1]) + 2
        if self.too_short(world, needed):
            return ScenarioOutput.empty()
        n_look = round(float(p.get("lookalike_ratio", 1.0)) * n_instances)
        txns = TxnBuilder()
        labels = LabelBuilder(self.typology)
        parties = []
        spenders: list[tuple[str, int, str]] = []
        kinds = (("", "S", p["split_days"], p["split_gap_days"], "controller"),
                 ("lookalike-a-", "LA", [1, 1], [0, 0], "look_alike"),
                 ("lookalike-b-", "LB", [2, 2], p["lookalike_gap_days"], "look_alike"))
        for prefix, code, n_days, gap, role in kinds:
            for i in range(n_instances if role == "controller" else n_look):
                sid, acct = f"same_day_split-{prefix}{i + 1:04d}", f"S-SPLIT-{code}{i + 1:04d}"
                city = int(world.pick_cities(rng, 1)[0])
                if prefix == "lookalike-a-":
                    parties.append(world.make_parties(
                        rng, [acct], [city], occupation=("business owner",), declared_income=(300000, 700000),
                        account_type="business", business_type="restaurant", business_hours="11-23"))
                else:
                    parties.append(world.make_parties(rng, [acct], [city], occupation=("self-employed", "consultant"),
                                                      declared_income=p["declared_income"]))
                labels.add(acct, sid, role, role == "controller")
                self._days(world, rng, txns, sid, acct, city, int(rng.integers(int(n_days[0]), int(n_days[1]) + 1)),
                           gap, p)
                spenders.append((acct, city, sid))
        if spenders:
            accts, cities, sids = zip(*spenders, strict=True)
            txns.add(**world.everyday_activity(rng, accts, cities, sids, float(p["everyday_daily_prob"]),
                                               float(p["everyday_max_amount"])))
        return ScenarioOutput(txns.to_table(), concat_parties(parties), labels.to_table())

    @staticmethod
    def _days(world: World, rng: np.random.Generator, txns: TxnBuilder, sid: str, acct: str, city: int,
              n_days: int, gap: Any, p: Mapping[str, Any]) -> None:
        """The split days of one account, each within branch hours at distinct branches."""
        span = (n_days - 1) * float(gap[1])
        day = float(np.floor(rng.uniform(0, world.days - span - 1)))
        h0, h1 = map(float, p["branch_hours"])
        for _ in range(n_days):
            k = int(rng.integers(int(p["deposits_per_day"][0]), int(p["deposits_per_day"][1]) + 1))
            total = float(rng.uniform(*map(float, p["day_total"])))
            share = rng.uniform(*map(float, p["share"]), k)
            amounts = np.round(total * share / share.sum())
            hours = day * 24 + np.sort(rng.uniform(h0, h1, k))
            txns.add(scenario_id=sid, ts=world.hours_to_ts(hours), amount=amounts, channel="cash",
                     beneficiary_account=acct, city=world.cities[city].name, region=world.cities[city].region,
                     branch_id=world.branch(rng, city, k, distinct=True))
            day += float(np.floor(rng.uniform(float(gap[0]), float(gap[1]) + 1)))
