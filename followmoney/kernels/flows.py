"""Shared numba building blocks for the counterparty window rules of the network family.

NET01 (fan-in), NET02 (fan-out), NET03 (collector-forwarder) and NET06 (gather-scatter) find
episodes the same way, over a rule-specific set of *candidate* postings of one account:

* an **anchor** is a candidate whose window `[ts_s - window, ts_s]` meets the rule's condition
  (say, at least 10 distinct senders). Every candidate of the same second is inside the window,
  before or after it in posting order, as in an SQL `RANGE` frame, so all candidates of one second
  are anchors or none is;
* a candidate is **evidence** when an anchor lies in `[ts_s, ts_s + window]`;
* evidence rows closer than the window to the previous evidence row continue an **episode**; a
  larger gap starts a new one. This is a gap rule over the evidence, not a union of the anchors'
  windows: two anchor windows that do not touch still form one episode when their evidence rows
  are close enough, exactly as the SQL these kernels replaced numbered its episodes.

Counterparties are counted with arrays indexed by the counterparty's account key (keys are dense
integers from 0, see `followmoney.ingest.derive`), not with hash sets: a distinct count then costs
two array updates per posting, and the arrays are reused across the accounts of a bucket (counts
are returned to zero, episode membership uses an increasing stamp instead of clearing).

Every function works on one bucket sorted by (account_key, ts_s, txn_idx) and follows the kernel
hit contract of `followmoney.indicator`. Compiled with `cache=True` in this importable module.
"""

from __future__ import annotations

import numba
import numpy as np

from followmoney.kernels.living import round_cents
from followmoney.kernels.windows import empty_rows, empty_values


@numba.njit(cache=True, nogil=True)
def counterparty_keys(counterparty_key):  # pragma: no cover - jitted; tested through the indicators
    """int64 keys of a float64 counterparty column (NaN = no counterparty, for cash: -1) and the key space.

    Returns:
        (keys, n_keys): keys per posting, and one more than the largest key (0 when there is none),
        the length of the arrays indexed by key.
    """
    n = len(counterparty_key)
    keys = np.empty(n, dtype=np.int64)
    top = np.int64(-1)
    for i in range(n):
        x = counterparty_key[i]
        if np.isnan(x):
            keys[i] = -1
        else:
            k = np.int64(x)
            keys[i] = k
            if k > top:
                top = k
    return keys, top + 1


@numba.njit(cache=True, nogil=True)
def distinct_anchors(rows, ts_s, key, cnt, window_s, minimum):  # pragma: no cover - jitted
    """Which candidates anchor: at least `minimum` distinct keys among the candidates of `[ts_s - window_s, ts_s]`.

    Args:
        rows: bucket rows of one account's candidates, in posting order.
        ts_s: epoch seconds per posting.
        key: counterparty key per posting (>= 0 for every candidate).
        cnt: int32 scratch indexed by key, all zero; returned all zero.
        window_s: window length in seconds.
        minimum: distinct keys needed.

    Returns:
        bool per position of `rows`.
    """
    n = len(rows)
    anchor = np.zeros(n, dtype=np.bool_)
    left = 0
    distinct = 0
    k = 0
    while k < n:
        t = ts_s[rows[k]]
        g = k
        # The whole second enters the window at once: an SQL RANGE frame includes all its peers.
        while g < n and ts_s[rows[g]] == t:
            c = key[rows[g]]
            if cnt[c] == 0:
                distinct += 1
            cnt[c] += 1
            g += 1
        while ts_s[rows[left]] < t - window_s:
            c = key[rows[left]]
            cnt[c] -= 1
            if cnt[c] == 0:
                distinct -= 1
            left += 1
        if distinct >= minimum:
            for i in range(k, g):
                anchor[i] = True
        k = g
    for i in range(left, n):
        cnt[key[rows[i]]] -= 1
    return anchor


@numba.njit(cache=True, nogil=True)
def anchored_episodes(rows, ts_s, anchor, window_s):  # pragma: no cover - jitted
    """Evidence and episodes of one account's candidates, given their anchors (module docstring).

    Returns:
        (ev, ep_ptr): `ev` the positions in `rows` of the evidence, in posting order; episode `e` is
        `ev[ep_ptr[e]:ep_ptr[e + 1]]`. `ep_ptr` is `[0]` when there is no evidence.
    """
    n = len(rows)
    is_ev = np.zeros(n, dtype=np.bool_)
    have = False
    next_anchor = np.int64(0)
    # Backwards: the nearest anchor at or after each candidate. Candidates of one second share
    # their anchor status, so the nearest anchor of a second's first row is found like the others'.
    for k in range(n - 1, -1, -1):
        t = ts_s[rows[k]]
        if anchor[k]:
            have = True
            next_anchor = t
        if have and next_anchor - t <= window_s:
            is_ev[k] = True
    ev = np.flatnonzero(is_ev)
    ep_ptr = [np.int64(0)]
    for i in range(1, len(ev)):
        if ts_s[rows[ev[i]]] - ts_s[rows[ev[i - 1]]] > window_s:
            ep_ptr.append(np.int64(i))
    if len(ev):
        ep_ptr.append(np.int64(len(ev)))
    return ev, np.array(ep_ptr, dtype=np.int64)


