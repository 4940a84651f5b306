"""Payment memos that reference escort bookings or carry an alias in brackets.

## What it flags
Accounts with at least `min_count` transfers (sent or received) within `window_days` days whose
memo contains a term of the `escort_terms` list ("incall", "outcall", "GFE", ...) or has the
shape of an e-mail address followed by an alias in brackets (`name@host (alias)`). The value is
the number of such memos in the episode.

## Why it matters
Clients and controllers reference the booking in e-transfer messages; FINTRAC (2021 and 2016)
reports memos naming (part of) an escort agency, booking vocabulary, and e-transfer addresses
with an alias in brackets.

## Typical false positives
Words with an innocent meaning ("donation", "roses"); lawful escort agencies' own accounts. Memo
text is free text: two memos are required by default, and the score is weak.

## Data needed
`memo`. The `escort_terms` list ships with illustrative defaults; add agency names you know of.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class EXT02(Indicator):
    id = "EXT02"
    name = "escort_reference_memo"
    title = "Escort booking references in payment memos"
    family = "external"
    typologies = ("sexual_exploitation",)
    sources = ("FT21", "FT16")
    requires = ("ts", "amount", "memo")
    requires_lists = ("escort_terms",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 2, Interval(int, 1, None), "Memos needed inside one window"),
    )
    role_hint = None
    score_doc = "0.25 at `min_count` memos, +0.05 per extra memo, capped at 0.4."
    reason = "{value:.0f} payment memos referencing escort bookings within {window_days} days"
    # Memos are matched once per distinct memo text (list terms and the bracketed-alias pattern).
    sql = "WITH " + name_matches("memo", "escort_terms", cte="termed") + r""",
    flagged AS (
        SELECT raw FROM termed
        UNION
        -- The pattern needs an '@': the cheap `contains` spares the regular expression most memos.
        SELECT DISTINCT memo AS raw FROM postings
        WHERE memo IS NOT NULL AND contains(memo, '@') AND regexp_matches(memo, '\w+@\S+\s*\(\w+\)')
    ),
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.txn_idx AS k
        FROM postings AS p JOIN flagged AS f ON f.raw = p.memo
        JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer
    )""" + window_episodes("n >= $min_count", "$window_days * 86400")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra memo, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
