"""Payments to inmate collect-call and messaging services.

## What it flags
Accounts that make at least `min_count` payments to a vendor on the `inmate_call_vendors` list
within `window_days` days (by default a single payment suffices; windows only group payments into
episodes). The value is the number of such payments in the episode.

## Why it matters
FINTRAC (2021) lists payments to jail collect-call services: victims are made to keep in touch
with, and fund, an incarcerated trafficker who keeps control from prison. It is a victim-side
signal: the account paying is more likely controlled than controlling.

## Typical false positives
Family members and partners of any inmate; lawyers and support organisations. On its own it says
nothing about trafficking, hence the weak score.

## Data needed
`counterparty_name` of payments. The `inmate_call_vendors` list ships with illustrative defaults.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import listed
from followmoney.kernels.episodes import count_episodes
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def jail_call_kernel(offsets, ts_s, ts, amount, is_customer, is_vendor, window_days,
                     min_count):  # pragma: no cover - jitted
    """Customers' payments to listed inmate-call vendors, `min_count` within `window_days`."""
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if is_vendor[r] == 1 and amount[r] < 0 and is_customer[r] == 1:
            events[m] = r
            m += 1
    events = events[:m]
    return count_episodes(offsets, ts_s, ts, amount, events, window_days * 86400, min_count)


class RUN07(Indicator):
    id = "RUN07"
    name = "jail_call_payments"
    title = "Payments to inmate-call services"
    family = "running_costs"
    typologies = ("sexual_exploitation",)
    sources = ("FT21",)
    requires = ("ts", "amount", "counterparty_name")
    requires_lists = ("inmate_call_vendors",)
    params = (
        Param("window_days", 90, Interval(int, 1, 366), "Window that groups payments into one episode", "days"),
        Param("min_count", 1, Interval(int, 1, None), "Payments needed inside one window"),
    )
    # The reference's role hypothesis names jail-call payments as a victim/nominee signal.
    role_hint = "victim"
    score_doc = "0.25 at `min_count` payments, +0.05 per extra payment, capped at 0.4."
    reason = "{value:.0f} payments to inmate-call services within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/RUN07.sql); payee names are
    # matched once per distinct name.
    kernel = jail_call_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "is_customer": "int8", "is_vendor": "int8"}
    kernel_lookups = {"is_vendor": listed("counterparty_name", "inmate_call_vendors")}
    kernel_details = {"total_amount": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra payment, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
