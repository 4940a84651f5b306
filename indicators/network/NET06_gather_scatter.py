"""A hub that gathers money from many accounts and scatters it to many others.

## What it flags
Accounts that, inside a window of `window_days` days, receive account-to-account credits from at
least `min_senders` distinct accounts, pay at least `min_recipients` distinct accounts, and pay
out at least `min_ratio` of what came in. The transfers of qualifying windows form episodes,
split where more than `window_days` days pass between two of them; each episode is one hit whose
value is the number of distinct counterparties (senders plus recipients) in it.

## Why it matters
Gather-scatter is the hub of a layering network: proceeds from many sources (victims' accounts,
collectors, clients) pool in one account and are at once dispersed to many others (drivers,
recruiters, landlords, mules of the next layer), so the account is a switchboard rather than
anyone's own money.

## Typical false positives
Treasurers of savings circles and clubs, small payroll accounts funded by several clients, money
service businesses, property managers collecting rents and paying owners. Check the account type
and whether the senders and recipients are customers of a declared business.

## Data needed
Only the accounts, `ts`, `amount` and `channel`: no parties table is needed.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.kernels.flows import (
    anchored_episodes,
    counterparty_keys,
    earliest_latest,
    pack_hits,
)
from followmoney.kernels.living import round_cents
from followmoney.kernels.windows import empty_rows, empty_values
from followmoney.params import Interval, Param
from followmoney.schema import CHANNELS

# Channels that move money between accounts for a hub (ACH batches are payroll and bills, not layering).
P2P, TRANSFER, WIRE, CRYPTO = (CHANNELS.index(c) for c in ("p2p", "transfer", "wire", "crypto"))


@numba.njit(cache=True, nogil=True)
def gather_scatter_kernel(offsets, ts_s, ts, account_key, amount, channel_code, counterparty_key, min_senders,
                          min_recipients, window_days,
                          min_ratio):  # pragma: no cover - jitted; tested through the naive reference
    """Gather-scatter episodes per account (kernel hit contract with details `inflow`, `outflow`).

    Moves are postings by p2p, transfer, wire or crypto with another account. A move anchors when
    the moves of `[ts_s - window, ts_s]` (its whole second included) come from `min_senders`
    distinct senders, go to `min_recipients` distinct recipients, and pay out at least `min_ratio`
    of a positive inflow; evidence and episodes as in `followmoney.kernels.flows`.
    """
    window_s = np.int64(window_days) * 86400
    key, n_keys = counterparty_keys(counterparty_key)
    n_rows = len(ts_s)
    move = np.zeros(n_rows, dtype=np.bool_)
    for i in range(n_rows):
        c = channel_code[i]
        move[i] = (key[i] >= 0 and key[i] != account_key[i]
                   and (c == P2P or c == TRANSFER or c == WIRE or c == CRYPTO))
    cnt_in = np.zeros(n_keys, dtype=np.int32)
    cnt_out = np.zeros(n_keys, dtype=np.int32)
    seen_in = np.full(n_keys, -1, dtype=np.int64)
    seen_out = np.full(n_keys, -1, dtype=np.int64)
    stamp = np.int64(0)
    start_row = empty_rows()
    end_row = empty_rows()
    value = empty_values()
    ev_ptr = [np.int64(0)]
    ev_rows = empty_rows()
    details = empty_values()
    for a in range(len(offsets) - 1):
        lo, hi = offsets[a], offsets[a + 1]
        rows = np.flatnonzero(move[lo:hi]) + lo
        n = len(rows)
        if n < min_senders + min_recipients:
            continue  # too few moves for that many distinct counterparties
        anchor = np.zeros(n, dtype=np.bool_)
        left = 0
        n_in = 0
        n_out = 0
        k = 0
        while k < n:
            t = ts_s[rows[k]]
            g = k
            while g < n and ts_s[rows[g]] == t:
                r = rows[g]
                if amount[r] > 0:
                    if cnt_in[key[r]] == 0:
                        n_in += 1
                    cnt_in[key[r]] += 1
                elif amount[r] < 0:
                    if cnt_out[key[r]] == 0:
                        n_out += 1
                    cnt_out[key[r]] += 1
                g += 1
            while ts_s[rows[left]] < t - window_s:
                r = rows[left]
                if amount[r] > 0:
                    cnt_in[key[r]] -= 1
                    if cnt_in[key[r]] == 0:
                        n_in -= 1
                elif amount[r] < 0:
                    cnt_out[key[r]] -= 1
                    if cnt_out[key[r]] == 0:
                        n_out -= 1
                left += 1
            if n_in >= min_senders and n_out >= min_recipients:
                # Sums only where the counts qualify: summed afresh over the window, in posting
                # order, rather than kept as a running total that drifts by rounding errors.
                inflow = 0.0
                outflow = 0.0
                for i in range(left, g):
                    x = amount[rows[i]]
                    if x > 0:
                        inflow += x
                    elif x < 0:
                        outflow -= x
                if inflow > 0 and outflow >= min_ratio * inflow:
                    for i in range(k, g):
                        anchor[i] = True
            k = g
        for i in range(left, n):
            r = rows[i]
            if amount[r] > 0:
                cnt_in[key[r]] -= 1
            elif amount[r] < 0:
                cnt_out[key[r]] -= 1
        ev, ep_ptr = anchored_episodes(rows, ts_s, anchor, window_s)
        for e in range(len(ep_ptr) - 1):
            hit_rows = rows[ev[ep_ptr[e]:ep_ptr[e + 1]]]
            stamp += 1
            senders = 0
            recipients = 0
            inflow = 0.0
            outflow = 0.0
            for r in hit_rows:
                if amount[r] > 0:
                    inflow += amount[r]
                    if seen_in[key[r]] != stamp:
                        seen_in[key[r]] = stamp
                        senders += 1
                elif amount[r] < 0:
                    outflow -= amount[r]
                    if seen_out[key[r]] != stamp:
                        seen_out[key[r]] = stamp
                        recipients += 1
            first, last = earliest_latest(hit_rows, ts)
            start_row.append(first)
            end_row.append(last)
            value.append(np.float64(senders + recipients))
            for r in hit_rows:
                ev_rows.append(r)
            ev_ptr.append(np.int64(len(ev_rows)))
            details.append(round_cents(inflow))
            details.append(round_cents(outflow))
    return pack_hits(start_row, end_row, value, ev_ptr, ev_rows, details, 2)


class NET06(Indicator):
    id = "NET06"
    name = "gather_scatter"
    title = "Hub gathering from many accounts and paying many"
    family = "network"
    typologies = ("laundering_of_proceeds", "sexual_exploitation")
    sources = ("FATF18(sec)", "FT21")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("min_senders", 5, Interval(int, 2, None), "Distinct senders inside one window"),
        Param("min_recipients", 5, Interval(int, 2, None), "Distinct recipients inside one window"),
        Param("window_days", 14, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_ratio", 0.8, Interval(float, 0, 1, closed="right"),
              "Share of the window's inflow that is paid out in it"),
    )
    role_hint = "controller"
    decisive = False
    score_doc = ("0.3 at `min_senders + min_recipients` counterparties, +0.02 per extra one, capped at 0.45: "
                 "never alerts on its own.")
    reason = ("{value:.0f} counterparties: {min_senders}+ senders and {min_recipients}+ recipients within "
              "{window_days} days, {min_ratio:.0%} paid out")
    kernel = gather_scatter_kernel
    # `ts` (microseconds) gives each hit's window the earliest and latest instant of its evidence;
    # `account_key` tells a transfer between the account's own legs from one with another account;
    # the counterparty key as float64 reads NULL (cash) as NaN, shared with the other kernels.
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "account_key": "int32", "amount": "float64",
                     "channel_code": "int8", "counterparty_key": "float64"}
    kernel_details = {"inflow": "float64", "outflow": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_senders + min_recipients`, +0.02 per extra counterparty, capped at 0.45."""
        base = params["min_senders"] + params["min_recipients"]
        return np.clip(0.3 + 0.02 * (value - base), 0.0, 0.45)
