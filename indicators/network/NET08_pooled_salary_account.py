"""One account receiving the wages of several workers: payroll from several employers at once.

## What it flags
Accounts that receive payroll credits (a memo matching the `payroll_terms` list, e.g. "PAYROLL
<employer>", "salary", "wages") from at least `min_employers` distinct paying accounts inside any
window of `window_days` days. Credits of overlapping qualifying windows form one episode, reported
as one hit valued at the number of distinct paying employers.

The reference gives a second arm, "at least three distinct payee names in payroll memos, other
than the holder". It is not implemented: payroll memos name the employer, not the payee, in the
data this tool sees (ACH addenda with the employee's name rarely reach a transaction extract), and
comparing free-text names needs a name-matching step the portable SQL cannot do. Several employers
paying one account is the observable form of the same pattern.

## Why it matters
Traffickers in labour exploitation often control where victims' wages go: several workers'
salaries, each from the employer that placed them, land in one account the trafficker holds or
controls, and are swept on (FinCEN 2020, citing FATF 2018). A person rarely draws regular pay
from three employers in the same month.

## Typical false positives
People with several part-time jobs, gig workers paid by several platforms, a household whose
adults' salaries go to one joint account (two employers), a payroll agent. Check the parties on
the account and whether the credits are swept on at once.

## Data needed
`memo` of credits and the paying account; the `payroll_terms` list ships with defaults. No
parties table is needed.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class NET08(Indicator):
    id = "NET08"
    name = "pooled_salary_account"
    title = "Wages from several employers pooled in one account"
    family = "network"
    typologies = ("labour_exploitation",)
    sources = ("F20", "FATF18(sec)")
    requires = ("ts", "amount", "memo", "payer_account", "beneficiary_account")
    requires_lists = ("payroll_terms",)
    params = (
        Param("min_employers", 3, Interval(int, 2, None), "Distinct paying employers inside one window"),
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
    )
    role_hint = "victim"
    decisive = False
    score_doc = ("0.35 at `min_employers` employers, +0.05 per extra one, capped at 0.45: never alerts on its "
                 "own, but adds the network family to a sweep or pass-through.")
    reason = "payroll from {value:.0f} different employers within {window_days} days"
    # Memos are matched once per distinct value; the self-join of window_episodes only sees payroll
    # credits, a handful per account and month.
    sql = ("WITH " + name_matches("memo", "payroll_terms", cte="payroll_memo") + """,
    payroll AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.counterparty_key AS k
        FROM postings AS p
        JOIN payroll_memo AS m ON m.raw = p.memo
        JOIN accounts AS c ON c.account_key = p.account_key
        WHERE p.amount > 0 AND p.counterparty_key IS NOT NULL AND c.is_customer
    ),
    -- A window cannot hold more employers than the account has in all: accounts paid by fewer never
    -- qualify, so their (many) salary credits stay out of the window join.
    events AS (
        SELECT account_key, txn_idx, ts, ts_s, amount, k FROM payroll
        WHERE account_key IN (SELECT account_key FROM payroll GROUP BY account_key
                              HAVING count(DISTINCT k) >= $min_employers)
    )""" + window_episodes("n_distinct >= $min_employers", "$window_days * 86400", value="count(DISTINCT k)"))

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.35 at `min_employers`, +0.05 per extra employer, capped at 0.45."""
        return np.clip(0.35 + 0.05 * (value - params["min_employers"]), 0.0, 0.45)
