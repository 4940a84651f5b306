"""Luxury spending beyond the declared income, or across several luxury categories.

## What it flags
Accounts whose spending at luxury merchants (MCC groups jewellery, car_dealer, nightlife,
medical_cosmetic, or a name on the `luxury_merchants` list) within `window_days` days reaches
`income_share` of the holder's declared income for the same period
(`declared_income * window_days / 365`), or spans at least `min_categories` of those categories.
The value is the episode's luxury spend.

## Why it matters
Controllers spend the proceeds on cars, limousines, jewellery, nightclubs, fine dining and
cosmetic surgery (FINTRAC 2021; FinCEN 2020). Spending far beyond declared means, combined with
cash or many-sender inflows, points to the beneficiary of the exploitation.

## Typical false positives
Wealthy customers with an understated or stale declared income; a one-off purchase (a car, an
engagement ring) funded by savings or a loan. Weak alone.

## Data needed
`mcc` or `counterparty_name` of payments, and the parties column `declared_income` (annual, in
the reporting currency). Accounts without a declared income are judged on the categories arm only.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import listed
from followmoney.kernels.episodes import N_DISTINCT, NEVER, SPEND, TOTAL_AMOUNT, window_episodes
from followmoney.kernels.inputs import code_in
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def lavish_spend_kernel(offsets, ts_s, ts, amount, is_customer, declared_income, luxury_group, luxury_brand,
                        window_days, income_share, min_categories):  # pragma: no cover - jitted
    """Customers' luxury spend above `income_share` of the period's income, or in `min_categories`
    categories, within the window; value: the spend, details: the total and the categories."""
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if (luxury_brand[r] == 1 or luxury_group[r] > 0) and amount[r] < 0 and is_customer[r] == 1:
            events[m] = r
            m += 1
    events = events[:m]
    # The category: the MCC group (a positive code), else the listed brand (0).
    category = np.maximum(luxury_group[events], 0)
    # The spend that flags in one window; NaN (never reached) without a declared income.
    income = declared_income[events]
    ref = np.where(income > 0, income_share * income * window_days / 365.0, np.nan)
    start, end, ev_ptr, ev_rows, stats = window_episodes(offsets, ts_s, ts, amount, events, category, ref,
                                                         window_days * 86400, NEVER, 0, NEVER, min_categories, True)
    details = np.empty((len(start), 2), dtype=np.float64)
    details[:, 0] = stats[:, TOTAL_AMOUNT]
    details[:, 1] = stats[:, N_DISTINCT]
    return start, end, stats[:, SPEND].copy(), ev_ptr, ev_rows, details


class LUX01(Indicator):
    id = "LUX01"
    name = "lavish_spend_vs_income"
    title = "Luxury spending beyond declared income"
    family = "lifestyle"
    typologies = ("sexual_exploitation", "labour_exploitation", "laundering_of_proceeds")
    sources = ("FT21", "F20")
    requires = ("ts", "amount", "counterparty_name")
    requires_parties = ("declared_income",)
    requires_lists = ("luxury_merchants",)
    params = (
        Param("window_days", 90, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("income_share", 0.5, Interval(float, 0, None, closed="neither"),
              "Luxury spend, as a share of the declared income of the same period, that flags"),
        Param("min_categories", 3, Interval(int, 1, None), "Distinct luxury categories that flag on their own"),
    )
    # The reference's role hypothesis names lavish spending as a controller/beneficiary signal.
    role_hint = "controller"
    score_doc = "0.3 for every hit: the spend is only meaningful against each holder's own income."
    reason = "luxury spend of {value:,.0f} within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/LUX01.sql); payee names are
    # matched once per distinct name.
    kernel = lavish_spend_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "is_customer": "int8",
                     "declared_income": "float64", "luxury_group": "int64", "luxury_brand": "int8"}
    kernel_expressions = {"luxury_group": code_in("merchant_group", ("jewellery", "car_dealer", "nightlife",
                                                                      "medical_cosmetic"))}
    kernel_lookups = {"luxury_brand": listed("counterparty_name", "luxury_merchants")}
    kernel_details = {"total_amount": "float64", "n_categories": "int64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 flat: the raw spend is not comparable across customers without their income."""
        return np.full(np.shape(value), 0.3)
