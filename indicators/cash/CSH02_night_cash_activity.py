"""Cash paid in or taken out at night, repeatedly and as a large share of the account's cash use.

## What it flags
Accounts with at least `min_count` cash or ATM transactions (deposits or withdrawals) at a local
hour in `[night_start_hour, night_end_hour)` (wrapping past midnight) inside any window of
`window_days` days, where those night-time transactions are at least `min_share` of all the
account's cash and ATM transactions in that window. Qualifying windows that overlap form one
episode, reported as one hit whose evidence is every night-time cash transaction in it.

## Why it matters
Sexual exploitation runs at night: takings from clients are paid in, or cash for the controller is
taken out, between 22:00 and 06:00, often at ATMs near hotels or venues. FINTRAC lists cash
deposits and withdrawals between 22:00 and 06:00 among the indicators of trafficking for sexual
exploitation. The share condition keeps people who simply use a lot of cash, some of it late, out.

## Typical false positives
Night-shift workers (nurses, security staff, hospitality staff paid in tips), bars and restaurants
depositing the evening's takings at a night safe. Check the occupation and whether the cash is
deposited or withdrawn. Never alerts on its own (see the score).

## Data needed
`channel` (cash and ATM events) and `ts`; the local hour comes from the profile's time zone, so
data from several time zones needs one profile per zone.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.kernels.windows import count_share_windows
from followmoney.params import Interval, Param

CASH, ATM = 0, 1  # positions in followmoney.schema.CHANNELS, the coding of postings.channel_code


@numba.njit(cache=True, nogil=True)
def night_cash_kernel(offsets, ts_s, channel_code, local_hour, night_start_hour, night_end_hour, min_count,
                      min_share, window_days):  # pragma: no cover - jitted; tested through the naive reference
    """Night-time cash episodes per account (kernel hit contract of `followmoney.indicator`)."""
    in_class = (channel_code == CASH) | (channel_code == ATM)
    if night_start_hour > night_end_hour:
        night = (local_hour >= night_start_hour) | (local_hour < night_end_hour)
    else:
        night = (local_hour >= night_start_hour) & (local_hour < night_end_hour)
    return count_share_windows(offsets, ts_s, in_class, in_class & night, np.int64(window_days) * 86400,
                               min_count, min_share, np.int64(0))


class CSH02(Indicator):
    id = "CSH02"
    name = "night_cash_activity"
    title = "Cash deposits and withdrawals between 22:00 and 06:00"
    family = "cash"
    typologies = ("sexual_exploitation",)
    sources = ("FT16",)
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("night_start_hour", 22, Interval(int, 0, 23), "First local hour counted as night", "hour"),
        Param("night_end_hour", 6, Interval(int, 0, 23), "First local hour no longer counted as night", "hour"),
        Param("min_count", 4, Interval(int, 1, None), "Night-time cash transactions needed in one window"),
        Param("min_share", 0.3, Interval(float, 0, 1, closed="right"),
              "Smallest share of the window's cash and ATM transactions that are at night"),
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
    )
    kernel = night_cash_kernel
    kernel_inputs = {"ts_s": "int64", "channel_code": "int8", "local_hour": "int32"}
    role_hint = None
    # Not decisive: FINTRAC's night-time flag is common among night-shift workers; the reference asks
    # for several categories to agree before an alert.
    decisive = False
    score_doc = ("0.21 at `min_count` night transactions in the episode, +0.02 per extra one, capped at 0.29: "
                 "below 0.5 alone and, with the default threshold 0.5, an alert needs three families "
                 "(1 - 0.79^3 >= 0.5 > 1 - 0.71^2).")
    reason = ("{value:.0f} cash/ATM transactions between {night_start_hour:02d}:00 and {night_end_hour:02d}:00 "
              "within {window_days} days, >= {min_share:.0%} of the account's cash use")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.21 at `min_count`, +0.02 per extra night transaction, capped at 0.29."""
        return np.clip(0.21 + 0.02 * (value - params["min_count"]), 0.21, 0.29)
