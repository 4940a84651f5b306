"""A business account that earns revenue but pays no wages, payroll tax or social insurance.

## What it flags
Business accounts (parties `account_type` = business) with, in some complete period of
`window_days` days counted from the account's first posting, credits of at least `min_credits`
and no debit classified as payroll: a memo or payee name containing a `payroll_terms` entry
(payroll, salary, wages, payroll tax, social insurance, payroll providers), or a payment to a
government/tax merchant (MCC 9311). The value is the period's credits; the evidence is its largest
credits (up to 20).

## Why it matters
Front businesses staffed by exploited workers pay them off the books, or not at all; FinCEN
(2014) and FATF (2018) list businesses without normal payroll outflows. A venue earning real
revenue has to pay someone.

## Typical false positives
Owner-operated businesses with no employees; payroll paid from another bank or by a parent
company; payroll memos the list does not recognise (extend `payroll_terms`). Weak alone.

## Data needed
`memo` and `counterparty_name` of debits, and the parties column `account_type`. Periods that
the data does not cover completely are not judged.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class BUS01(Indicator):
    id = "BUS01"
    name = "business_no_payroll"
    title = "Business revenue without payroll outflows"
    family = "front_business"
    typologies = ("labour_exploitation", "sexual_exploitation")
    sources = ("F14(sec)", "FATF18(sec)")
    requires = ("ts", "amount", "memo", "counterparty_name")
    requires_parties = ("account_type",)
    requires_lists = ("payroll_terms",)
    params = (
        Param("window_days", 90, Interval(int, 7, 366), "Length of each period judged", "days"),
        Param("min_credits", 20_000.0, Interval(float, 0, None, closed="neither"),
              "Credits in a period that show real revenue", "reporting currency"),
    )
    # The reference's role hypothesis names the front-business owner; the account is the business.
    role_hint = "front_business"
    score_doc = "0.3 at `min_credits`, +0.05 per further multiple of `min_credits`, capped at 0.45."
    reason = "credits of {value:,.0f} in {window_days} days without any payroll outflow"
    sql = """WITH business AS (
        SELECT c.account_key
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        GROUP BY c.account_key
        HAVING bool_or(lower(k.account_type) = 'business')
    ),
    firsts AS (
        SELECT p.account_key, min(p.ts_s) AS first_s
        FROM postings AS p JOIN business AS b ON b.account_key = p.account_key
        GROUP BY p.account_key
    ),
    payroll_memo AS (
        -- Payroll terms matched once per distinct memo or payee of the businesses' debits.
        SELECT n.raw, min(l.tag) AS tag
        FROM (SELECT DISTINCT memo AS raw FROM postings
              WHERE amount < 0 AND memo IS NOT NULL AND account_key IN (SELECT account_key FROM firsts)) AS n
        JOIN lists AS l ON l.list_name = 'payroll_terms' AND contains(lower(trim(n.raw)), l.value)
        GROUP BY n.raw
    ),
    payroll_payee AS (
        SELECT n.raw, min(l.tag) AS tag
        FROM (SELECT DISTINCT counterparty_name AS raw FROM postings
              WHERE amount < 0 AND counterparty_name IS NOT NULL AND account_key IN (SELECT account_key FROM firsts)) AS n
        JOIN lists AS l ON l.list_name = 'payroll_terms' AND contains(lower(trim(n.raw)), l.value)
        GROUP BY n.raw
    ),
    data_end AS (SELECT max(ts_s) AS end_s FROM postings),
    legs AS (
        -- The account's first posting comes from a grouped scan joined back, not a window over every posting.
        SELECT p.account_key, p.txn_idx, p.ts, p.amount,
               CAST(floor((p.ts_s - f.first_s) / ($window_days * 86400)) AS BIGINT) AS period, f.first_s,
               p.amount < 0 AND (pm.raw IS NOT NULL OR pp.raw IS NOT NULL
                                 OR coalesce(p.merchant_group = 'government_tax', false)) AS is_payroll
        FROM postings AS p JOIN firsts AS f ON f.account_key = p.account_key
        LEFT JOIN payroll_memo AS pm ON pm.raw = p.memo
        LEFT JOIN payroll_payee AS pp ON pp.raw = p.counterparty_name
    ),
    periods AS (
        SELECT l.account_key, l.period
        FROM legs AS l, data_end AS d
        GROUP BY l.account_key, l.period, d.end_s
        -- Only complete periods: a payroll run just after the data ends must not look missing.
        HAVING any_value(l.first_s) + (l.period + 1) * $window_days * 86400 <= d.end_s
           AND sum(CASE WHEN l.amount > 0 THEN l.amount ELSE 0 END) >= $min_credits
           AND NOT bool_or(l.is_payroll)
    ),
    ranked AS (
        SELECT l.account_key, l.txn_idx, l.ts, l.amount, l.period, row_number() OVER (PARTITION BY l.account_key, l.period ORDER BY l.amount DESC, l.txn_idx) AS r,
               sum(l.amount) OVER (PARTITION BY l.account_key, l.period) AS credits
        FROM legs AS l JOIN periods AS q ON q.account_key = l.account_key AND q.period = l.period
        WHERE l.amount > 0
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(any_value(credits) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts, txn_idx) AS evidence, CAST(any_value(period) AS INTEGER) AS period_no
    FROM ranked WHERE r <= 20
    GROUP BY account_key, period
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_credits`, +0.05 per further multiple of it, capped at 0.45."""
        return np.clip(0.3 + 0.05 * np.floor(value / params["min_credits"] - 1), 0.3, 0.45)
