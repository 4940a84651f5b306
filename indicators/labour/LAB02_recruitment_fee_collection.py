"""Several people paying the same account recruitment, visa or debt fees: the collecting side.

## What it flags
Accounts that receive payments with a memo containing a `recruitment_fee_terms` entry
("recruitment fee", "visa fee", "debt repayment", ...) from at least `min_payers` distinct paying
accounts inside any window of `window_days` days. Payments of overlapping qualifying windows form
one episode, reported as one hit valued at the number of distinct payers.

This is the worker-to-employer side of the reference's `recruitment_fee_payments` ("at least three
individuals paying the same employer or recruiter with a fee, visa or debt memo"). It is an
indicator of its own rather than an arm of LAB01 because it flags the other account: LAB01 flags
the worker who pays (a possible victim, counted in payments), this one the employer or recruiter
who collects (a possible controller, counted in distinct payers). One id with two arms would mix
the two roles in one hit type and one role hint.

## Why it matters
Debt bondage is collected: recruiters and exploitative employers take "fees" for jobs, visas,
travel and housing from each worker they place, often repaid out of wages in instalments
(FinCEN 2014 and 2020). One account receiving such payments from several people is where the
debts of a group of workers end up.

## Typical false positives
Lawful visa-service or placement businesses (extend the profile's lists or exclude them),
lenders and debt-collection agencies whose customers write "debt repayment". Check whether the
payers are the account's own workers.

## Data needed
`memo` of payments and the paying account; the `recruitment_fee_terms` list ships with defaults.
No parties table is needed.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import listed
from followmoney.kernels.episodes import distinct_episodes
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def fee_collection_kernel(offsets, ts_s, ts, amount, counterparty, fee_memo, min_payers,
                          window_days):  # pragma: no cover - jitted
    """Credits with a fee memo from `min_payers` distinct payers within the window."""
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if fee_memo[r] == 1 and amount[r] > 0 and counterparty[r] >= 0:
            events[m] = r
            m += 1
    events = events[:m]
    return distinct_episodes(offsets, ts_s, ts, amount, events, counterparty[events],
                             window_days * 86400, 0, min_payers, False)


class LAB02(Indicator):
    id = "LAB02"
    name = "recruitment_fee_collection"
    title = "Recruitment, visa or debt fees collected from several people"
    family = "labour"
    typologies = ("labour_exploitation",)
    sources = ("F14(sec)", "F20")
    requires = ("ts", "amount", "memo", "payer_account", "beneficiary_account")
    requires_lists = ("recruitment_fee_terms",)
    params = (
        Param("min_payers", 3, Interval(int, 2, None), "Distinct payers of fees inside one window"),
        Param("window_days", 90, Interval(int, 1, 366), "Length of the sliding window", "days"),
    )
    role_hint = "controller"
    decisive = False
    score_doc = "0.3 at `min_payers` payers, +0.05 per extra payer, capped at 0.45."
    reason = "fee, visa or debt payments from {value:.0f} different people within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/LAB02.sql); memos are matched
    # once per distinct memo.
    kernel = fee_collection_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "counterparty": "int64", "fee_memo": "int8"}
    kernel_expressions = {"counterparty": "coalesce(counterparty_key, -1)"}
    kernel_lookups = {"fee_memo": listed("memo", "recruitment_fee_terms")}
    kernel_details = {"total_amount": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_payers`, +0.05 per extra payer, capped at 0.45."""
        return np.clip(0.3 + 0.05 * (value - params["min_payers"]), 0.0, 0.45)
