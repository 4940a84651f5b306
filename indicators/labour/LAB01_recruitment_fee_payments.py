"""Payments of recruitment, placement, visa or debt fees, or to recruitment agencies of concern.

## What it flags
Accounts that make at least `min_count` payments within `window_days` days either to a payee on
the `recruitment_agencies` list (entries tagged `licensed` are a registry of agencies in good
standing and never count) or with a memo containing a `recruitment_fee_terms` entry
("recruitment fee", "visa fee", "debt repayment", ...). The value is the number of such payments
in the episode.

This is the worker's (payer's) side of the reference's `recruitment_fee_payments`. Its other arm,
several individuals paying the same employer or recruiter, flags the collecting account and is
LAB02 `recruitment_fee_collection`.

## Why it matters
Debt bondage starts with recruitment fees: workers pay unlicensed agencies for jobs, visas and
travel, then repay inflated debts out of their wages (FinCEN 2014 and 2020). Repeated fee and
debt payments from a worker's account are a labour-exploitation signal on the victim side.

## Typical false positives
Lawful placement or visa-service fees (extend the `licensed` entries); repayments of ordinary
personal loans described as "debt". Weak alone.

## Data needed
`counterparty_name` and `memo` of payments. Both lists ship with illustrative defaults; add your
licensed-agency registry with tag `licensed`.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import listed
from followmoney.kernels.episodes import count_episodes
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def fee_payments_kernel(offsets, ts_s, ts, amount, is_customer, agency_of_concern, fee_memo, window_days,
                        min_count):  # pragma: no cover - jitted
    """Customers' payments to an agency of concern or with a fee memo, `min_count` within the window."""
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if (agency_of_concern[r] == 1 or fee_memo[r] == 1) and amount[r] < 0 and is_customer[r] == 1:
            events[m] = r
            m += 1
    events = events[:m]
    return count_episodes(offsets, ts_s, ts, amount, events, window_days * 86400, min_count)


class LAB01(Indicator):
    id = "LAB01"
    name = "recruitment_fee_payments"
    title = "Recruitment, visa or debt fee payments"
    family = "labour"
    typologies = ("labour_exploitation",)
    sources = ("F14(sec)", "F20")
    requires = ("ts", "amount", "counterparty_name", "memo")
    requires_lists = ("recruitment_agencies", "recruitment_fee_terms")
    params = (
        Param("window_days", 90, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 2, Interval(int, 1, None), "Fee payments needed inside one window"),
    )
    role_hint = None
    score_doc = "0.25 at `min_count` payments, +0.05 per extra payment, capped at 0.4."
    reason = "{value:.0f} recruitment or debt fee payments within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/LAB01.sql); payee names and
    # memos are each matched once per distinct value. Agencies tagged `licensed` are not of concern.
    kernel = fee_payments_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "is_customer": "int8",
                     "agency_of_concern": "int8", "fee_memo": "int8"}
    kernel_lookups = {
        "agency_of_concern": listed("counterparty_name", "recruitment_agencies",
                                    value="CASE WHEN tag IS DISTINCT FROM 'licensed' THEN 1 ELSE 0 END"),
        "fee_memo": listed("memo", "recruitment_fee_terms"),
    }
    kernel_details = {"total_amount": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra payment, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
