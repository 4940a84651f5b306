"""Several cash deposits at different branches or ATMs, in different cities, within a day.

## What it flags
Accounts where some window of `window_hours` hours holds at least `min_deposits` cash credits
(cash paid in at a branch, or an ATM deposit) made at at least `min_branches` distinct branch or
ATM ids **and** in at least `min_cities` distinct cities, adding up to at least `min_total`.
Every cash credit anchors the window that ends at it; qualifying windows that overlap or touch
form one episode, reported as one hit whose evidence (and value, their count) is every cash
credit inside it. Deposits without a branch id or a city count towards the number and the total
but not towards the distinct branches or cities.

## Why it matters
Proceeds collected by several people, or by one courier touring the places where victims work,
are paid into one account at branches and ATMs of different towns on the same day: a funnel
account. FINTRAC (2016) lists cash deposits at several branches or cities in a short time among
the indicators of trafficking in persons for sexual exploitation, and FinCEN (2014) the funnel
accounts that collect cash in one area for use in another.

## Typical false positives
Couriers and cash-collecting businesses depositing takings of several outlets; travelling sales
representatives who deposit in two towns on the way. Check who makes the deposits and whether
the account is a business. Never alerts on its own.

## Data needed
`channel`, `branch_id` and `city` of cash and ATM deposits. Without branch ids or cities the
rule is skipped (it could not tell one branch from several).
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.kernels.windows import _emit_flagged
from followmoney.params import Interval, Param

CASH, ATM = 0, 1  # positions in followmoney.schema.CHANNELS, the coding of postings.channel_code


@numba.njit(cache=True, nogil=True)
def multi_location_kernel(offsets, ts_s, amount, channel_code, branch_code, city_code, min_deposits, min_branches,
                          min_cities, min_total, window_hours):  # pragma: no cover - jitted; tested through the naive reference
    """Multi-location cash deposit episodes per account (kernel hit contract of `followmoney.indicator`)."""
    window_s = np.int64(window_hours) * 3600
    is_dep = ((channel_code == CASH) | (channel_code == ATM)) & (amount > 0)
    n_branch = 1
    n_city = 1
    for i in range(len(ts_s)):
        if branch_code[i] + 1 > n_branch:
            n_branch = branch_code[i] + 1
        if city_code[i] + 1 > n_city:
            n_city = city_code[i] + 1
    # One count per code for the whole bucket; each account leaves them all zero again.
    b_count = np.zeros(n_branch, dtype=np.int64)
    c_count = np.zeros(n_city, dtype=np.int64)
    start_row = [np.int64(0) for _ in range(0)]
    end_row = [np.int64(0) for _ in range(0)]
    value = [np.float64(0) for _ in range(0)]
    ev_ptr = [np.int64(0)]
    ev_rows = [np.int64(0) for _ in range(0)]
    for a in range(len(offsets) - 1):
        lo, hi = offsets[a], offsets[a + 1]
        rows = np.flatnonzero(is_dep[lo:hi]) + lo
        n = len(rows)
        if n < min_deposits:
            continue
        tc = ts_s[rows]
        left = 0
        n_b = 0
        n_c = 0
        total = 0.0
        is_open = False
        ep_start = np.int64(0)
        ep_end = np.int64(0)
        for k in range(n):
            r = rows[k]
            total += amount[r]
            if branch_code[r] >= 0:
                b_count[branch_code[r]] += 1
                if b_count[branch_code[r]] == 1:
                    n_b += 1
            if city_code[r] >= 0:
                c_count[city_code[r]] += 1
                if c_count[city_code[r]] == 1:
                    n_c += 1
            t = tc[k]
            while tc[left] < t - window_s:
                r0 = rows[left]
                total -= amount[r0]
                if branch_code[r0] >= 0:
                    b_count[branch_code[r0]] -= 1
                    if b_count[branch_code[r0]] == 0:
                        n_b -= 1
                if city_code[r0] >= 0:
                    c_count[city_code[r0]] -= 1
                    if c_count[city_code[r0]] == 0:
                        n_c -= 1
                left += 1
            # A small tolerance: the total is a running sum of cents, compared to a round threshold.
            if k - left + 1 < min_deposits or n_b < min_branches or n_c < min_cities or total < min_total - 1e-6:
                continue
            if is_open and t - window_s <= ep_end:
                ep_end = t
                continue
            if is_open:
                _emit_flagged(rows, tc, is_dep, ep_start, ep_end, start_row, end_row, value, ev_ptr, ev_rows)
            is_open = True
            ep_start = t - window_s
            ep_end = t
        if is_open:
            _emit_flagged(rows, tc, is_dep, ep_start, ep_end, start_row, end_row, value, ev_ptr, ev_rows)
        for k in range(left, n):
            r0 = rows[k]
            if branch_code[r0] >= 0:
                b_count[branch_code[r0]] -= 1
            if city_code[r0] >= 0:
                c_count[city_code[r0]] -= 1
    return (np.array(start_row, dtype=np.int64), np.array(end_row, dtype=np.int64),
            np.array(value, dtype=np.float64), np.array(ev_ptr, dtype=np.int64),
            np.array(ev_rows, dtype=np.int64))


class CSH06(Indicator):
    id = "CSH06"
    name = "cash_deposits_multi_location"
    title = "Cash deposits at several branches and cities within a day"
    family = "cash"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("FT16", "F14(sec)")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account", "branch_id", "city")
    params = (
        Param("min_deposits", 3, Interval(int, 2, None), "Cash deposits needed inside one window"),
        Param("min_branches", 2, Interval(int, 1, None), "Distinct branch or ATM ids needed inside one window"),
        Param("min_cities", 2, Interval(int, 1, None), "Distinct cities needed inside one window"),
        Param("min_total", 1_000.0, Interval(float, 0, None), "Smallest total of the window's deposits",
              "reporting currency"),
        Param("window_hours", 24, Interval(int, 1, 24 * 7), "Length of the sliding window", "hours"),
    )
    kernel = multi_location_kernel
    kernel_inputs = {"ts_s": "int64", "amount": "float64", "channel_code": "int8", "branch_code": "int32",
                     "city_code": "int32"}
    role_hint = "mule"
    decisive = False
    score_doc = ("0.25 at `min_deposits` deposits in the episode, +0.03 per extra deposit, capped at 0.35: "
                 "never alerts alone.")
    reason = ("{value:.0f} cash deposits at {min_branches}+ branches in {min_cities}+ cities within "
              "{window_hours} h, totalling {min_total:,.0f}+")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_deposits`, +0.03 per extra deposit, capped at 0.35."""
        return np.clip(0.25 + 0.03 * (value - params["min_deposits"]), 0.25, 0.35)
