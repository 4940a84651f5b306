"""Window episodes: the numba twin of `indicators/_sql.py::window_episodes`, for kernels in the pass.

Many running-cost and labour rules say "at least N such payments (or N distinct payees, cities,
days) within W days". As SQL each rule scanned postings for its events and self-joined them per
window; in the shared pass a rule only marks its events, and `window_episodes` does the rest with
the very semantics of the SQL building block, so a rule moved from SQL to a kernel keeps its hits
(tests/test_indicator_kernels_episodes.py checks each against its former SQL):

* every event anchors the window of events within the `window_s` seconds before it, both ends
  inclusive, events in the same second as the anchor included;
* an anchor qualifies when its window's aggregates meet the rule's condition: `n` events,
  `n_distinct` distinct non-negative keys, `total` (sum of absolute amounts) against `ref` (the
  largest non-NaN `ref` of the window);
* the events of qualifying windows are the evidence; evidence events more than `window_s` apart
  start a new episode, and each episode is one hit: its first and last timestamp, its evidence in
  (ts_s, txn_idx) order, and the statistics of `STATS`.
"""

from __future__ import annotations

import numba
import numpy as np

from followmoney.kernels.living import round_cents
from followmoney.kernels.windows import empty_rows, empty_values

STATS = ("total_amount", "n", "n_distinct", "n_keyed", "spend")
"""Columns of the statistics `window_episodes` returns per episode, in order: the cent-rounded sum
of absolute amounts, the events, the distinct keys, the events with a key, and the sum of -amount."""

TOTAL_AMOUNT, N, N_DISTINCT, N_KEYED, SPEND = range(len(STATS))
NEVER = np.int64(2**62)
"""A count threshold no window reaches: leaves that part of the condition out."""


@numba.njit(cache=True, nogil=True)
def _dense_keys(key):  # pragma: no cover - jitted
    """`key` renumbered 0..k-1 (-1 stays -1), and k."""
    present = np.empty(len(key), dtype=np.int64)
    m = 0
    for j in range(len(key)):
        if key[j] >= 0:
            present[m] = key[j]
            m += 1
    uniq = np.unique(present[:m])
    dense = np.full(len(key), -1, dtype=np.int64)
    for j in range(len(key)):
        if key[j] >= 0:
            dense[j] = np.searchsorted(uniq, key[j])
    return dense, len(uniq)


