"""A personal account receiving many transfers from third-party payment processors.

## What it flags
Personal accounts (parties `account_type` = personal) that receive, within `window_days` days,
at least `min_adult` credits from processors tagged `adult` on the `payment_processors` list, or
at least `min_any` credits from any listed processor. The value is the number of processor
credits in the episode; `details.adult_credits` counts the adult-tagged ones.

## Why it matters
Processors that mask originator and beneficiary are used to take payment for sexual services
booked online; FINTRAC (2021) flags personal accounts receiving many processor transfers,
especially from processors associated with adult services or gambling, and FinCEN (2020) the use
of third-party payment processors generally.

## Typical false positives
Online sellers, creators and freelancers paid through processors into a personal account; lawful
adult-content creators. Weak alone.

## Data needed
`counterparty_name` of credits and the parties column `account_type` (skipped without it: a
business account receiving processor payouts is normal). The `payment_processors` list ships with
illustrative defaults; its `adult` tags are illustrative too.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class PAY05(Indicator):
    id = "PAY05"
    name = "payment_processor_inflows"
    title = "Personal account fed by payment processors"
    family = "payment_instruments"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("FT21", "F20")
    requires = ("ts", "amount", "counterparty_name")
    requires_parties = ("account_type",)
    requires_lists = ("payment_processors",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_adult", 5, Interval(int, 1, None), "Credits from adult-tagged processors needed in a window"),
        Param("min_any", 10, Interval(int, 1, None), "Credits from any listed processor needed in a window"),
    )
    role_hint = None
    score_doc = ("0.3 when the adult-processor arm fires, else 0.25; +0.02 per credit beyond `min_any`, "
                 "capped at 0.4.")
    reason = "{value:.0f} credits from payment processors within {window_days} days"
    sql = "WITH " + name_matches("counterparty_name", "payment_processors") + """,
    personal AS (
        SELECT c.account_key
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        GROUP BY c.account_key
        HAVING bool_and(lower(k.account_type) = 'personal')
    ),
    events AS (
        -- k counts adult-tagged credits (null for the others, which count(DISTINCT k) skips).
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount,
               CASE WHEN m.tag = 'adult' THEN p.txn_idx END AS k
        FROM postings AS p JOIN matched AS m ON m.raw = p.counterparty_name
        JOIN personal AS pe ON pe.account_key = p.account_key
        WHERE p.amount > 0
    )""" + window_episodes("n_distinct >= $min_adult OR n >= $min_any", "$window_days * 86400",
                           extra=", CAST(count(k) AS INTEGER) AS adult_credits")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 plus 0.02 per credit beyond `min_any` (adult-arm hits are raised to 0.3 by value), capped at 0.4."""
        base = np.where(value < params["min_any"], 0.3, 0.25)
        return np.clip(base + 0.02 * np.maximum(value - params["min_any"], 0), 0.0, 0.4)
