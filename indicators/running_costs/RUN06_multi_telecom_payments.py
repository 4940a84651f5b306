"""Payments to several phone or internet providers within a month.

## What it flags
Accounts that pay at least `min_providers` distinct telecom payees (MCC 4814/4899 or a name on
the `telecom_providers` list) within `window_days` days. Payees are told apart by their
normalised name. The value is the number of distinct payees in the episode.

## Why it matters
Controllers run several phone lines: one per ad, per victim or per city, and replace them often.
FINTRAC (2021) names excessive payments to several phone and internet providers.

## Typical false positives
Families paying each member's plan with different carriers; small businesses with separate
landline, mobile and internet contracts; switching providers (two payees in one month). Weak
alone.

## Data needed
`counterparty_name` of payments; `mcc` improves recall.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import listed, normalised_key
from followmoney.kernels.episodes import distinct_episodes
from followmoney.kernels.inputs import one_of
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def telecom_providers_kernel(offsets, ts_s, ts, amount, is_customer, is_telecom, telecom_name, payee_key,
                             window_days, min_providers):  # pragma: no cover - jitted
    """Customers' telecom payments to `min_providers` distinct payees (by normalised name) within the window."""
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if ((telecom_name[r] == 1 or is_telecom[r] == 1) and amount[r] < 0 and is_customer[r] == 1
                and payee_key[r] >= 0):
            events[m] = r
            m += 1
    events = events[:m]
    return distinct_episodes(offsets, ts_s, ts, amount, events, payee_key[events],
                             window_days * 86400, 0, min_providers, False)


class RUN06(Indicator):
    id = "RUN06"
    name = "multi_telecom_payments"
    title = "Payments to several telecom providers"
    family = "running_costs"
    typologies = ("sexual_exploitation",)
    sources = ("FT21",)
    requires = ("ts", "amount", "counterparty_name")
    requires_lists = ("telecom_providers",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_providers", 3, Interval(int, 1, None), "Distinct telecom payees needed inside one window"),
    )
    role_hint = None
    score_doc = "0.25 at `min_providers` payees, +0.05 per extra payee, capped at 0.4."
    reason = "payments to {value:.0f} telecom providers within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/RUN06.sql); payee names are
    # matched and normalised once per distinct name.
    kernel = telecom_providers_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "is_customer": "int8", "is_telecom": "int8",
                     "telecom_name": "int8", "payee_key": "int64"}
    kernel_expressions = {"is_telecom": one_of("merchant_group", ("telecom",))}
    kernel_lookups = {"telecom_name": listed("counterparty_name", "telecom_providers"),
                      "payee_key": normalised_key("counterparty_name")}
    kernel_details = {"total_amount": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_providers`, +0.05 per extra payee, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_providers"]), 0.0, 0.4)
