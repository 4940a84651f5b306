"""A cluster of night-time rideshare, taxi or limousine rides.

## What it flags
Accounts that pay at least `min_count` rides (MCC 4121 or a merchant on the `rideshare` list)
at night, local hour in [`night_start`, `night_end`) wrapping past midnight, within
`window_days` days. The value is the number of night rides in the episode.

## Why it matters
Victims are driven to bookings, hotels and outcalls, mostly in the evening and at night, and the
controller pays; FINTRAC (2016) and AUSTRAC name frequent local transport in short timelines, and
FinCEN (2020) transport paid for others.

## Typical false positives
Night-shift workers without a car, hospitality staff, people who go out often. Compare with the
stated occupation; weak alone.

## Data needed
`counterparty_name` (and optionally `mcc`) of card payments; `local_hour` comes from the
profile's time zone, so set `timezone` for data that is not in UTC.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import listed
from followmoney.kernels.episodes import count_episodes
from followmoney.kernels.inputs import one_of
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def night_rides_kernel(offsets, ts_s, ts, amount, local_hour, is_customer, is_rideshare, rideshare_name, window_days,
                       min_count, night_start, night_end):  # pragma: no cover - jitted
    """Customers' rides between `night_start` and `night_end` local time, `min_count` within the window."""
    wraps = night_start > night_end  # a night past midnight (22-5) is two ranges of hours, else one
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if (rideshare_name[r] == 1 or is_rideshare[r] == 1) and amount[r] < 0 and is_customer[r] == 1:
            h = local_hour[r]
            if (h >= night_start or h < night_end) if wraps else (h >= night_start and h < night_end):
                events[m] = r
                m += 1
    events = events[:m]
    return count_episodes(offsets, ts_s, ts, amount, events, window_days * 86400, min_count)


class RUN03(Indicator):
    id = "RUN03"
    name = "night_rideshare_cluster"
    title = "Cluster of night-time rides"
    family = "running_costs"
    typologies = ("sexual_exploitation",)
    sources = ("FT16", "F20", "AU22(sec)")
    requires = ("ts", "amount", "counterparty_name")
    requires_lists = ("rideshare",)
    params = (
        Param("window_days", 7, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 5, Interval(int, 1, None), "Night rides needed inside one window"),
        Param("night_start", 22, Interval(int, 0, 23), "First local hour that counts as night", "hour"),
        Param("night_end", 5, Interval(int, 0, 23), "Local hour at which the night ends (exclusive)", "hour"),
    )
    role_hint = None
    score_doc = "0.25 at `min_count` night rides, +0.05 per extra ride, capped at 0.4."
    reason = "{value:.0f} rides between {night_start}:00 and {night_end}:00 within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/RUN03.sql); payee names are
    # matched once per distinct name.
    kernel = night_rides_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "local_hour": "int32", "is_customer": "int8",
                     "is_rideshare": "int8", "rideshare_name": "int8"}
    kernel_expressions = {"is_rideshare": one_of("merchant_group", ("rideshare",))}
    kernel_lookups = {"rideshare_name": listed("counterparty_name", "rideshare")}
    kernel_details = {"total_amount": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra ride, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