@numba.njit(cache=True, nogil=True)
def window_episodes(offsets, ts_s, ts, amount, events, key, ref, window_s, min_n, min_distinct, or_min_n,
                    or_min_distinct, use_ref):  # pragma: no cover - jitted
    """Hits of a window-episode rule over one bucket.

    Args:
        offsets: account row ranges of the bucket.
        ts_s: postings column.
        ts: postings column as int64 microseconds (a hit's bounds are the smallest and largest `ts`
            of its evidence).
        amount: postings column.
        events: the rows that are events of the rule, ascending: the work is proportional to them,
            not to the bucket. Rules collect them in one loop over the bucket (faster than a mask
            of array expressions, each of which is a pass and a temporary array).
        key: int64 key of each event for the distinct counts, -1 for none (NULL in the SQL); an
            empty array when the rule counts no keys.
        ref: float64 reference of each event for `total >= ref` (NaN for none); empty without.
        window_s: window length in seconds.
        min_n: an anchor qualifies when `n >= min_n and n_distinct >= min_distinct`,
        min_distinct: (see `min_n`)
        or_min_n: ... or when `n >= or_min_n` (`NEVER` leaves the part out),
        or_min_distinct: ... or when `n_distinct >= or_min_distinct` (`NEVER` leaves it out),
        use_ref: ... or when `total >= ref`.

    Returns:
        `(start_row, end_row, ev_ptr, ev_rows, stats)`, `stats` one row of `STATS` per hit.
    """
    start_row = empty_rows()
    end_row = empty_rows()
    ev_ptr = empty_rows()
    ev_ptr.append(0)
    ev_rows = empty_rows()
    stats = empty_values()
    if len(key):
        dense_all, n_keys = _dense_keys(key)
    else:
        dense_all, n_keys = np.full(len(events), -1, dtype=np.int64), 0
    counts = np.zeros(max(n_keys, 1), dtype=np.int64)
    flagged_all = np.zeros(len(events), dtype=np.bool_)
    p = 0
    for a in range(len(offsets) - 1):
        if p >= len(events):
            break
        first_ev = p
        while p < len(events) and events[p] < offsets[a + 1]:
            p += 1
        if p == first_ev:
            continue
        ev = events[first_ev:p]
        dense = dense_all[first_ev:p]
        flagged = flagged_all[first_ev:p]
        m = len(ev)
        lo = 0
        hi = 0
        distinct = 0
        marked = 0  # events before this index are already evidence
        i = 0
        while i < m:
            t = ts_s[ev[i]]
            # Anchors in the same second share one window: it ends after the last of them.
            while hi < m and ts_s[ev[hi]] <= t:
                if dense[hi] >= 0:
                    if counts[dense[hi]] == 0:
                        distinct += 1
                    counts[dense[hi]] += 1
                hi += 1
            while ts_s[ev[lo]] < t - window_s:
                if dense[lo] >= 0:
                    counts[dense[lo]] -= 1
                    if counts[dense[lo]] == 0:
                        distinct -= 1
                lo += 1
            n = hi - lo
            ok = (n >= min_n and distinct >= min_distinct) or n >= or_min_n or distinct >= or_min_distinct
            if not ok and use_ref:
                # Summed afresh, in event order, rather than kept as a running sum: a running sum
                # drifts, and `total >= ref` must not flip on a rounding error.
                total = 0.0
                top = np.nan
                for j in range(lo, hi):
                    total += abs(amount[ev[j]])
                    x = ref[first_ev + j]
                    if not np.isnan(x) and (np.isnan(top) or x > top):
                        top = x
                ok = not np.isnan(top) and total >= top
            if ok:
                for j in range(max(lo, marked), hi):
                    flagged[j] = True
                marked = max(marked, hi)
            i = hi
        for j in range(lo, hi):
            if dense[j] >= 0:
                counts[dense[j]] = 0
        # Episodes: evidence events more than a window apart belong to different hits.
        j = 0
        while j < m:
            if not flagged[j]:
                j += 1
                continue
            first = ev[j]
            last = ev[j]
            n = 0
            keyed = 0
            distinct = 0
            total = 0.0
            spend = 0.0
            prev = ts_s[ev[j]]
            k = j
            while k < m and (not flagged[k] or ts_s[ev[k]] - prev <= window_s):
                if flagged[k]:
                    r = ev[k]
                    ev_rows.append(r)
                    if ts[r] < ts[first]:
                        first = r
                    if ts[r] > ts[last]:
                        last = r
                    n += 1
                    total += abs(amount[r])
                    spend -= amount[r]
                    if dense[k] >= 0:
                        keyed += 1
                        if counts[dense[k]] == 0:
                            distinct += 1
                        counts[dense[k]] += 1
                    prev = ts_s[r]
                k += 1
            for q in range(j, k):
                if dense[q] >= 0:
                    counts[dense[q]] = 0
            start_row.append(first)
            end_row.append(last)
            ev_ptr.append(len(ev_rows))
            stats.append(round_cents(total))
            stats.append(float(n))
            stats.append(float(distinct))
            stats.append(float(keyed))
            stats.append(spend)
            j = k
    return (np.array(start_row, dtype=np.int64), np.array(end_row, dtype=np.int64), np.array(ev_ptr, dtype=np.int64),
            np.array(ev_rows, dtype=np.int64), np.array(stats, dtype=np.float64).reshape(-1, len(STATS)))


NO_KEYS = np.zeros(0, dtype=np.int64)
"""`key` of a rule that counts events only."""

NO_REFS = np.zeros(0, dtype=np.float64)
"""`ref` of a rule without `total >= ref`."""


@numba.njit(cache=True, nogil=True)
def count_episodes(offsets, ts_s, ts, amount, events, window_s, min_count):  # pragma: no cover - jitted
    """The kernel hits of "at least `min_count` events within `window_s`": value = events of the
    episode, details = [total_amount] (`window_episodes("n >= $min_count", ...)` of the SQL)."""
    start, end, ev_ptr, ev_rows, stats = window_episodes(offsets, ts_s, ts, amount, events, NO_KEYS, NO_REFS, window_s,
                                                         min_count, 0, NEVER, NEVER, False)
    return start, end, stats[:, N].copy(), ev_ptr, ev_rows, stats[:, TOTAL_AMOUNT:TOTAL_AMOUNT + 1].copy()


@numba.njit(cache=True, nogil=True)
def distinct_episodes(offsets, ts_s, ts, amount, events, key, window_s, min_count, min_distinct,
                      with_count):  # pragma: no cover - jitted
    """The kernel hits of "at least `min_count` events and `min_distinct` keys within `window_s`":
    value = distinct keys of the episode, details = [total_amount], and the episode's events when
    `with_count`. `key` is that of each event."""
    start, end, ev_ptr, ev_rows, stats = window_episodes(offsets, ts_s, ts, amount, events, key, NO_REFS,
                                                         window_s, min_count, min_distinct, NEVER, NEVER, False)
    details = np.empty((len(start), 2 if with_count else 1), dtype=np.float64)
    details[:, 0] = stats[:, TOTAL_AMOUNT]
    if with_count:
        details[:, 1] = stats[:, N]
    return start, end, stats[:, N_DISTINCT].copy(), ev_ptr, ev_rows, details
