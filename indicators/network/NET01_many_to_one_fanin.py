"""Many unrelated senders paying small amounts into one account within a short window.

## What it flags
Accounts that receive account-to-account credits (p2p, transfer, wire, ACH) of at most
`max_amount` each from at least `min_senders` distinct senders inside any window of `window_days`
days. The credits of qualifying windows form episodes, split where more than `window_days` days
pass between two of them; each episode is one hit whose value is the number of distinct senders
in it.

## Why it matters
Clients of commercial sexual exploitation, and victims handing over their earnings, pay by
e-transfer into an account the trafficker controls: many small payments from many people who have
no other relationship with the holder. FINTRAC (Project PROTECT) and FinCEN list funnelling from
many unrelated senders into one account among the trafficking indicators.

## Typical false positives
Collections among friends (a shared gift, a sports team), small online sellers, landlords of
rooms, tutors and other small service providers paid by e-transfer. Check the memos and whether
the senders recur.

## Data needed
Only the accounts, `ts`, `amount` and `channel`: no parties table is needed. Cash has no sender
and does not count.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.kernels.flows import counterparty_keys, fan_episodes
from followmoney.params import Interval, Param
from followmoney.schema import CHANNELS

# Channels of account-to-account payments that count as a sender paying in.
P2P, TRANSFER, WIRE, ACH = (CHANNELS.index(c) for c in ("p2p", "transfer", "wire", "ach"))


@numba.njit(cache=True, nogil=True)
def many_to_one_fanin_kernel(offsets, ts_s, ts, amount, channel_code, counterparty_key, min_senders, window_days,
                             max_amount):  # pragma: no cover - jitted; tested through the naive reference
    """Fan-in episodes per account (kernel hit contract with details `total_amount`, `n_credits`).

    Candidates are credits of at most `max_amount` by p2p, transfer, wire or ACH with a sender
    account; every episode is a hit (see `followmoney.kernels.flows.fan_episodes`).
    """
    key, n_keys = counterparty_keys(counterparty_key)
    n = len(ts_s)
    candidate = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        c = channel_code[i]
        candidate[i] = (0 < amount[i] <= max_amount and key[i] >= 0
                        and (c == P2P or c == TRANSFER or c == WIRE or c == ACH))
    return fan_episodes(offsets, ts_s, ts, amount, key, n_keys, candidate, np.int64(window_days) * 86400, min_senders,
                        -np.inf)


class NET01(Indicator):
    id = "NET01"
    name = "many_to_one_fanin"
    title = "Many unrelated senders into one account"
    family = "network"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("FT16", "F14(sec)", "FATF18(sec)")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("min_senders", 10, Interval(int, 2, None), "Distinct senders needed inside one window"),
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("max_amount", 600.0, Interval(float, 0, None, closed="neither"),
              "Largest credit that counts as a small payment", "reporting currency"),
    )
    role_hint = "controller"
    decisive = False
    score_doc = ("0.3 at `min_senders` distinct senders, +0.02 per extra sender, capped at 0.45: never alerts on "
                 "its own (the reference asks that no single network hit alert), but adds to other families.")
    reason = "{value:.0f} distinct senders of credits up to {max_amount:,.0f} within {window_days} days"
    kernel = many_to_one_fanin_kernel
    # `ts` (microseconds) gives each hit's window the earliest and latest instant of its evidence;
    # the counterparty key as float64 reads NULL (cash) as NaN, the coding PAY01 reads it in too,
    # so the shared pass converts the column once for all of them.
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "channel_code": "int8",
                     "counterparty_key": "float64"}
    kernel_details = {"total_amount": "float64", "n_credits": "int64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_senders`, +0.02 per extra sender, capped at 0.45."""
        return np.clip(0.3 + 0.02 * (value - params["min_senders"]), 0.0, 0.45)
