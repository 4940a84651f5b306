"""Crypto purchases right after transfers from several different people, repeatedly.

## What it flags
Accounts with at least `min_occurrences` occurrences within `period_days` days, where an
occurrence is a payment to a crypto exchange (channel `crypto`, or a card payment with MCC 6051)
preceded, within `lookback_hours`, by p2p credits from at least `min_senders` distinct senders.
Credits already used by an earlier occurrence of the account are not used again, so one fan-in
followed by several purchases counts once. Occurrences grouped greedily from the earliest form one
hit whose evidence is the credits and the purchases.

## Why it matters
Clients pay for sexual services by e-transfer; the account collecting them converts the money to
crypto at once to move it to the controller or abroad out of the banks' sight. FINTRAC (2021) and
FinCEN (2020) list transfers to virtual-currency exchangers right after e-transfers from several
people among the indicators of trafficking for sexual exploitation.

## Typical false positives
Friends paying back a shared expense before someone invests in crypto; small informal savings
groups; people selling things online and buying crypto with the proceeds. Check who the senders
are and whether the pattern repeats. Never alerts on its own (see the score).

## Data needed
`channel` must mark p2p transfers (`p2p`) and, for the exchange, either the channel `crypto` or
an `mcc` of 6051; the senders must carry an account id (`payer_account`).
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param

P2P = 4  # position of "p2p" in followmoney.schema.CHANNELS, the coding of postings.channel_code


@numba.njit(cache=True, nogil=True)
def crypto_after_fanin_kernel(offsets, ts_s, amount, channel_code, counterparty_key, is_crypto, min_senders,
                              lookback_hours, min_occurrences,
                              period_days):  # pragma: no cover - jitted; tested through the naive reference
    """Fan-in-then-crypto episodes per account (kernel hit contract of `followmoney.indicator`).

    `counterparty_key` is float64 with NaN for no counterparty, so a null key never counts as a sender.
    """
    lookback_s = np.int64(lookback_hours) * 3600
    period_s = np.int64(period_days) * 86400
    start_row = [np.int64(0) for _ in range(0)]
    end_row = [np.int64(0) for _ in range(0)]
    value = [np.float64(0) for _ in range(0)]
    ev_ptr = [np.int64(0)]
    ev_rows = [np.int64(0) for _ in range(0)]
    for a in range(len(offsets) - 1):
        lo, hi = offsets[a], offsets[a + 1]
        occ_first = [np.int64(0) for _ in range(0)]
        occ_last = [np.int64(0) for _ in range(0)]
        occ_from = [np.int64(0)]
        occ_flat = [np.int64(0) for _ in range(0)]
        used = lo - 1  # last row consumed by an occurrence of this account
        for j in range(lo, hi):
            if is_crypto[j] != 1 or amount[j] >= 0:
                continue
            i = j - 1
            credits = [np.int64(0) for _ in range(0)]
            while i > used and ts_s[j] - ts_s[i] <= lookback_s:
                if channel_code[i] == P2P and amount[i] > 0 and not np.isnan(counterparty_key[i]):
                    credits.append(i)
                i -= 1
            if len(credits) < min_senders:
                continue
            senders = np.unique(np.array([counterparty_key[r] for r in credits]))
            if len(senders) < min_senders:
                continue
            for k in range(len(credits) - 1, -1, -1):
                occ_flat.append(credits[k])
            occ_flat.append(j)
            occ_first.append(credits[-1])
            occ_last.append(j)
            occ_from.append(len(occ_flat))
            used = j
        s = 0
        n_occ = len(occ_last)
        while s < n_occ:
            e = s
            while e + 1 < n_occ and ts_s[occ_last[e + 1]] - ts_s[occ_last[s]] <= period_s:
                e += 1
            if e - s + 1 < min_occurrences:
                s += 1
                continue
            start_row.append(occ_first[s])
            end_row.append(occ_last[e])
            value.append(np.float64(e - s + 1))
            for k in range(occ_from[s], occ_from[e + 1]):
                ev_rows.append(occ_flat[k])
            ev_ptr.append(len(ev_rows))
            s = e + 1
    return (np.array(start_row, dtype=np.int64), np.array(end_row, dtype=np.int64),
            np.array(value, dtype=np.float64), np.array(ev_ptr, dtype=np.int64),
            np.array(ev_rows, dtype=np.int64))


class PAY01(Indicator):
    id = "PAY01"
    name = "crypto_after_fanin"
    title = "Crypto purchases right after p2p transfers from several people"
    family = "payment_instruments"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("FT21", "F20")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("min_senders", 3, Interval(int, 1, None), "Distinct p2p senders needed before the purchase"),
        Param("lookback_hours", 24, Interval(int, 1, 24 * 14), "How far before the purchase credits count", "hours"),
        Param("min_occurrences", 2, Interval(int, 1, None), "Occurrences needed within the period"),
        Param("period_days", 30, Interval(int, 1, 366), "Period that groups occurrences into one hit", "days"),
    )
    kernel = crypto_after_fanin_kernel
    kernel_inputs = {"ts_s": "int64", "amount": "float64", "channel_code": "int8", "counterparty_key": "float64",
                     "is_crypto": "int8"}
    role_hint = None
    # Not decisive: buying crypto after being paid back by friends is lawful; it corroborates cash and
    # movement flags of other families.
    decisive = False
    score_doc = ("0.21 at `min_occurrences` occurrences in the hit, +0.04 per extra one, capped at 0.29: "
                 "never alerts alone, and with the default threshold 0.5 an alert needs three families.")
    reason = ("{value:.0f} crypto purchases each within {lookback_hours} h after p2p credits from "
              "{min_senders}+ senders, within {period_days} days")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.21 at `min_occurrences`, +0.04 per extra occurrence, capped at 0.29."""
        return np.clip(0.21 + 0.04 * (value - params["min_occurrences"]), 0.21, 0.29)
