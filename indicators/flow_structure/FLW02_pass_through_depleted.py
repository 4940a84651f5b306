"""An account that money only passes through: swept out within days, kept near zero, no living costs.

## What it flags
Accounts with a period of `period_days` days (counted from the account's first posting; only
periods the data covers completely are judged) in which all of these hold:

* credits add up to at least `min_inflow` and debits to at least `min_out_ratio` of them;
* the median hold time of the credits is at most `max_hold_hours`: money leaves first in, first
  out, and a credit's hold time runs until the debits have taken half of it (never, if they do
  not), so at least half the credits must be half gone within that time;
* the end-of-day balance is below `max_balance_share` of the credits of the trailing
  `inflow_days` days on at least `min_low_days_share` of the period's days (from its first
  posting; a day without postings keeps the previous day's balance);
* groceries, utilities and rent (merchant groups grocery, utilities and property_rental, or a
  memo with the word "rent") take less than `max_living_share` of the debits.

The balance is rebuilt from the postings, starting from the smallest opening balance that never
goes negative. The value is the share of low-balance days; the evidence is the period's largest
credits and debits (up to 20 each).

## Why it matters
Accounts of victims and nominees are controlled by someone else: what comes in is moved out
within hours or days, nothing stays, and the holder's own living costs are paid from nowhere
because someone else pays them or nobody does. FINTRAC (2016) describes deposits followed
quickly by cash-outs or transfers, an account kept near zero with no normal living spend.

## Typical false positives
Secondary accounts used only to forward money (to savings, to a partner); students whose rent is
paid by their parents; accounts whose living costs are paid by card from another bank. Never
alerts on its own.

## Data needed
`ts`, `amount` and the accounts; `mcc` (merchant groups) and `memo` to see living costs. A period
is judged on all of the account's postings, so partial extracts understate balances.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.kernels.inputs import one_of
from followmoney.kernels.living import round_cents
from followmoney.kernels.windows import empty_rows, empty_values
from followmoney.params import Interval, Param

LIVING_GROUPS = ("grocery", "utilities", "property_rental")
"""Merchant groups of `followmoney/data/mcc_groups.csv` that are the holder's own living costs."""

EVIDENCE_PER_SIDE = 20
"""Largest credits, and largest other postings, of a qualifying period given as evidence."""


@numba.njit(cache=True, nogil=True)
def _largest(rows, amount, txn_idx, limit):  # pragma: no cover - jitted
    """The `limit` rows of largest absolute amount, ties by `txn_idx`, as a boolean mask over `rows`."""
    by_txn = np.argsort(txn_idx[rows], kind="mergesort")
    size = np.empty(len(rows), dtype=np.float64)
    for k in range(len(rows)):
        size[k] = -abs(amount[rows[by_txn[k]]])
    order = by_txn[np.argsort(size, kind="mergesort")]
    keep = np.zeros(len(rows), dtype=np.bool_)
    for k in range(min(limit, len(rows))):
        keep[order[k]] = True
    return keep


