"""Card, ATM and cash activity in several cities within days, more than once.

## What it flags
Accounts with at least `min_occurrences` occurrences, starting within `period_days` days of each
other, of in-person activity (card payments, ATM and cash transactions with a `city`) in at least
`min_cities` distinct cities inside a window of `window_days` days. Qualifying windows that
overlap form one occurrence; occurrences grouped greedily from the earliest form one hit whose
evidence is every located transaction of its occurrences.

## Why it matters
Victims of sexual exploitation are moved from city to city (the "circuit") so that clients see new
faces and victims lose their bearings; their cards and cash show up in a new city every few days.
FinCEN (2020) and FINTRAC (2016) list transactions from many locations in a short time among the
indicators of human trafficking.

## Typical false positives
Travelling salespeople, truck drivers, touring musicians, consultants, people on holiday or road
trips. Check the occupation; repeated travel alone says little. Never alerts on its own (see the
score).

## Data needed
`city` on card, ATM and cash rows (the place of the terminal or branch, not the customer's
address). Online card payments should carry no city, or they would count as travel.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param

CASH, ATM, CARD = 0, 1, 6  # positions in followmoney.schema.CHANNELS, the coding of postings.channel_code


@numba.njit(cache=True, nogil=True)
def multi_city_kernel(offsets, ts_s, channel_code, city_code, min_cities, window_days, min_occurrences,
                      period_days):  # pragma: no cover - jitted; tested through the naive reference
    """Multi-city episodes per account (kernel hit contract of `followmoney.indicator`)."""
    window_s = np.int64(window_days) * 86400
    period_s = np.int64(period_days) * 86400
    located = ((channel_code == CASH) | (channel_code == ATM) | (channel_code == CARD)) & (city_code >= 0)
    n_codes = 1
    for c in city_code:
        if c + 1 > n_codes:
            n_codes = c + 1
    # One count per city code for the whole bucket; each account leaves it all zero again.
    counts = np.zeros(n_codes, dtype=np.int64)
    start_row = [np.int64(0) for _ in range(0)]
    end_row = [np.int64(0) for _ in range(0)]
    value = [np.float64(0) for _ in range(0)]
    ev_ptr = [np.int64(0)]
    ev_rows = [np.int64(0) for _ in range(0)]
    for a in range(len(offsets) - 1):
        lo, hi = offsets[a], offsets[a + 1]
        rows = np.flatnonzero(located[lo:hi]) + lo
        n = len(rows)
        if n == 0:
            continue
        tc = ts_s[rows]
        # Occurrences: merged qualifying windows [t - window_s, t], as (start_ts, end_ts).
        occ_start = [np.int64(0) for _ in range(0)]
        occ_end = [np.int64(0) for _ in range(0)]
        left = 0
        distinct = 0
        for k in range(n):
            c = city_code[rows[k]]
            counts[c] += 1
            if counts[c] == 1:
                distinct += 1
            t = tc[k]
            while tc[left] < t - window_s:
                c0 = city_code[rows[left]]
                counts[c0] -= 1
                if counts[c0] == 0:
                    distinct -= 1
                left += 1
            if distinct < min_cities:
                continue
            if len(occ_end) > 0 and t - window_s <= occ_end[-1]:
                occ_end[-1] = t
            else:
                occ_start.append(t - window_s)
                occ_end.append(t)
        for k in range(left, n):
            counts[city_code[rows[k]]] -= 1
        s = 0
        n_occ = len(occ_start)
        while s < n_occ:
            e = s
            while e + 1 < n_occ and occ_start[e + 1] - occ_start[s] <= period_s:
                e += 1
            if e - s + 1 < min_occurrences:
                s += 1
                continue
            for o in range(s, e + 1):
                i0 = np.searchsorted(tc, occ_start[o], side="left")
                i1 = np.searchsorted(tc, occ_end[o], side="right")
                if o == s:
                    start_row.append(rows[i0])
                for i in range(i0, i1):
                    ev_rows.append(rows[i])
            end_row.append(ev_rows[-1])
            value.append(np.float64(e - s + 1))
            ev_ptr.append(len(ev_rows))
            s = e + 1
    return (np.array(start_row, dtype=np.int64), np.array(end_row, dtype=np.int64),
            np.array(value, dtype=np.float64), np.array(ev_ptr, dtype=np.int64),
            np.array(ev_rows, dtype=np.int64))


class GEO01(Indicator):
    id = "GEO01"
    name = "multi_city_movement"
    title = "In-person activity in several cities within days, recurring"
    family = "movement"
    typologies = ("sexual_exploitation", "labour_exploitation")
    sources = ("F20", "FT16")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account", "city")
    params = (
        # The reference suggests 3 cities; on the simulated population (6 % of card/ATM events away from
        # home) 3 flags one account in five, 4 fewer than one in a hundred, while circuits cover more.
        Param("min_cities", 4, Interval(int, 2, None), "Distinct cities needed inside one window"),
        Param("window_days", 7, Interval(int, 1, 90), "Length of the sliding window", "days"),
        Param("min_occurrences", 2, Interval(int, 1, None), "Occurrences needed within the period"),
        Param("period_days", 60, Interval(int, 1, 366), "Period that groups occurrences into one hit", "days"),
    )
    kernel = multi_city_kernel
    kernel_inputs = {"ts_s": "int64", "channel_code": "int8", "city_code": "int32"}
    role_hint = None
    # Not decisive: travel is ordinary; the circuit matters only next to cash and flow signals.
    decisive = False
    score_doc = ("0.21 at `min_occurrences` occurrences in the hit, +0.04 per extra one, capped at 0.29: "
                 "never alerts alone, and with the default threshold 0.5 an alert needs three families.")
    reason = ("{value:.0f} times active in {min_cities}+ cities within {window_days} days, "
              "within {period_days} days")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.21 at `min_occurrences`, +0.04 per extra occurrence, capped at 0.29."""
        return np.clip(0.21 + 0.04 * (value - params["min_occurrences"]), 0.21, 0.29)
