"""Many unrelated senders paying small amounts into one account within a short window.

## What it flags
Accounts that receive account-to-account credits (p2p, transfer, wire, ACH) of at most
`max_amount` each from at least `min_senders` distinct senders inside any window of `window_days`
days. Credits that belong to overlapping qualifying windows form one episode, reported as one hit
whose value is the number of distinct senders in it.

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

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import counterparty_episodes
from followmoney.params import Interval, Param


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
    sql = """
    WITH credits AS (
        SELECT account_key, txn_idx, ts, ts_s, amount, counterparty_key
        FROM postings
        WHERE amount > 0 AND amount <= $max_amount AND counterparty_key IS NOT NULL
          AND channel IN ('p2p', 'transfer', 'wire', 'ach')
    )""" + counterparty_episodes("credits", "n_senders", "$min_senders", "$window_days * 86400") + """
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end,
           CAST(count(DISTINCT counterparty_key) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence,
           round(sum(amount), 2) AS total_amount, count(*) AS n_credits
    FROM numbered
    GROUP BY account_key, episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_senders`, +0.02 per extra sender, capped at 0.45."""
        return np.clip(0.3 + 0.02 * (value - params["min_senders"]), 0.0, 0.45)
