"""A personal account receiving many transfers from third-party payment processors.

## What it flags
Personal accounts (parties `account_type` = personal) that receive, within `window_days` days,
at least `min_adult` credits from processors tagged `adult` on the `payment_processors` list, or
at least `min_any` credits from any listed processor. The value is the number of processor
credits in the episode; `details.adult_credits` counts the adult-tagged ones.

## Why it matters
Processors that mask originator and beneficiary are used to take payment for sexual services
booked online; FINTRAC (2021) flags personal accounts receiving many processor transfers,
especially from processors associated with adult services or gambling, and FinCEN (2020) the use
of third-party payment processors generally.

## Typical false positives
Online sellers, creators and freelancers paid through processors into a personal account; lawful
adult-content creators. Weak alone.

## Data needed
`counterparty_name` of credits and the parties column `account_type` (skipped without it: a
business account receiving processor payouts is normal). The `payment_processors` list ships with
illustrative defaults; its `adult` tags are illustrative too.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import listed
from followmoney.kernels.episodes import N_KEYED, NEVER, NO_REFS, TOTAL_AMOUNT, N, window_episodes
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def processor_inflows_kernel(offsets, ts_s, ts, amount, is_personal, processor, window_days, min_adult,
                             min_any):  # pragma: no cover - jitted
    """Personal accounts' credits from listed processors: `min_adult` from adult-tagged ones or
    `min_any` from any within the window; value: the credits, details: the total and the adult ones."""
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if processor[r] > 0 and amount[r] > 0 and is_personal[r] == 1:
            events[m] = r
            m += 1
    events = events[:m]
    # Each adult-tagged credit is its own key, so distinct keys count adult credits.
    adult = np.where(processor[events] == 2, events, -1)
    start, end, ev_ptr, ev_rows, stats = window_episodes(offsets, ts_s, ts, amount, events, adult, NO_REFS,
                                                         window_days * 86400, 0, min_adult, min_any, NEVER, False)
    details = np.empty((len(start), 2), dtype=np.float64)
    details[:, 0] = stats[:, TOTAL_AMOUNT]
    details[:, 1] = stats[:, N_KEYED]
    return start, end, stats[:, N].copy(), ev_ptr, ev_rows, details


class PAY05(Indicator):
    id = "PAY05"
    name = "payment_processor_inflows"
    title = "Personal account fed by payment processors"
    family = "payment_instruments"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("FT21", "F20")
    requires = ("ts", "amount", "counterparty_name")
    requires_parties = ("account_type",)
    requires_lists = ("payment_processors",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_adult", 5, Interval(int, 1, None), "Credits from adult-tagged processors needed in a window"),
        Param("min_any", 10, Interval(int, 1, None), "Credits from any listed processor needed in a window"),
    )
    role_hint = None
    score_doc = ("0.3 when the adult-processor arm fires, else 0.25; +0.02 per credit beyond `min_any`, "
                 "capped at 0.4.")
    reason = "{value:.0f} credits from payment processors within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/PAY05.sql); payer names are
    # matched once per distinct name: 2 for an adult-tagged processor, 1 for another listed one.
    kernel = processor_inflows_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "is_personal": "int8", "processor": "int8"}
    kernel_lookups = {"processor": listed("counterparty_name", "payment_processors",
                                          value="CASE WHEN tag = 'adult' THEN 2 ELSE 1 END")}
    kernel_details = {"total_amount": "float64", "adult_credits": "int64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 plus 0.02 per credit beyond `min_any` (adult-arm hits are raised to 0.3 by value), capped at 0.4."""
        base = np.where(value < params["min_any"], 0.3, 0.25)
        return np.clip(base + 0.02 * np.maximum(value - params["min_any"], 0), 0.0, 0.4)
