"""Several food-delivery orders on the same day, on many days.

## What it flags
Accounts that place at least `min_per_day` orders with food-delivery apps (the `food_delivery`
list) on the same local day, on at least `min_days` such days within `window_days` days. The
value is the number of such busy days in the episode; the evidence is their orders.

## Why it matters
Victims kept in a hotel room, apartment or storefront are fed by whoever controls them; FINTRAC
(2021) names frequent same-day food-delivery orders, feeding several people, as a running cost of
exploitation.

## Typical false positives
Large households, shared flats where one person orders for everyone, people who work from home
and order all meals. Weak alone.

## Data needed
`counterparty_name` of card payments. Days are local days in the profile's time zone.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import listed
from followmoney.kernels.episodes import distinct_episodes
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def busy_delivery_days_kernel(offsets, ts_s, ts, amount, local_hour, is_customer, food_delivery, window_days,
                              min_per_day, min_days):  # pragma: no cover - jitted
    """Customers' days with `min_per_day` food-delivery orders, `min_days` such days within the window."""
    orders = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if food_delivery[r] == 1 and amount[r] < 0 and is_customer[r] == 1:
            orders[m] = r
            m += 1
    orders = orders[:m]
    # The local day: shift UTC seconds by the local offset (local_hour - UTC hour, in [-12, 11]).
    day = np.empty(len(orders), dtype=np.int64)
    for j in range(len(orders)):
        r = orders[j]
        utc_hour = (ts[r] // 3_600_000_000) % 24
        day[j] = np.int64(np.floor((ts_s[r] + ((local_hour[r] - utc_hour + 36) % 24 - 12) * 3600) / 86400))
    # Only the orders of busy days are events; their day is the key whose distinct count is the value.
    busy = np.zeros(len(orders), dtype=np.bool_)
    a = 0
    j0 = 0
    while j0 < len(orders):
        while offsets[a + 1] <= orders[j0]:
            a += 1
        j1 = j0
        while j1 < len(orders) and orders[j1] < offsets[a + 1]:
            j1 += 1
        days = np.sort(day[j0:j1])
        for j in range(j0, j1):
            per_day = np.searchsorted(days, day[j], side="right") - np.searchsorted(days, day[j], side="left")
            busy[j] = per_day >= min_per_day
        j0 = j1
    return distinct_episodes(offsets, ts_s, ts, amount, orders[busy], day[busy], window_days * 86400, 0, min_days,
                             True)


class RUN04(Indicator):
    id = "RUN04"
    name = "food_delivery_multi_daily"
    title = "Several food-delivery orders a day, repeatedly"
    family = "running_costs"
    typologies = ("sexual_exploitation", "labour_exploitation")
    sources = ("FT21", "FT16")
    requires = ("ts", "amount", "counterparty_name")
    requires_lists = ("food_delivery",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_per_day", 3, Interval(int, 2, None), "Orders on one day that make it a busy day"),
        Param("min_days", 5, Interval(int, 1, None), "Busy days needed inside one window"),
    )
    role_hint = None
    score_doc = "0.25 at `min_days` busy days, +0.05 per extra day, capped at 0.4."
    reason = "{value:.0f} days with >= {min_per_day} food-delivery orders within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/RUN04.sql); payee names are
    # matched once per distinct name.
    kernel = busy_delivery_days_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "local_hour": "int32", "is_customer": "int8",
                     "food_delivery": "int8"}
    kernel_lookups = {"food_delivery": listed("counterparty_name", "food_delivery")}
    kernel_details = {"total_amount": "float64", "n_orders": "int64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_days`, +0.05 per extra busy day, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_days"]), 0.0, 0.4)
