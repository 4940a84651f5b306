"""Numba helpers shared by the running-cost and flow kernels (RUN10, FLW02, ...).

These rules were SQL first; their kernels must give the very hits the SQL gave, so the helpers
here reproduce SQL details exactly rather than approximately:

* `round_cents` is DuckDB's `round(x, 2)` on a DOUBLE (the exact binary value rounded, halves away
  from zero; not numpy's `x * 100` rounded half to even), used where the SQL rounds sums to cents
  before comparing or reporting them;
* `episode_ends` groups evidence rows into hits the way the SQL building block
  `indicators._sql.window_episodes` does: a new hit starts when the gap to the previous evidence
  posting is longer than the window.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _split(a: float) -> tuple[float, float]:  # pragma: no cover - jitted
    """Veltkamp split: a = hi + lo exactly, each with at most 26 significant bits."""
    c = 134217729.0 * a  # 2^27 + 1
    hi = c - (c - a)
    return hi, a - hi


@numba.njit(cache=True, nogil=True)
def round_cents(x: float) -> float:  # pragma: no cover - jitted; tested against DuckDB
    """DuckDB's `round(x, 2)` for a DOUBLE: the exact value of `x` to cents, halves away from zero.

    DuckDB rounds the exact binary value (round(0.345, 2) is 0.34, since 0.345 is stored as
    0.34499999...), while `x * 100` in doubles gives 34.5. So the product is kept exact as
    `p + e` (Dekker's two-product) and the half test looks at `e` when `p` is an exact half.
    """
    # Halves go away from zero, so rounding is symmetric: round |x| and put the sign back.
    a = abs(x)
    p = a * 100.0
    if not np.isfinite(p):
        return x
    if p >= 4503599627370496.0:  # 2^52: p is already a whole number
        return np.copysign(p / 100.0, x)
    a_hi, a_lo = _split(a)
    e = (a_hi * 100.0 - p) + a_lo * 100.0  # exact: 100 has few bits, so its split is (100, 0)
    f = np.floor(p)
    d = p - f  # exact for 0 <= p < 2^52
    if d > 0.5 or (d == 0.5 and e >= 0):
        f += 1.0
    return np.copysign(f / 100.0, x)


@numba.njit(cache=True, nogil=True)
def episode_ends(rows: np.ndarray, ts_s: np.ndarray, gap_s: int) -> np.ndarray:  # pragma: no cover - jitted
    """Split evidence rows (in posting order) into episodes; returns the end (exclusive) of each.

    A new episode starts at a row more than `gap_s` seconds after the previous evidence row, as
    the SQL's `ts_s - lag(ts_s) > window` does. Episode k is `rows[ends[k-1]:ends[k]]` (from 0).
    """
    ends = [np.int64(0) for _ in range(0)]
    for k in range(1, len(rows)):
        if ts_s[rows[k]] - ts_s[rows[k - 1]] > gap_s:
            ends.append(k)
    if len(rows):
        ends.append(len(rows))
    return np.array(ends, dtype=np.int64)
