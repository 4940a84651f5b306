"""Payments of recruitment, placement, visa or debt fees, or to recruitment agencies of concern.

## What it flags
Accounts that make at least `min_count` payments within `window_days` days either to a payee on
the `recruitment_agencies` list (entries tagged `licensed` are a registry of agencies in good
standing and never count) or with a memo containing a `recruitment_fee_terms` entry
("recruitment fee", "visa fee", "debt repayment", ...). The value is the number of such payments
in the episode.

This is the worker's (payer's) side of the reference's `recruitment_fee_payments`. Its other arm,
several individuals paying the same employer or recruiter, flags the collecting account and is
LAB02 `recruitment_fee_collection`.

## Why it matters
Debt bondage starts with recruitment fees: workers pay unlicensed agencies for jobs, visas and
travel, then repay inflated debts out of their wages (FinCEN 2014 and 2020). Repeated fee and
debt payments from a worker's account are a labour-exploitation signal on the victim side.

## Typical false positives
Lawful placement or visa-service fees (extend the `licensed` entries); repayments of ordinary
personal loans described as "debt". Weak alone.

## Data needed
`counterparty_name` and `memo` of payments. Both lists ship with illustrative defaults; add your
licensed-agency registry with tag `licensed`.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class LAB01(Indicator):
    id = "LAB01"
    name = "recruitment_fee_payments"
    title = "Recruitment, visa or debt fee payments"
    family = "labour"
    typologies = ("labour_exploitation",)
    sources = ("F14(sec)", "F20")
    requires = ("ts", "amount", "counterparty_name", "memo")
    requires_lists = ("recruitment_agencies", "recruitment_fee_terms")
    params = (
        Param("window_days", 90, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 2, Interval(int, 1, None), "Fee payments needed inside one window"),
    )
    role_hint = None
    score_doc = "0.25 at `min_count` payments, +0.05 per extra payment, capped at 0.4."
    reason = "{value:.0f} recruitment or debt fee payments within {window_days} days"
    # Payee names and memos are each matched once per distinct value.
    sql = ("WITH " + name_matches("counterparty_name", "recruitment_agencies", cte="agency") + ",\n"
           + name_matches("memo", "recruitment_fee_terms", cte="fee_memo") + """,
    unlicensed AS (SELECT raw FROM agency WHERE tag IS DISTINCT FROM 'licensed'),
    -- Two disjoint scans whose filters DuckDB pushes into postings, not one OR over two left joins:
    -- payments to an agency of concern, then fee memos of payments to anyone else.
    -- (Inner joins with the small name sets, which DuckDB builds its hash table on.)
    fees AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount
        FROM postings AS p JOIN unlicensed AS a ON a.raw = p.counterparty_name
        WHERE p.amount < 0
        UNION ALL
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount
        FROM postings AS p JOIN fee_memo AS f ON f.raw = p.memo
        WHERE p.amount < 0 AND (p.counterparty_name IS NULL OR p.counterparty_name NOT IN (SELECT raw FROM unlicensed))
    ),
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.txn_idx AS k
        FROM fees AS p JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer
    )""" + window_episodes("n >= $min_count", "$window_days * 86400"))

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra payment, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
