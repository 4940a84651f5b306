"""One account paying many different accounts within a short window.

## What it flags
Accounts that send account-to-account debits (p2p, transfer, wire; not ACH) to at least
`min_recipients` distinct accounts inside any window of `window_days` days, adding up to at least
`min_total`. Debits of overlapping qualifying windows form one episode, reported as one hit whose
value is the number of distinct recipients in it. ACH batches are left out: a small employer's
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

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import counterparty_episodes
from followmoney.params import Interval, Param


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
    sql = """
    WITH debits AS (
        SELECT account_key, txn_idx, ts, ts_s, -amount AS paid, counterparty_key
        FROM postings
        WHERE amount < 0 AND counterparty_key IS NOT NULL AND channel IN ('p2p', 'transfer', 'wire')
    )""" + counterparty_episodes("debits", "n_recipients", "$min_recipients", "$window_days * 86400") + """
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end,
           CAST(count(DISTINCT counterparty_key) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence, round(sum(paid), 2) AS total_amount
    FROM numbered
    GROUP BY account_key, episode
    HAVING sum(paid) >= $min_total
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_recipients`, +0.02 per extra recipient, capped at 0.45."""
        return np.clip(0.3 + 0.02 * (value - params["min_recipients"]), 0.0, 0.45)
