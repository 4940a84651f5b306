"""A credit card paid off from several other banks and drawn down again in cash advances.

## What it flags
Credit-card accounts (parties `account_type` = credit_card) where, within `window_days` days
ending at a cash advance, payments came from at least `min_banks` distinct external payer
institutions and cash advances (ATM or cash debits of the card) add up to at least `min_ratio`
of the payments. A payment is a credit to the card that is not a card refund or cash; its payer
institution is the payment's `counterparty_name`, which on a card ledger names the institution
the payment came from (the bill-payment service of the payer's bank); payments from accounts of
the bank's own customers are internal and do not count as a bank. Qualifying windows closer
than `window_days` form one hit whose evidence is their payments and advances and whose value
is the number of distinct external payer institutions.

## Why it matters
A card paid from several banks and emptied again by cash advances turns money that passed
through other people's or other banks' accounts into cash at an ATM: a layering step that keeps
each bank's view partial. FINTRAC (2021) lists credit cards paid from several institutions and
then used for (excessive) cash advances among the indicators of trafficking for sexual
exploitation.

## Typical false positives
A card paid partly from the holder's accounts at two banks and used for an occasional cash
advance; a family paying one member's card. Check who the payers are and how often cash is drawn.
Never alerts on its own.

## Data needed
The parties column `account_type` marking credit-card accounts, `channel` of the card's debits
and credits, and `counterparty_name` of the payments (the payer institution).
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class PAY08(Indicator):
    id = "PAY08"
    name = "cc_payments_then_cash_advance"
    title = "Credit card paid from several banks, then drawn in cash advances"
    family = "payment_instruments"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("FT21",)
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account", "counterparty_name")
    requires_parties = ("account_type",)
    params = (
        Param("min_banks", 2, Interval(int, 1, None), "Distinct external payer institutions in the window"),
        Param("min_ratio", 0.5, Interval(float, 0, None, closed="neither"),
              "Cash advances as a share of the window's payments"),
        Param("window_days", 30, Interval(int, 1, 366), "Window ending at a cash advance", "days"),
    )
    role_hint = "mule"
    decisive = False
    score_doc = ("0.3 at `min_banks` payer institutions, +0.05 per extra one, capped at 0.45: never alerts "
                 "alone.")
    reason = ("card paid from {value:.0f} external institutions and cash advances >= {min_ratio:.0%} of "
              "payments within {window_days} days")
    sql = """
    WITH cards AS (
        SELECT c.account_key
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        GROUP BY c.account_key
        HAVING bool_or(lower(trim(k.account_type)) = 'credit_card')
    ),
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, abs(p.amount) AS amount, p.amount < 0 AS is_advance,
               CASE WHEN p.amount > 0 AND NOT coalesce(o.is_customer, false)
                    THEN lower(trim(p.counterparty_name)) END AS bank
        FROM postings AS p
        JOIN cards AS d ON d.account_key = p.account_key
        LEFT JOIN accounts AS o ON o.account_key = p.counterparty_key
        WHERE (p.amount < 0 AND p.channel IN ('atm', 'cash'))
           OR (p.amount > 0 AND p.channel NOT IN ('atm', 'cash', 'card'))
    ),
    anchors AS (
        SELECT DISTINCT a.account_key, a.ts_s AS end_s
        FROM events AS a
        JOIN events AS e ON e.account_key = a.account_key AND e.ts_s BETWEEN a.ts_s - $window_days * 86400 AND a.ts_s
        WHERE a.is_advance
        GROUP BY a.account_key, a.txn_idx, a.ts_s
        HAVING count(DISTINCT e.bank) >= $min_banks
           AND sum(CASE WHEN e.is_advance THEN e.amount ELSE 0 END)
               >= $min_ratio * sum(CASE WHEN e.is_advance THEN 0 ELSE e.amount END) - 1e-6
    ),
    evidence AS (
        SELECT DISTINCT e.account_key, e.txn_idx, e.ts, e.ts_s, e.amount, e.is_advance, e.bank
        FROM events AS e
        JOIN anchors AS a ON e.account_key = a.account_key AND e.ts_s BETWEEN a.end_s - $window_days * 86400 AND a.end_s
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(count(DISTINCT bank) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence,
           round(sum(CASE WHEN is_advance THEN 0 ELSE amount END), 2) AS payments,
           round(sum(CASE WHEN is_advance THEN amount ELSE 0 END), 2) AS cash_advances
    FROM numbered
    GROUP BY account_key, episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_banks`, +0.05 per extra payer institution, capped at 0.45."""
        return np.clip(0.3 + 0.05 * (value - params["min_banks"]), 0.3, 0.45)