@numba.njit(cache=True, nogil=True)
def earliest_latest(hit_rows, ts):  # pragma: no cover - jitted
    """The rows of the earliest and the latest `ts` (microseconds) among `hit_rows` (non-empty).

    A hit's window is `min(ts)` .. `max(ts)` of its evidence. Rows are in (ts_s, txn_idx) order and
    `ts_s` is `ts` rounded to the second, so within one second the first row need not be the
    earliest: the extremes are looked up rather than taken from the ends.
    """
    first = hit_rows[0]
    last = hit_rows[0]
    for r in hit_rows:
        if ts[r] < ts[first]:
            first = r
        if ts[r] > ts[last]:
            last = r
    return first, last


@numba.njit(cache=True, nogil=True)
def pack_hits(start_row, end_row, value, ev_ptr, ev_rows, details, n_details):  # pragma: no cover - jitted
    """The 6-array kernel result: hit arrays and `details` reshaped to (n_hits, n_details)."""
    n = len(start_row)
    return (np.array(start_row, dtype=np.int64), np.array(end_row, dtype=np.int64),
            np.array(value, dtype=np.float64), np.array(ev_ptr, dtype=np.int64),
            np.array(ev_rows, dtype=np.int64), np.array(details, dtype=np.float64).reshape((n, n_details)))


@numba.njit(cache=True, nogil=True)
def fan_episodes(offsets, ts_s, ts, amount, key, n_keys, candidate, window_s, minimum,
                 min_total):  # pragma: no cover - jitted; tested through NET01, NET02 and their references
    """Fan-in / fan-out hits: episodes of candidates anchored by at least `minimum` distinct counterparties.

    One hit per episode whose candidates' absolute amounts add up to at least `min_total`
    (unrounded, as the SQL's `HAVING sum(...) >= ...`). Its value is the number of distinct
    counterparties among the episode's candidates, its evidence the candidates in posting order.

    Args:
        offsets: int64[n_accounts + 1] account starts in the bucket.
        ts_s: int64 epoch seconds per posting.
        ts: int64 epoch microseconds per posting (for the hit window).
        amount: signed amounts.
        key: counterparty keys (`counterparty_keys`).
        n_keys: the key space (`counterparty_keys`).
        candidate: bool per posting: the postings the rule counts (every one has a key >= 0).
        window_s: window length in seconds.
        minimum: distinct counterparties that anchor.
        min_total: smallest episode total (use -inf for none).

    Returns:
        The 6-array kernel result with details (round(total, 2), number of candidates).
    """
    cnt = np.zeros(n_keys, dtype=np.int32)
    seen = np.full(n_keys, -1, dtype=np.int64)
    stamp = np.int64(0)
    start_row = empty_rows()
    end_row = empty_rows()
    value = empty_values()
    ev_ptr = [np.int64(0)]
    ev_rows = empty_rows()
    details = empty_values()
    for a in range(len(offsets) - 1):
        lo, hi = offsets[a], offsets[a + 1]
        rows = np.flatnonzero(candidate[lo:hi]) + lo
        # Fewer candidates than `minimum` cannot hold `minimum` distinct counterparties.
        if len(rows) == 0 or len(rows) < minimum:
            continue
        anchor = distinct_anchors(rows, ts_s, key, cnt, window_s, minimum)
        ev, ep_ptr = anchored_episodes(rows, ts_s, anchor, window_s)
        for e in range(len(ep_ptr) - 1):
            hit_rows = rows[ev[ep_ptr[e]:ep_ptr[e + 1]]]
            stamp += 1
            total = 0.0
            distinct = 0
            for r in hit_rows:
                total += abs(amount[r])
                if seen[key[r]] != stamp:
                    seen[key[r]] = stamp
                    distinct += 1
            if total < min_total:
                continue
            first, last = earliest_latest(hit_rows, ts)
            start_row.append(first)
            end_row.append(last)
            value.append(np.float64(distinct))
            for r in hit_rows:
                ev_rows.append(r)
            ev_ptr.append(np.int64(len(ev_rows)))
            details.append(round_cents(total))
            details.append(np.float64(len(hit_rows)))
    return pack_hits(start_row, end_row, value, ev_ptr, ev_rows, details, 2)