@numba.njit(cache=True, nogil=True)
def pass_through_kernel(offsets, ts_s, amount, txn_idx, is_living_cost, data_end_s, period_days, min_inflow,
                        min_out_ratio, max_hold_hours, max_balance_share, inflow_days, min_low_days_share,
                        max_living_share):  # pragma: no cover - jitted; tested against the former SQL and a reference
    """Depleted pass-through periods per account (kernel hit contract of `followmoney.indicator`, with details).

    Days are UTC days of `ts_s`; periods count `period_days` from the account's first posting day
    and are judged only when the data (up to `data_end_s`) covers them completely. Running credit and
    debit totals are rounded to cents as the former SQL did; the opening balance is the smallest that
    keeps the rebuilt balance from going negative. A credit's hold time runs to the first debit whose
    running debit total reaches the opening balance plus the credits up to it, minus half of it.
    Details: the period's credits and debits, rounded to cents.
    """
    period = np.int64(period_days)
    hold_s = np.int64(max_hold_hours) * 3600
    start_row = empty_rows()
    end_row = empty_rows()
    value = empty_values()
    ev_ptr = [np.int64(0)]
    ev_rows = empty_rows()
    credits_out = empty_values()
    debits_out = empty_values()
    for a in range(len(offsets) - 1):
        lo, hi = offsets[a], offsets[a + 1]
        n = hi - lo
        if n == 0:
            continue
        end_day = np.int64(data_end_s[lo]) // 86400
        first_day = np.int64(ts_s[lo]) // 86400
        # Only periods the data covers completely are judged: none here, nothing to do.
        if first_day + period > end_day + 1:
            continue
        # Periods are runs of rows (rows are in time order). First the flows of each complete period:
        # only an account with a period whose flows pass gets the balance and hold-time work below.
        day = np.empty(n, dtype=np.int64)
        for k in range(n):
            day[k] = np.int64(ts_s[lo + k]) // 86400
        n_periods = (day[n - 1] - first_day) // period + 1
        inflow = np.zeros(n_periods, dtype=np.float64)
        outflow = np.zeros(n_periods, dtype=np.float64)
        living = np.zeros(n_periods, dtype=np.float64)
        for k in range(n):
            p = (day[k] - first_day) // period
            x = amount[lo + k]
            if x > 0:
                inflow[p] += x
            elif x < 0:
                outflow[p] -= x
                if is_living_cost[lo + k] == 1:
                    living[p] -= x
        flows_pass = np.zeros(n_periods, dtype=np.bool_)
        any_pass = False
        for p in range(n_periods):
            flows_pass[p] = (first_day + (p + 1) * period <= end_day + 1 and inflow[p] >= min_inflow
                             and outflow[p] >= min_out_ratio * inflow[p] - 1e-6
                             and living[p] < max_living_share * outflow[p])
            any_pass = any_pass or flows_pass[p]
        if not any_pass:
            continue
        cum_in = np.empty(n, dtype=np.float64)
        cum_out = np.empty(n, dtype=np.float64)
        run_in = 0.0
        run_out = 0.0
        opening = 0.0
        for k in range(n):
            j = lo + k
            if amount[j] > 0:
                run_in += amount[j]
            elif amount[j] < 0:
                run_out -= amount[j]
            cum_in[k] = round_cents(run_in)
            cum_out[k] = round_cents(run_out)
            opening = max(opening, cum_out[k] - cum_in[k])
        # Running debit totals of the debits, in posting order (non-decreasing): FIFO hold times.
        n_debits = 0
        for k in range(n):
            if amount[lo + k] < 0:
                n_debits += 1
        debit_level = np.empty(n_debits, dtype=np.float64)
        debit_ts = np.empty(n_debits, dtype=np.int64)
        i = 0
        for k in range(n):
            if amount[lo + k] < 0:
                debit_level[i] = cum_out[k]
                debit_ts[i] = ts_s[lo + k]
                i += 1
        quick = np.zeros(n, dtype=np.bool_)
        for k in range(n):
            j = lo + k
            if amount[j] > 0:
                level = round_cents(opening + cum_in[k] - amount[j] / 2)
                first = np.searchsorted(debit_level, level, side="left")
                if first < n_debits and debit_ts[first] - ts_s[j] <= hold_s:
                    quick[k] = True
        # Days with postings: credits of the day and end-of-day balance (after the day's last posting).
        n_days = 1
        for k in range(1, n):
            if day[k] != day[k - 1]:
                n_days += 1
        days = np.empty(n_days, dtype=np.int64)
        day_in = np.zeros(n_days, dtype=np.float64)
        eod = np.empty(n_days, dtype=np.float64)
        d = -1
        for k in range(n):
            if k == 0 or day[k] != day[k - 1]:
                d += 1
                days[d] = day[k]
            if amount[lo + k] > 0:
                day_in[d] += amount[lo + k]
            eod[d] = opening + cum_in[k] - cum_out[k]
        # Each day weighs the days until the next posting day, cut at the end of its period.
        low_w = np.zeros(n_days, dtype=np.int64)
        all_w = np.zeros(n_days, dtype=np.int64)
        t0 = 0
        for d in range(n_days):
            p = (days[d] - first_day) // period
            nxt = days[d + 1] if d + 1 < n_days else days[d] + 100000
            all_w[d] = min(nxt, first_day + (p + 1) * period) - days[d]
            while days[t0] < days[d] - inflow_days + 1:
                t0 += 1
            trailing = 0.0
            for t in range(t0, d + 1):
                trailing += day_in[t]
            if eod[d] < max_balance_share * trailing - 1e-6:
                low_w[d] = all_w[d]
        # Periods, in posting order: judge the complete ones whose flows pass on hold times and balances.
        k0 = 0
        d0 = 0
        while k0 < n:
            p = (day[k0] - first_day) // period
            k1 = k0
            while k1 < n and (day[k1] - first_day) // period == p:
                k1 += 1
            d1 = d0
            while d1 < n_days and (days[d1] - first_day) // period == p:
                d1 += 1
            if flows_pass[p]:
                n_credits = 0
                n_quick = 0
                for k in range(k0, k1):
                    if amount[lo + k] > 0:
                        n_credits += 1
                        if quick[k]:
                            n_quick += 1
                low = 0
                total = 0
                for t in range(d0, d1):
                    low += low_w[t]
                    total += all_w[t]
                share = low / total
                if 2 * n_quick >= n_credits and share >= min_low_days_share - 1e-9:
                    rows = np.arange(lo + k0, lo + k1)
                    is_credit = amount[rows] > 0
                    keep = np.zeros(len(rows), dtype=np.bool_)
                    for side in (True, False):
                        part = np.flatnonzero(is_credit == side)
                        chosen = _largest(rows[part], amount, txn_idx, EVIDENCE_PER_SIDE)
                        keep[part[chosen]] = True
                    ev = rows[keep]
                    for r in ev:
                        ev_rows.append(r)
                    start_row.append(ev[0])
                    end_row.append(ev[len(ev) - 1])
                    value.append(share)
                    ev_ptr.append(len(ev_rows))
                    credits_out.append(round_cents(inflow[p]))
                    debits_out.append(round_cents(outflow[p]))
            k0 = k1
            d0 = d1
    details = np.empty((len(value), 2), dtype=np.float64)
    for h in range(len(value)):
        details[h, 0] = credits_out[h]
        details[h, 1] = debits_out[h]
    return (np.array(start_row, dtype=np.int64), np.array(end_row, dtype=np.int64),
            np.array(value, dtype=np.float64), np.array(ev_ptr, dtype=np.int64),
            np.array(ev_rows, dtype=np.int64), details)


