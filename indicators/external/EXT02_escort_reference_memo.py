"""Payment memos that reference escort bookings or carry an alias in brackets.

## What it flags
Accounts with at least `min_count` transfers (sent or received) within `window_days` days whose
memo contains a term of the `escort_terms` list ("incall", "outcall", "GFE", ...) or has the
shape of an e-mail address followed by an alias in brackets (`name@host (alias)`). The value is
the number of such memos in the episode.

## Why it matters
Clients and controllers reference the booking in e-transfer messages; FINTRAC (2021 and 2016)
reports memos naming (part of) an escort agency, booking vocabulary, and e-transfer addresses
with an alias in brackets.

## Typical false positives
Words with an innocent meaning ("donation", "roses"); lawful escort agencies' own accounts. Memo
text is free text: two memos are required by default, and the score is weak.

## Data needed
`memo`. The `escort_terms` list ships with illustrative defaults; add agency names you know of.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import listed
from followmoney.kernels.episodes import count_episodes
from followmoney.kernels.inputs import ValueLookup
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def escort_memo_kernel(offsets, ts_s, ts, amount, is_customer, escort_memo, window_days,
                       min_count):  # pragma: no cover - jitted
    """Customers' transactions with an escort-booking memo, `min_count` within the window."""
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if escort_memo[r] == 1 and is_customer[r] == 1:
            events[m] = r
            m += 1
    events = events[:m]
    return count_episodes(offsets, ts_s, ts, amount, events, window_days * 86400, min_count)


ESCORT_MEMO = ValueLookup(
    "memo",
    listed("memo", "escort_terms").sql + r"""
    UNION
    -- The bracketed-alias pattern needs an '@': the cheap `contains` spares the regular expression most memos.
    SELECT raw, 1 AS value FROM {values} WHERE contains(raw, '@') AND regexp_matches(raw, '\w+@\S+\s*\(\w+\)')""",
    "int8", 0)
"""Memos with a listed escort term or a bracketed alias (`name@site (alias)`), once per distinct memo."""


class EXT02(Indicator):
    id = "EXT02"
    name = "escort_reference_memo"
    title = "Escort booking references in payment memos"
    family = "external"
    typologies = ("sexual_exploitation",)
    sources = ("FT21", "FT16")
    requires = ("ts", "amount", "memo")
    requires_lists = ("escort_terms",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 2, Interval(int, 1, None), "Memos needed inside one window"),
    )
    role_hint = None
    score_doc = "0.25 at `min_count` memos, +0.05 per extra memo, capped at 0.4."
    reason = "{value:.0f} payment memos referencing escort bookings within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/EXT02.sql).
    kernel = escort_memo_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "is_customer": "int8", "escort_memo": "int8"}
    kernel_lookups = {"escort_memo": ESCORT_MEMO}
    kernel_details = {"total_amount": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra memo, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
