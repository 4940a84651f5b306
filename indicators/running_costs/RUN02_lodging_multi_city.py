"""Lodging charges in several cities within a short period.

## What it flags
Accounts that pay at least `min_count` lodging charges (MCC 7011 and 3501-3999, or a merchant
name on the `short_stay_lodging` list) in at least `min_cities` distinct cities within
`window_days` days. The value is the number of distinct cities of the episode.

## Why it matters
The short-stay / hotel model moves victims from city to city, booking rooms where the ads run;
FINTRAC (2016) and AUSTRAC report short stays in several cities within a short period, and FinCEN
(2020) lists accommodation paid for others among the running costs of exploitation.

## Typical false positives
Travelling sales staff, truck drivers, touring artists and consultants; holidays with several
stops. Compare with the stated occupation: the score is weak on purpose.

## Data needed
`city` of card payments and `counterparty_name`; `mcc` improves recall. The city is where the
charge was made, which for online bookings may be the booking platform's city.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import listed, normalised_key
from followmoney.kernels.episodes import distinct_episodes
from followmoney.kernels.inputs import one_of
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def lodging_cities_kernel(offsets, ts_s, ts, amount, is_customer, is_lodging, lodging_name, city_key, window_days,
                          min_count, min_cities):  # pragma: no cover - jitted
    """Customers' lodging charges with a city, `min_count` in `min_cities` cities within the window."""
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if ((lodging_name[r] == 1 or is_lodging[r] == 1) and amount[r] < 0 and is_customer[r] == 1
                and city_key[r] >= 0):
            events[m] = r
            m += 1
    events = events[:m]
    return distinct_episodes(offsets, ts_s, ts, amount, events, city_key[events], window_days * 86400, min_count,
                             min_cities, True)


class RUN02(Indicator):
    id = "RUN02"
    name = "lodging_multi_city"
    title = "Lodging charges in several cities within days"
    family = "running_costs"
    typologies = ("sexual_exploitation",)
    sources = ("FT16", "F20", "AU22(sec)")
    requires = ("ts", "amount", "city", "counterparty_name")
    requires_lists = ("short_stay_lodging",)
    params = (
        Param("window_days", 14, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 4, Interval(int, 1, None), "Lodging charges needed inside one window"),
        Param("min_cities", 2, Interval(int, 1, None), "Distinct cities needed inside one window"),
    )
    role_hint = None
    score_doc = "0.25 at `min_cities` cities, +0.05 per extra city, capped at 0.4."
    reason = "lodging charges in {value:.0f} cities within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/RUN02.sql); payee names and
    # cities are looked up once per distinct value.
    kernel = lodging_cities_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "is_customer": "int8", "is_lodging": "int8",
                     "lodging_name": "int8", "city_key": "int64"}
    kernel_expressions = {"is_lodging": one_of("merchant_group", ("lodging",))}
    kernel_lookups = {"lodging_name": listed("counterparty_name", "short_stay_lodging"),
                      "city_key": normalised_key("city")}
    kernel_details = {"total_amount": "float64", "n_charges": "int64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_cities`, +0.05 per extra city, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_cities"]), 0.0, 0.4)
