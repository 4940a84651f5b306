"""One account paying many different accounts within a short window.

## What it flags
Accounts that send account-to-account debits (p2p, transfer, wire; not ACH) to at least
`min_recipients` distinct accounts inside any window of `window_days` days. The debits of
qualifying windows form episodes, split where more than `window_days` days pass between two of
them; an episode adding up to at least `min_total` is one hit whose value is the number of
distinct recipients in it. ACH batches are left out: a small employer's
weekly payroll is a fan-out by shape (on flows alone it made 16 of 18 NET02 hits), and trafficking
proceeds are dispersed by instant transfers and wires, not by payroll files.

## Why it matters
Fan-out is the distribution side of a network: a controller paying recruiters, drivers and
landlords, or proceeds split over many mule accounts ("smurfing") before they are collected
again. FATF and FinCEN name the rapid dispersal of funds to many accounts as a laundering
indicator of trafficking proceeds.

## Typical false positives
Payroll from a small business account, a parent paying several children, an organiser
reimbursing a group, tenants' deposits returned by a landlord. Check the account type and whether
the recipients are employees.

## Data needed
Only the accounts, `ts`, `amount` and `channel`: no parties table is needed.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.kernels.flows import counterparty_keys, fan_episodes
from followmoney.params import Interval, Param
from followmoney.schema import CHANNELS

# Channels of account-to-account payments that count as paying a recipient (ACH batches excluded).
P2P, TRANSFER, WIRE = CHANNELS.index("p2p"), CHANNELS.index("transfer"), CHANNELS.index("wire")


@numba.njit(cache=True, nogil=True)
def one_to_many_fanout_kernel(offsets, ts_s, ts, amount, channel_code, counterparty_key, min_recipients, window_days,
                              min_total):  # pragma: no cover - jitted; tested through the naive reference
    """Fan-out episodes per account (kernel hit contract with details `total_amount`).

    Candidates are debits by p2p, transfer or wire with a counterparty account; an episode is a
    hit when it pays out at least `min_total` (see `followmoney.kernels.flows.fan_episodes`).
    """
    key, n_keys = counterparty_keys(counterparty_key)
    n = len(ts_s)
    candidate = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        c = channel_code[i]
        candidate[i] = amount[i] < 0 and key[i] >= 0 and (c == P2P or c == TRANSFER or c == WIRE)
    start, end, value, ev_ptr, ev_rows, details = fan_episodes(
        offsets, ts_s, ts, amount, key, n_keys, candidate, np.int64(window_days) * 86400, min_recipients, min_total)
    # fan_episodes also counts the debits; NET02 reports the total only, as its SQL did.
    return start, end, value, ev_ptr, ev_rows, np.ascontiguousarray(details[:, :1])


class NET02(Indicator):
    id = "NET02"
    name = "one_to_many_fanout"
    title = "One account paying many accounts"
    family = "network"
    typologies = ("laundering_of_proceeds", "sexual_exploitation", "labour_exploitation")
    sources = ("FATF18(sec)", "F20")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("min_recipients", 8, Interval(int, 2, None), "Distinct recipients needed inside one window"),
        Param("window_days", 7, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_total", 3000.0, Interval(float, 0, None), "Smallest total paid out in the episode",
              "reporting currency"),
    )
    role_hint = None
    decisive = False
    score_doc = ("0.3 at `min_recipients` distinct recipients, +0.02 per extra recipient, capped at 0.45: never "
                 "alerts on its own.")
    reason = "{value:.0f} distinct recipients within {window_days} days, {min_total:,.0f}+ in total"
    kernel = one_to_many_fanout_kernel
    # `ts` (microseconds) gives each hit's window the earliest and latest instant of its evidence;
    # the counterparty key as float64 reads NULL (cash) as NaN, the coding PAY01 reads it in too,
    # so the shared pass converts the column once for all of them.
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "channel_code": "int8",
                     "counterparty_key": "float64"}
    kernel_details = {"total_amount": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_recipients`, +0.02 per extra recipient, capped at 0.45."""
        return np.clip(0.3 + 0.02 * (value - params["min_recipients"]), 0.0, 0.45)
