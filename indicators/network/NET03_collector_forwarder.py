"""Collects payments from many senders and forwards most of it to a few accounts.

## What it flags
Episodes in which an account receives account-to-account credits from at least `min_senders`
distinct senders within `window_days` days (the credits of qualifying windows form one episode
until more than `window_days` days pass between two of them) and, between
the first credit and `forward_hours` after the last, pays at least `min_ratio` of what came in to
its `max_recipients` largest account-to-account recipients. The value is the forwarded share.

## Why it matters
FINTRAC's Project PROTECT describes accounts that receive e-transfers from many clients and pass
them on to one or two people who show the same pattern: the collector is often a victim whose
account is used, the recipients are the controllers. Collection plus forwarding separates this
from an ordinary small business, which keeps its takings.

## Typical false positives
Treasurers of clubs and collections passing money to the organiser, roommates collecting rent for
a landlord, marketplace sellers sweeping takings to their own savings account at another bank.
Check whether the recipients are the holder's own accounts.

## Data needed
Only the accounts, `ts`, `amount` and `channel`: no parties table is needed.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.kernels.flows import (
    anchored_episodes,
    counterparty_keys,
    distinct_anchors,
    earliest_latest,
    pack_hits,
)
from followmoney.kernels.living import round_cents
from followmoney.kernels.windows import empty_rows, empty_values
from followmoney.params import Interval, Param
from followmoney.schema import CHANNELS

# Channels of account-to-account payments, both for collecting and for forwarding.
P2P, TRANSFER, WIRE, ACH = (CHANNELS.index(c) for c in ("p2p", "transfer", "wire", "ach"))


@numba.njit(cache=True, nogil=True)
def collector_forwarder_kernel(offsets, ts_s, ts, txn_idx, amount, channel_code, counterparty_key, min_senders,
                               window_days, min_ratio, max_recipients,
                               forward_hours):  # pragma: no cover - jitted; tested through the naive reference
    """Collect-and-forward episodes per account (kernel hit contract with details `inflow`, `forwarded`,
    `n_recipients`).

    Credits by p2p, transfer, wire or ACH from a sender account form episodes anchored by
    `min_senders` distinct senders (`followmoney.kernels.flows`). The account-to-account debits from
    the episode's first credit second to `forward_hours` after its last are summed per recipient
    and rounded to cents; the `max_recipients` largest (ties: lower counterparty key first) make
    the forwarded amount. Sums are rounded to cents as the SQL rule did, so the share is the same
    whatever order the rows were added in.
    """
    window_s = np.int64(window_days) * 86400
    forward_s = np.int64(forward_hours) * 3600
    key, n_keys = counterparty_keys(counterparty_key)
    n_rows = len(ts_s)
    credit = np.zeros(n_rows, dtype=np.bool_)
    debit = np.zeros(n_rows, dtype=np.bool_)
    for i in range(n_rows):
        c = channel_code[i]
        if key[i] >= 0 and (c == P2P or c == TRANSFER or c == WIRE or c == ACH):
            credit[i] = amount[i] > 0
            debit[i] = amount[i] < 0
    cnt = np.zeros(n_keys, dtype=np.int32)
    seen = np.full(n_keys, -1, dtype=np.int64)
    top_mark = np.full(n_keys, -1, dtype=np.int64)
    paid = np.zeros(n_keys, dtype=np.float64)
    stamp = np.int64(0)
    start_row = empty_rows()
    end_row = empty_rows()
    value = empty_values()
    ev_ptr = [np.int64(0)]
    ev_rows = empty_rows()
    details = empty_values()
    for a in range(len(offsets) - 1):
        lo, hi = offsets[a], offsets[a + 1]
        rows = np.flatnonzero(credit[lo:hi]) + lo
        if len(rows) == 0 or len(rows) < min_senders:
            continue
        anchor = distinct_anchors(rows, ts_s, key, cnt, window_s, min_senders)
        ev, ep_ptr = anchored_episodes(rows, ts_s, anchor, window_s)
        if len(ep_ptr) < 2:
            continue
        out_rows = np.flatnonzero(debit[lo:hi]) + lo
        out_ts = ts_s[out_rows]
        for e in range(len(ep_ptr) - 1):
            in_rows = rows[ev[ep_ptr[e]:ep_ptr[e + 1]]]
            s0 = ts_s[in_rows[0]]
            s1 = ts_s[in_rows[-1]]
            i0 = np.searchsorted(out_ts, s0, side="left")
            i1 = np.searchsorted(out_ts, s1 + forward_s, side="right")
            if i0 == i1:
                continue  # nothing paid on: no recipients, no hit
            total_in = 0.0
            for r in in_rows:
                total_in += amount[r]
            inflow = round_cents(total_in)
            # Paid per recipient, over the keys this episode touches (stamped, never cleared).
            stamp += 1
            touched = empty_rows()
            for i in range(i0, i1):
                r = out_rows[i]
                k = key[r]
                if seen[k] != stamp:
                    seen[k] = stamp
                    paid[k] = 0.0
                    touched.append(k)
                paid[k] -= amount[r]
            keys = np.sort(np.array(touched, dtype=np.int64))
            rounded = np.empty(len(keys), dtype=np.float64)
            for j in range(len(keys)):
                rounded[j] = -round_cents(paid[keys[j]])
            # Largest first; the stable sort keeps ascending keys among equal amounts.
            order = np.argsort(rounded, kind="mergesort")
            n_top = min(max_recipients, len(keys))
            total_out = 0.0
            for j in range(n_top):
                total_out -= rounded[order[j]]
                top_mark[keys[order[j]]] = stamp
            forwarded = round_cents(total_out)
            if not forwarded >= min_ratio * inflow:
                continue
            hit_rows = empty_rows()
            for r in in_rows:
                hit_rows.append(r)
            last = np.int64(-1)
            for i in range(i0, i1):
                r = out_rows[i]
                if top_mark[key[r]] == stamp:
                    hit_rows.append(r)
                    if last < 0 or ts[r] > ts[last]:
                        last = r
            first, _ = earliest_latest(in_rows, ts)
            start_row.append(first)
            end_row.append(last)
            if inflow != 0:
                value.append(forwarded / inflow)
            else:  # unreachable with cent amounts; DuckDB's double division gives inf (or NaN for 0/0)
                value.append(np.inf if forwarded > 0 else np.nan)
            # Evidence in txn_idx order (credits and payments interleaved), as the SQL listed it.
            hit = np.array(hit_rows, dtype=np.int64)
            for j in np.argsort(txn_idx[hit], kind="mergesort"):
                ev_rows.append(hit[j])
            ev_ptr.append(np.int64(len(ev_rows)))
            details.append(inflow)
            details.append(forwarded)
            details.append(np.float64(n_top))
    return pack_hits(start_row, end_row, value, ev_ptr, ev_rows, details, 3)


class NET03(Indicator):
    id = "NET03"
    name = "collector_forwarder"
    title = "Collects from many senders, forwards to a few"
    family = "network"
    typologies = ("sexual_exploitation", "labour_exploitation")
    sources = ("FT21",)
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("min_senders", 8, Interval(int, 2, None), "Distinct senders needed inside one window"),
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_ratio", 0.6, Interval(float, 0, 1, closed="right"), "Share of the inflow forwarded"),
        Param("max_recipients", 3, Interval(int, 1, None), "Recipients the forwarded share is counted over"),
        Param("forward_hours", 72, Interval(int, 0, 24 * 31), "Time allowed after the last credit", "hours"),
    )
    role_hint = "victim"
    decisive = True
    score_doc = "0.6 at `min_ratio` forwarded, rising linearly to 1 when everything is forwarded."
    reason = ("{value:.0%} of credits from {min_senders}+ senders in {window_days} days forwarded to at most "
              "{max_recipients} accounts")
    kernel = collector_forwarder_kernel
    # `ts` (microseconds) gives the hit's window its first credit and last forwarding payment;
    # `txn_idx` orders the evidence; the counterparty key as float64 reads NULL (cash) as NaN,
    # shared with the other kernels.
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "txn_idx": "int64", "amount": "float64",
                     "channel_code": "int8", "counterparty_key": "float64"}
    kernel_details = {"inflow": "float64", "forwarded": "float64", "n_recipients": "int64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.6 at `min_ratio`, linear to 1 at a forwarded share of 1."""
        lo = params["min_ratio"]
        span = max(1.0 - lo, 1e-9)
        return np.clip(0.6 + 0.4 * (value - lo) / span, 0.0, 1.0)
