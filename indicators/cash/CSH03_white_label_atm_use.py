"""Frequent cash withdrawals at non-bank (white-label) ATMs.

## What it flags
Accounts with at least `min_count` ATM withdrawals at white-label ATMs (`atm_owner_type` =
`white_label`) inside any window of `window_days` days, where those are at least `min_share` of all
the account's ATM withdrawals in that window. Qualifying windows that overlap form one episode,
reported as one hit whose evidence is every white-label withdrawal in it.

## Why it matters
White-label ATMs stand in convenience stores, gas stations, hotels, motels and casinos: the places
where short-stay sexual exploitation happens and where cash for the controller is drawn without
going near a bank branch. FINTRAC (2021) lists frequent withdrawals at non-bank ATMs among the
indicators of trafficking for sexual exploitation.

## Typical false positives
People living in rural areas or small towns where the only ATM is in a store; casino regulars;
truck drivers. Check where the ATMs are and the customer's home and occupation. Never alerts on its
own (see the score).

## Data needed
`atm_owner_type` on ATM rows (`bank` or `white_label`, or the ATM network id mapped onto these by
the profile); without it the indicator is skipped.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.kernels.windows import count_share_windows
from followmoney.params import Interval, Param

ATM = 1  # position of "atm" in followmoney.schema.CHANNELS, the coding of postings.channel_code


@numba.njit(cache=True, nogil=True)
def white_label_atm_kernel(offsets, ts_s, amount, channel_code, is_white_label, min_count, min_share,
                           window_days):  # pragma: no cover - jitted; tested through the naive reference
    """White-label ATM episodes per account (kernel hit contract of `followmoney.indicator`)."""
    withdrawals = (channel_code == ATM) & (amount < 0)
    return count_share_windows(offsets, ts_s, withdrawals, withdrawals & (is_white_label == 1),
                               np.int64(window_days) * 86400, min_count, min_share, np.int64(0))


class CSH03(Indicator):
    id = "CSH03"
    name = "white_label_atm_use"
    title = "Frequent withdrawals at non-bank ATMs (stores, gas stations, hotels, casinos)"
    family = "cash"
    typologies = ("sexual_exploitation",)
    sources = ("FT21",)
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account", "atm_owner_type")
    params = (
        Param("min_count", 6, Interval(int, 1, None), "White-label ATM withdrawals needed in one window"),
        Param("min_share", 0.5, Interval(float, 0, 1, closed="right"),
              "Smallest share of the window's ATM withdrawals made at white-label ATMs"),
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
    )
    kernel = white_label_atm_kernel
    kernel_inputs = {"ts_s": "int64", "amount": "float64", "channel_code": "int8", "is_white_label": "int8"}
    role_hint = None
    # Not decisive: many lawful customers only have a store ATM nearby; it corroborates other flags.
    decisive = False
    score_doc = ("0.21 at `min_count` white-label withdrawals in the episode, +0.02 per extra one, capped at 0.29: "
                 "never alerts alone, and with the default threshold 0.5 an alert needs three families.")
    reason = ("{value:.0f} withdrawals at white-label ATMs within {window_days} days, "
              ">= {min_share:.0%} of the account's ATM withdrawals")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.21 at `min_count`, +0.02 per extra withdrawal, capped at 0.29."""
        return np.clip(0.21 + 0.02 * (value - params["min_count"]), 0.21, 0.29)
