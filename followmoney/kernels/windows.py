"""Shared numba building blocks for per-account time-window rules.

Every function here works on one bucket of postings sorted by (account_key, ts_s, txn_idx), with
`offsets[a]:offsets[a + 1]` the rows of the bucket's a-th account, and returns the kernel hit
contract of `followmoney.indicator`: `(start_row, end_row, value, ev_ptr, ev_rows)`. Indicator
kernels are thin `njit` wrappers that build the boolean masks of their rule from integer-coded
posting features and call one of these, so the window logic is written (and tested) once.

All functions are compiled with `cache=True` in this importable module, so the compiled code is
reused across processes instead of being rebuilt per scan.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def empty_rows():  # pragma: no cover - jitted
    """An empty typed list of int64 (rows, pointers) to append hits to."""
    return [np.int64(0) for _ in range(0)]


@numba.njit(cache=True, nogil=True)
def empty_values():  # pragma: no cover - jitted
    """An empty typed list of float64 (values, details) to append hits to."""
    return [np.float64(0) for _ in range(0)]


@numba.njit(cache=True, nogil=True)
def _pack(start_row, end_row, value, ev_ptr, ev_rows):  # pragma: no cover - jitted
    return (np.array(start_row, dtype=np.int64), np.array(end_row, dtype=np.int64),
            np.array(value, dtype=np.float64), np.array(ev_ptr, dtype=np.int64),
            np.array(ev_rows, dtype=np.int64))


@numba.njit(cache=True, nogil=True)
def _emit_flagged(rows, tc, flagged, ep_start, ep_end, start_row, end_row, value, ev_ptr,
                  ev_rows):  # pragma: no cover - jitted
    """Append one hit: the flagged class rows with ts in [ep_start, ep_end]."""
    i0 = np.searchsorted(tc, ep_start, side="left")
    i1 = np.searchsorted(tc, ep_end, side="right")
    first = np.int64(-1)
    last = np.int64(-1)
    for i in range(i0, i1):
        r = rows[i]
        if flagged[r]:
            ev_rows.append(r)
            if first < 0:
                first = r
            last = r
    start_row.append(first)
    end_row.append(last)
    value.append(np.float64(len(ev_rows) - ev_ptr[len(ev_ptr) - 1]))
    ev_ptr.append(np.int64(len(ev_rows)))


@numba.njit(cache=True, nogil=True)
def count_share_windows(offsets, ts_s, in_class, flagged, window_s, min_count, min_share,
                        min_history_s):  # pragma: no cover - jitted; tested through the indicators' references
    """Episodes where flagged events are both frequent and a large share of a class of events.

    For every class event k of an account the window is `[ts_k - window_s, ts_k]`. It qualifies
    when it holds at least `min_count` flagged class events, the flagged ones are at least
    `min_share` of the class events in it, and the account's first posting is at least
    `min_history_s` seconds before `ts_k`. Qualifying windows that overlap or touch are merged into
    one episode; its evidence (and `value`, their count) is every flagged class event inside it.

    Args:
        offsets: int64[n_accounts + 1] account starts in the bucket.
        ts_s: int64 epoch seconds of each posting.
        in_class: bool per posting: the events the share is taken over (e.g. all cash events).
        flagged: bool per posting, a subset of `in_class` (e.g. cash events at night).
        window_s: window length in seconds.
        min_count: flagged events needed in one window (>= 1).
        min_share: smallest share of flagged among class events in the window.
        min_history_s: how long the account must have been seen before the window's end.
    """
    start_row = empty_rows()
    end_row = empty_rows()
    value = empty_values()
    ev_ptr = [np.int64(0)]
    ev_rows = empty_rows()
    for a in range(len(offsets) - 1):
        lo, hi = offsets[a], offsets[a + 1]
        rows = np.flatnonzero(in_class[lo:hi]) + lo
        n = len(rows)
        if n == 0:
            continue
        tc = ts_s[rows]
        pf = np.zeros(n + 1, dtype=np.int64)
        for k in range(n):
            pf[k + 1] = pf[k] + (1 if flagged[rows[k]] else 0)
        first_ts = ts_s[lo]
        left = 0
        is_open = False
        ep_start = np.int64(0)
        ep_end = np.int64(0)
        for k in range(n):
            t = tc[k]
            while tc[left] < t - window_s:
                left += 1
            nf = pf[k + 1] - pf[left]
            if nf < min_count or nf < min_share * (k - left + 1) or t - first_ts < min_history_s:
                continue
            if is_open and t - window_s <= ep_end:
                ep_end = t
                continue
            if is_open:
                _emit_flagged(rows, tc, flagged, ep_start, ep_end, start_row, end_row, value, ev_ptr, ev_rows)
            is_open = True
            ep_start = t - window_s
            ep_end = t
        if is_open:
            _emit_flagged(rows, tc, flagged, ep_start, ep_end, start_row, end_row, value, ev_ptr, ev_rows)
    return _pack(start_row, end_row, value, ev_ptr, ev_rows)
