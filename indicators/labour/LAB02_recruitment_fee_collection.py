"""Several people paying the same account recruitment, visa or debt fees: the collecting side.

## What it flags
Accounts that receive payments with a memo containing a `recruitment_fee_terms` entry
("recruitment fee", "visa fee", "debt repayment", ...) from at least `min_payers` distinct paying
accounts inside any window of `window_days` days. Payments of overlapping qualifying windows form
one episode, reported as one hit valued at the number of distinct payers.

This is the worker-to-employer side of the reference's `recruitment_fee_payments` ("at least three
individuals paying the same employer or recruiter with a fee, visa or debt memo"). It is an
indicator of its own rather than an arm of LAB01 because it flags the other account: LAB01 flags
the worker who pays (a possible victim, counted in payments), this one the employer or recruiter
who collects (a possible controller, counted in distinct payers). One id with two arms would mix
the two roles in one hit type and one role hint.

## Why it matters
Debt bondage is collected: recruiters and exploitative employers take "fees" for jobs, visas,
travel and housing from each worker they place, often repaid out of wages in instalments
(FinCEN 2014 and 2020). One account receiving such payments from several people is where the
debts of a group of workers end up.

## Typical false positives
Lawful visa-service or placement businesses (extend the profile's lists or exclude them),
lenders and debt-collection agencies whose customers write "debt repayment". Check whether the
payers are the account's own workers.

## Data needed
`memo` of payments and the paying account; the `recruitment_fee_terms` list ships with defaults.
No parties table is needed.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class LAB02(Indicator):
    id = "LAB02"
    name = "recruitment_fee_collection"
    title = "Recruitment, visa or debt fees collected from several people"
    family = "labour"
    typologies = ("labour_exploitation",)
    sources = ("F14(sec)", "F20")
    requires = ("ts", "amount", "memo", "payer_account", "beneficiary_account")
    requires_lists = ("recruitment_fee_terms",)
    params = (
        Param("min_payers", 3, Interval(int, 2, None), "Distinct payers of fees inside one window"),
        Param("window_days", 90, Interval(int, 1, 366), "Length of the sliding window", "days"),
    )
    role_hint = "controller"
    decisive = False
    score_doc = "0.3 at `min_payers` payers, +0.05 per extra payer, capped at 0.45."
    reason = "fee, visa or debt payments from {value:.0f} different people within {window_days} days"
    sql = ("WITH " + name_matches("memo", "recruitment_fee_terms", cte="fee_memo") + """,
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.counterparty_key AS k
        FROM postings AS p
        JOIN fee_memo AS f ON f.raw = p.memo
        WHERE p.amount > 0 AND p.counterparty_key IS NOT NULL
    )""" + window_episodes("n_distinct >= $min_payers", "$window_days * 86400", value="count(DISTINCT k)"))

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_payers`, +0.05 per extra payer, capped at 0.45."""
        return np.clip(0.3 + 0.05 * (value - params["min_payers"]), 0.0, 0.45)
