"""One account receiving the wages of several workers: payroll from several employers at once.

## What it flags
Accounts that receive payroll credits (a memo matching the `payroll_terms` list, e.g. "PAYROLL
<employer>", "salary", "wages") from at least `min_employers` distinct paying accounts inside any
window of `window_days` days. Credits of overlapping qualifying windows form one episode, reported
as one hit valued at the number of distinct paying employers.

The reference gives a second arm, "at least three distinct payee names in payroll memos, other
than the holder". It is not implemented: payroll memos name the employer, not the payee, in the
data this tool sees (ACH addenda with the employee's name rarely reach a transaction extract), and
comparing free-text names needs a name-matching step this rule does not do. Several employers
paying one account is the observable form of the same pattern.

## Why it matters
Traffickers in labour exploitation often control where victims' wages go: several workers'
salaries, each from the employer that placed them, land in one account the trafficker holds or
controls, and are swept on (FinCEN 2020, citing FATF 2018). A person rarely draws regular pay
from three employers in the same month.

## Typical false positives
People with several part-time jobs, gig workers paid by several platforms, a household whose
adults' salaries go to one joint account (two employers), a payroll agent. Check the parties on
the account and whether the credits are swept on at once.

## Data needed
`memo` of credits and the paying account; the `payroll_terms` list ships with defaults. No
parties table is needed.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import listed
from followmoney.kernels.episodes import distinct_episodes
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def pooled_salary_kernel(offsets, ts_s, ts, amount, is_customer, counterparty, payroll_memo, min_employers,
                         window_days):  # pragma: no cover - jitted
    """Customers' payroll credits from `min_employers` distinct payers within the window."""
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if payroll_memo[r] == 1 and amount[r] > 0 and is_customer[r] == 1 and counterparty[r] >= 0:
            events[m] = r
            m += 1
    events = events[:m]
    return distinct_episodes(offsets, ts_s, ts, amount, events, counterparty[events],
                             window_days * 86400, 0, min_employers, False)


class NET08(Indicator):
    id = "NET08"
    name = "pooled_salary_account"
    title = "Wages from several employers pooled in one account"
    family = "network"
    typologies = ("labour_exploitation",)
    sources = ("F20", "FATF18(sec)")
    requires = ("ts", "amount", "memo", "payer_account", "beneficiary_account")
    requires_lists = ("payroll_terms",)
    params = (
        Param("min_employers", 3, Interval(int, 2, None), "Distinct paying employers inside one window"),
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
    )
    role_hint = "victim"
    decisive = False
    score_doc = ("0.35 at `min_employers` employers, +0.05 per extra one, capped at 0.45: never alerts on its "
                 "own, but adds the network family to a sweep or pass-through.")
    reason = "payroll from {value:.0f} different employers within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/NET08.sql); memos are matched
    # once per distinct memo.
    kernel = pooled_salary_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "is_customer": "int8", "counterparty": "int64",
                     "payroll_memo": "int8"}
    kernel_expressions = {"counterparty": "coalesce(counterparty_key, -1)"}
    kernel_lookups = {"payroll_memo": listed("memo", "payroll_terms")}
    kernel_details = {"total_amount": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.35 at `min_employers`, +0.05 per extra employer, capped at 0.45."""
        return np.clip(0.35 + 0.05 * (value - params["min_employers"]), 0.0, 0.45)
