"""Repeated payments to online classified, adult-ad or escort-directory sites.

## What it flags
Accounts that make at least `min_count` payments within `window_days` days to merchants whose
name contains an entry of the `ad_sites` list, or whose MCC falls in the adult direct-marketing
(5967) or dating/escort (7273) groups. Payments in overlapping qualifying windows form one
episode, reported as one hit; `details.repeated_amounts` counts payments whose amount repeats
exactly inside the episode (fixed ad fees).

## Why it matters
Every business model of sexual exploitation advertises online: short-stay, storefront and
private-residence operations all buy escort and "massage" ads, often as repeated small fixed
fees or premium placements (FINTRAC 2016 and 2021; FinCEN 2014 and 2020 on foreign classified
sites). The person paying for the ads is usually the one organising the bookings.

## Typical false positives
Independent adult workers advertising for themselves (lawful in some jurisdictions: financial
data alone cannot separate lawful sex work from servitude); small businesses buying classified
ads on general sites; a name-list entry that is a substring of an unrelated merchant. The score
is deliberately weak: it should alert only together with other families.

## Data needed
`counterparty_name` of card and online payments; `mcc` helps but is optional. The `ad_sites`
list ships with illustrative defaults; extend it with your own intelligence in the profile.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import listed
from followmoney.kernels.episodes import count_episodes
from followmoney.kernels.inputs import one_of
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def ad_payments_kernel(offsets, ts_s, ts, amount, is_customer, ad_group, ad_site, window_days,
                       min_count):  # pragma: no cover - jitted
    """Customers' payments in an adult-ad MCC group or to a listed ad site, `min_count` within the window;
    details: the total and the payments that repeat an amount of the episode (count - distinct amounts)."""
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if (ad_site[r] == 1 or ad_group[r] == 1) and amount[r] < 0 and is_customer[r] == 1:
            events[m] = r
            m += 1
    events = events[:m]
    start, end, value, ev_ptr, ev_rows, total = count_episodes(offsets, ts_s, ts, amount, events,
                                                               window_days * 86400, min_count)
    details = np.empty((len(start), 2), dtype=np.float64)
    for h in range(len(start)):
        paid = np.sort(amount[ev_rows[ev_ptr[h]:ev_ptr[h + 1]]])
        distinct = 0
        for j in range(len(paid)):
            if j == 0 or paid[j] != paid[j - 1]:
                distinct += 1
        details[h, 0] = total[h, 0]
        details[h, 1] = len(paid) - distinct
    return start, end, value, ev_ptr, ev_rows, details


class RUN01(Indicator):
    id = "RUN01"
    name = "adult_ad_payments"
    title = "Repeated payments to adult-ad or classified sites"
    family = "running_costs"
    typologies = ("sexual_exploitation",)
    sources = ("FT16", "FT21", "F14(sec)", "F20")
    requires = ("ts", "amount", "counterparty_name")
    requires_lists = ("ad_sites",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 3, Interval(int, 1, None), "Ad payments needed inside one window"),
    )
    role_hint = None  # the reference's role hypothesis does not name this flag
    score_doc = ("0.25 at `min_count` payments (a weak signal: three families at their minimum combine to "
                 "0.58, above the 0.5 alert threshold), +0.05 per extra payment, capped at 0.4.")
    reason = "{value:.0f} payments to ad sites within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/RUN01.sql); payee names are
    # matched once per distinct name.
    kernel = ad_payments_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "is_customer": "int8", "ad_group": "int8",
                     "ad_site": "int8"}
    kernel_expressions = {"ad_group": one_of("merchant_group", ("adult_direct_marketing", "dating_escort"))}
    kernel_lookups = {"ad_site": listed("counterparty_name", "ad_sites")}
    kernel_details = {"total_amount": "float64", "repeated_amounts": "int64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra payment, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
