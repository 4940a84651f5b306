"""Money that only passes through: inflows swept out again within hours, repeatedly.

## What it flags
Accounts with at least `min_events` pass-through events inside `period_days` days. An event is a
credit of at least `min_inflow` followed, within `window_hours`, by debits that add up to at least
`min_ratio` of it (debits are counted in posting order after the credit, up to the debit that
reaches the ratio). Events grouped greedily from the earliest form one hit.

## Why it matters
Victims' and nominees' accounts are often controlled by the trafficker: what victims earn or what
clients pay lands in the account and is moved on at once to the controller or taken out in cash,
so the balance stays near zero. FINTRAC lists deposits followed quickly by cash-out or transfers
among the indicators of trafficking for sexual exploitation.

## Typical false positives
People who move their salary to their own savings account at another bank; small businesses that
pay suppliers out of the day's takings; money-service businesses. Check whether the recipients are
the holder's own accounts.

## Data needed
Only `ts`, `amount` and the accounts: works on any transaction table.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def rapid_pass_through_kernel(offsets, ts_s, amount, min_inflow, min_ratio, window_hours, min_events, period_days):  # pragma: no cover - jitted; tested through py_func and the naive reference
    """Find pass-through episodes per account.

    Arrays are one bucket of postings sorted by (account, ts_s, txn_idx): `offsets` int64[n_accounts + 1],
    `ts_s` int64 epoch seconds, `amount` float64 signed (credit > 0). Returns the kernel hit
    contract of `followmoney.indicator`: (start_row, end_row, value, ev_ptr, ev_rows).
    """
    window_s = window_hours * 3600
    period_s = period_days * 86400
    start_row = [np.int64(0) for _ in range(0)]
    end_row = [np.int64(0) for _ in range(0)]
    value = [np.float64(0) for _ in range(0)]
    ev_ptr = [np.int64(0)]
    ev_rows = [np.int64(0) for _ in range(0)]
    for a in range(len(offsets) - 1):
        lo, hi = offsets[a], offsets[a + 1]
        # Events of this account: inflow row, last debit row, evidence rows (flat, with pointers).
        ev_in = [np.int64(0) for _ in range(0)]
        ev_last = [np.int64(0) for _ in range(0)]
        ev_from = [np.int64(0)]
        ev_flat = [np.int64(0) for _ in range(0)]
        for i in range(lo, hi):
            if amount[i] < min_inflow:
                continue
            need = min_ratio * amount[i]
            out = 0.0
            mark = len(ev_flat)
            ev_flat.append(i)
            done = -1
            j = i + 1
            while j < hi and ts_s[j] - ts_s[i] <= window_s:
                if amount[j] < 0:
                    out -= amount[j]
                    ev_flat.append(j)
                    if out >= need:
                        done = j
                        break
                j += 1
            if done < 0:
                del ev_flat[mark:]
                continue
            ev_in.append(i)
            ev_last.append(done)
            ev_from.append(len(ev_flat))
        s = 0
        n_ev = len(ev_in)
        while s < n_ev:
            e = s
            while e + 1 < n_ev and ts_s[ev_in[e + 1]] - ts_s[ev_in[s]] <= period_s:
                e += 1
            if e - s + 1 < min_events:
                s += 1
                continue
            rows = np.array(ev_flat[ev_from[s]:ev_from[e + 1]], dtype=np.int64)
            rows = np.unique(rows)
            last = ev_last[s]
            for k in range(s, e + 1):
                last = max(last, ev_last[k])
            start_row.append(ev_in[s])
            end_row.append(last)
            value.append(np.float64(e - s + 1))
            for r in rows:
                ev_rows.append(r)
            ev_ptr.append(len(ev_rows))
            s = e + 1
    return (np.array(start_row, dtype=np.int64), np.array(end_row, dtype=np.int64),
            np.array(value, dtype=np.float64), np.array(ev_ptr, dtype=np.int64),
            np.array(ev_rows, dtype=np.int64))


class FLW01(Indicator):
    id = "FLW01"
    name = "rapid_pass_through"
    title = "Inflows swept out again within hours, repeatedly"
    family = "flow_structure"
    typologies = ("sexual_exploitation", "labour_exploitation", "laundering_of_proceeds")
    sources = ("FT16", "F20")
    requires = ("ts", "amount", "payer_account", "beneficiary_account")
    params = (
        Param("min_inflow", 500.0, Interval(float, 0, None, closed="neither"),
              "Smallest credit that can start an event", "reporting currency"),
        Param("min_ratio", 0.9, Interval(float, 0, 1, closed="right"),
              "Share of the credit that must leave again"),
        Param("window_hours", 48, Interval(int, 1, 24 * 31), "Time allowed for the money to leave", "hours"),
        Param("min_events", 3, Interval(int, 1, None), "Events needed within the period"),
        Param("period_days", 30, Interval(int, 1, 366), "Period that groups events into one hit", "days"),
    )
    kernel = rapid_pass_through_kernel
    kernel_inputs = {"ts_s": "int64", "amount": "float64"}
    role_hint = "mule"
    decisive = True
    score_doc = "0.6 at `min_events` events in the hit, +0.1 per extra event, capped at 1."
    reason = ("{value:.0f} credits of {min_inflow:,.0f}+ each moved out at >= {min_ratio:.0%} within "
              "{window_hours} h, within {period_days} days")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.6 at `min_events`, +0.1 per extra event, capped at 1."""
        return np.clip(0.6 + 0.1 * (value - params["min_events"]), 0.0, 1.0)