class FLW02(Indicator):
    id = "FLW02"
    name = "pass_through_depleted"
    title = "Inflows swept out, balance kept near zero, no living costs"
    family = "flow_structure"
    typologies = ("sexual_exploitation", "labour_exploitation", "laundering_of_proceeds")
    sources = ("FT16",)
    requires = ("ts", "amount", "payer_account", "beneficiary_account", "mcc", "memo")
    params = (
        Param("period_days", 60, Interval(int, 7, 366), "Length of each period judged", "days"),
        Param("min_inflow", 1_000.0, Interval(float, 0, None), "Smallest total of the period's credits",
              "reporting currency"),
        Param("min_out_ratio", 0.9, Interval(float, 0, None, closed="neither"), "Debits over credits in the period"),
        Param("max_hold_hours", 72, Interval(int, 1, 24 * 60), "Largest median hold time of the credits", "hours"),
        Param("max_balance_share", 0.05, Interval(float, 0, 1), "End-of-day balance counted as near zero, as a "
              "share of the trailing credits"),
        Param("inflow_days", 30, Interval(int, 1, 366), "Days of credits the balance is compared to", "days"),
        Param("min_low_days_share", 0.8, Interval(float, 0, 1, closed="right"),
              "Share of the period's days with a near-zero balance"),
        Param("max_living_share", 0.05, Interval(float, 0, 1, closed="right"),
              "Largest share of debits spent on groceries, utilities and rent"),
    )
    role_hint = "victim"
    decisive = False
    score_doc = ("0.3 at `min_low_days_share` of days near zero, rising linearly to 0.4 when every day is: "
                 "never alerts alone.")
    reason = ("balance near zero on {value:.0%} of days in {period_days} days, debits >= {min_out_ratio:.0%} of "
              "credits held <= {max_hold_hours} h, living costs < {max_living_share:.0%}")
    kernel = pass_through_kernel
    kernel_inputs = {"ts_s": "int64", "amount": "float64", "txn_idx": "int64", "is_living_cost": "int8",
                     "data_end_s": "int64"}
    # Groceries, utilities and rent: by merchant group, or a memo with the word "rent". The ILIKE is a
    # cheap first test (a memo with the word contains the letters): it spares lower-casing most memos.
    kernel_expressions = {"is_living_cost": one_of("merchant_group", LIVING_GROUPS)
                          + " OR coalesce(memo ILIKE '%rent%' AND contains(' ' || lower(memo) || ' ', ' rent '), false)"}
    kernel_details = {"credits": "float64", "debits": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_low_days_share`, rising linearly to 0.4 when every day is near zero."""
        floor = params["min_low_days_share"]
        span = max(1.0 - floor, 1e-9)
        return np.clip(0.3 + 0.1 * (value - floor) / span, 0.3, 0.4)
