"""Frequent cash deposits and no ACH or direct-deposit credits at all.

## What it flags
Accounts that receive at least `min_cash_credits` cash deposits inside a window of `window_days`
days in which they receive no ACH (direct deposit, payroll, benefits) credit at all, once the
account has been seen for at least `min_history_days` days. Qualifying windows that overlap form one
episode, reported as one hit whose evidence is every cash deposit in it.

## Why it matters
An account fed only by cash has no employer, pension or benefit behind it: its money comes from
somewhere the bank cannot see. FinCEN (2020) names frequent cash deposits with no ACH or
direct-deposit inflows among the financial indicators of human trafficking, typical of victims'
and nominees' accounts filled with the proceeds of commercial sex.

## Typical false positives
Cash-intensive small businesses, tipped workers, people paid informally or by cheque cashed
elsewhere, new customers whose salary is still paid to another bank. Check the occupation and the
account type. Never alerts on its own (see the score).

## Data needed
`channel` must tell cash deposits (`cash`) from ACH credits (`ach`). The account's age is measured
from its first transaction in the data, so a short extract understates it.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.kernels.windows import count_share_windows
from followmoney.params import Interval, Param

CASH, ACH = 0, 3  # positions in followmoney.schema.CHANNELS, the coding of postings.channel_code


@numba.njit(cache=True, nogil=True)
def cash_only_kernel(offsets, ts_s, amount, channel_code, min_cash_credits, window_days,
                     min_history_days):  # pragma: no cover - jitted; tested through the naive reference
    """Cash-only episodes per account (kernel hit contract of `followmoney.indicator`)."""
    credits = amount > 0
    cash_in = credits & (channel_code == CASH)
    # A share of 1.0 among cash-or-ACH credits means: not one ACH credit in the window.
    return count_share_windows(offsets, ts_s, cash_in | (credits & (channel_code == ACH)), cash_in,
                               np.int64(window_days) * 86400, min_cash_credits, 1.0,
                               np.int64(min_history_days) * 86400)


class CSH04(Indicator):
    id = "CSH04"
    name = "cash_only_no_ach"
    title = "Frequent cash deposits and no ACH or direct-deposit credits"
    family = "cash"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("F20",)
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("min_cash_credits", 8, Interval(int, 1, None), "Cash deposits needed in one window"),
        Param("window_days", 90, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_history_days", 90, Interval(int, 0, 3660),
              "How long the account must have been seen before the window ends", "days"),
    )
    kernel = cash_only_kernel
    kernel_inputs = {"ts_s": "int64", "amount": "float64", "channel_code": "int8"}
    role_hint = None
    # Not decisive: cash-only accounts are common among small businesses and the unbanked-employed.
    decisive = False
    score_doc = ("0.21 at `min_cash_credits` cash deposits in the episode, +0.01 per extra one, capped at 0.29: "
                 "never alerts alone, and with the default threshold 0.5 an alert needs three families.")
    reason = "{value:.0f} cash deposits and no ACH credit within {window_days} days"

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.21 at `min_cash_credits`, +0.01 per extra deposit, capped at 0.29."""
        return np.clip(0.21 + 0.01 * (value - params["min_cash_credits"]), 0.21, 0.29)
