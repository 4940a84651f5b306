"""Repeated transfers without a stated purpose to countries on a THB-risk list.

## What it flags
Accounts that send at least `min_count` outbound wires, transfers or money-transfer payments
within `window_days` days to counterparties whose country is on the `thb_risk_countries` list,
each with an empty memo or one on the `generic_memos` list ("family", "gift", ...). The value is
the number of such transfers in the episode.

## Why it matters
Proceeds flow back to victims' source countries, to recruiters, families held as leverage, or the
network's home base; FINTRAC (2021) reports outbound transfers to many countries often without a
stated reason, and FinCEN (2014) and FATF (2018) remittances to source countries.

## Typical false positives
Migrants supporting their families (the most common reason for exactly this pattern): compare
with the customer's nationality and occupation. Weak alone by design.

## Data needed
`beneficiary_country` (the counterparty's country of a debit) and `memo`. The
`thb_risk_countries` list is an illustrative default: replace it with your own (e.g. from the US
TIP Report tiers or your national risk assessment).
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import window_episodes
from followmoney.params import Interval, Param


class GEO05(Indicator):
    id = "GEO05"
    name = "remittance_to_source_countries"
    title = "Unexplained transfers to THB-risk countries"
    family = "movement"
    typologies = ("sexual_exploitation", "labour_exploitation", "laundering_of_proceeds")
    sources = ("F14(sec)", "FT21", "FATF18(sec)")
    requires = ("ts", "amount", "channel", "beneficiary_country", "memo")
    requires_lists = ("thb_risk_countries",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 3, Interval(int, 1, None), "Transfers needed inside one window"),
    )
    role_hint = None
    score_doc = "0.25 at `min_count` transfers, +0.05 per extra transfer, capped at 0.4."
    reason = "{value:.0f} transfers without purpose to THB-risk countries within {window_days} days"
    # Countries and memos are matched once per distinct value, then joined back to the debits.
    sql = """
    WITH risky AS (
        SELECT DISTINCT n.cc
        FROM (SELECT DISTINCT counterparty_country AS cc FROM postings) AS n  -- a null country matches no list value
        JOIN lists AS l ON l.list_name = 'thb_risk_countries' AND l.value = lower(trim(n.cc))
    ),
    generic AS (
        SELECT DISTINCT n.memo_text
        FROM (SELECT DISTINCT memo AS memo_text FROM postings WHERE memo IS NOT NULL) AS n
        LEFT JOIN lists AS l ON l.list_name = 'generic_memos' AND l.value = lower(trim(n.memo_text))
        WHERE l.value IS NOT NULL OR trim(n.memo_text) = ''
    ),
    events AS (
        -- Two disjoint scans DuckDB pushes into postings (by channel, then by money-transfer MCC group),
        -- not one OR; each joins the few risky countries (distinct, so no duplicate rows) as its build side.
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.counterparty_country AS k
        FROM (SELECT q.account_key, q.txn_idx, q.ts, q.ts_s, q.amount, q.counterparty_country, q.memo
              FROM postings AS q JOIN risky AS r ON r.cc = q.counterparty_country
              WHERE q.amount < 0
                AND q.channel IN (SELECT channel FROM (VALUES ('wire'), ('transfer'), ('p2p'), ('other')) AS t(channel))
              UNION ALL
              SELECT q.account_key, q.txn_idx, q.ts, q.ts_s, q.amount, q.counterparty_country, q.memo
              FROM postings AS q JOIN risky AS r ON r.cc = q.counterparty_country
              WHERE q.amount < 0 AND q.merchant_group = 'money_transfer'
                AND (q.channel IS NULL OR q.channel NOT IN ('wire', 'transfer', 'p2p', 'other'))) AS p
        JOIN accounts AS c ON c.account_key = p.account_key
        LEFT JOIN generic AS g ON g.memo_text = p.memo
        WHERE c.is_customer AND (p.memo IS NULL OR g.memo_text IS NOT NULL)
    )""" + window_episodes("n >= $min_count", "$window_days * 86400",
                           extra=", CAST(count(DISTINCT k) AS INTEGER) AS n_countries")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra transfer, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
