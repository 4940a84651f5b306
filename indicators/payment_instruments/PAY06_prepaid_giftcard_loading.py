"""Frequent prepaid-card loads or gift-card purchases.

## What it flags
Accounts that make at least `min_count` prepaid or stored-value loads (MCC 6540) or gift-card
purchases (a merchant name on the `giftcard_merchants` list) within `window_days` days, each of
at least `min_amount`. The value is the number of such purchases in the episode.

## Why it matters
Prepaid and gift cards move value out of the banking system without naming the recipient:
FinCEN (2020) and FINTRAC (2021) report frequent purchases and loads, especially onto several
prepaid cards, used to pay for ads, to give victims spending money under control, or to move
proceeds.

## Typical false positives
Gift buying before holidays; people without a credit card who top up a prepaid card for online
shopping; employers that pay small bonuses as gift cards. Weak alone.

## Data needed
`counterparty_name` of payments; `mcc` improves recall. The reference's second arm (rounded
grocery or convenience purchases several times the customer's median basket) is not
implemented yet.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class PAY06(Indicator):
    id = "PAY06"
    name = "prepaid_giftcard_loading"
    title = "Frequent prepaid loads or gift-card purchases"
    family = "payment_instruments"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("F20", "FT21")
    requires = ("ts", "amount", "counterparty_name")
    requires_lists = ("giftcard_merchants",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 4, Interval(int, 1, None), "Loads or purchases needed inside one window"),
        Param("min_amount", 25.0, Interval(float, 0, None), "Smallest load that counts", "reporting currency"),
    )
    role_hint = None
    score_doc = "0.25 at `min_count` loads, +0.05 per extra load, capped at 0.4."
    reason = "{value:.0f} prepaid loads or gift-card purchases within {window_days} days"
    sql = "WITH " + name_matches("counterparty_name", "giftcard_merchants") + """,
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.txn_idx AS k
        FROM postings AS p LEFT JOIN matched AS m ON m.raw = p.counterparty_name
        JOIN accounts AS c ON c.account_key = p.account_key
        WHERE p.amount < 0 AND c.is_customer AND -p.amount >= $min_amount
          AND (p.merchant_group = 'stored_value' OR m.raw IS NOT NULL)
    )""" + window_episodes("n >= $min_count", "$window_days * 86400")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra load, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
