"""Upkeep spending (lodging, travel, pharmacy, clothing, food) far above the customer's own past and means.

## What it flags
Accounts whose spending in `window_days` days on upkeep merchant groups (lodging, airline, rail,
bus, travel agency, taxi and rideshare, car rental, pharmacy 5912, clothing 5621/5631/5651,
cosmetics 5977, grocery 5411, fast food 5814) reaches both

* `multiple` times the customer's own baseline: the upkeep spend of up to `baseline_days` days
  before the window, scaled to the window's length; and
* `income_share` of the declared income of the same period (`declared_income * window_days /
  365`: half a month's income with the defaults).

The baseline must cover at least half of `baseline_days` (an account without that much history
before the window is not judged: a new customer has no own baseline). The evidence is the upkeep
spending of the qualifying windows; windows closer than `window_days` form one hit. The value is
the largest qualifying window spend as a multiple of the period's declared income.

## Why it matters
FinCEN (2014, 2020) and FINTRAC (2016) describe controllers paying the living costs of the people
they exploit: hotel rooms and short-term rentals, transport, pharmacy, clothing and make-up,
groceries and fast food for several people, out of line with the customer's own profile.

## Typical false positives
A new household member, a family emergency or a move (a sudden jump in groceries, pharmacy and
hotels); a holiday paid by card; understated declared income. Rent (MCC 6513) is not upkeep
here, so a parent paying a student's rent does not count. The reference's second arm for
business accounts (upkeep spending outside the norms of the business type) is not implemented:
it needs per-type spending norms the data does not give. Weak alone.

## Data needed
`mcc` of card payments and the parties column `declared_income` (annual, reporting currency).
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param

UPKEEP_GROUPS = ("lodging", "airline", "rail", "bus", "travel_agency", "rideshare", "car_rental", "pharmacy",
                 "clothing", "cosmetics", "grocery", "fast_food")
"""Merchant groups of `followmoney/data/mcc_groups.csv` that count as someone's upkeep."""

_GROUPS_SQL = ", ".join(f"'{g}'" for g in UPKEEP_GROUPS)


class RUN10(Indicator):
    id = "RUN10"
    name = "living_costs_for_others"
    title = "Upkeep spending far above the customer's own past and means"
    family = "running_costs"
    typologies = ("sexual_exploitation", "labour_exploitation")
    sources = ("F20", "F14(sec)", "FT16")
    requires = ("ts", "amount", "mcc")
    requires_parties = ("declared_income",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("baseline_days", 180, Interval(int, 2, 1096), "Days before the window that form the own baseline", "days"),
        Param("multiple", 2.0, Interval(float, 0, None, closed="neither"),
              "Window spend, as a multiple of the baseline scaled to the window, that flags"),
        Param("income_share", 0.5, Interval(float, 0, None, closed="neither"),
              "Window spend, as a share of the declared income of the same period, that flags"),
    )
    # The reference's role hypothesis: the one paying others' upkeep is the possible controller.
    role_hint = "controller"
    score_doc = ("0.3 at `income_share` of the period's declared income, +0.1 per further whole period income, "
                 "capped at 0.45.")
    reason = ("upkeep spending of {value:.1f}x the declared income of {window_days} days, at least {multiple}x "
              "the customer's own baseline")
    sql = f"""
    WITH income AS (
        SELECT c.account_key, max(k.declared_income) AS declared_income
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        GROUP BY c.account_key
        HAVING max(k.declared_income) > 0
    ),
    history AS (SELECT account_key, min(local_day) AS first_day FROM postings GROUP BY account_key),
    upkeep AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.local_day, -p.amount AS spend
        FROM postings AS p JOIN income AS i ON i.account_key = p.account_key
        JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer AND p.amount < 0 AND p.merchant_group IN ({_GROUPS_SQL})
    ),
    daily AS (SELECT account_key, local_day, sum(spend) AS spend FROM upkeep GROUP BY account_key, local_day),
    sliding AS (
        SELECT d.account_key, d.local_day, h.first_day, i.declared_income,
               sum(d.spend) OVER (PARTITION BY d.account_key ORDER BY d.local_day
                                  RANGE BETWEEN $window_days - 1 PRECEDING AND CURRENT ROW) AS recent,
               coalesce(sum(d.spend) OVER (PARTITION BY d.account_key ORDER BY d.local_day
                                           RANGE BETWEEN $window_days + $baseline_days - 1 PRECEDING
                                                 AND $window_days PRECEDING), 0) AS prior
        FROM daily AS d JOIN history AS h ON h.account_key = d.account_key
        JOIN income AS i ON i.account_key = d.account_key
    ),
    anchors AS (
        -- covered: days of baseline before the window that the account's history spans.
        SELECT account_key, local_day, recent / (declared_income * $window_days / 365.0) AS ratio
        FROM (SELECT *, least($baseline_days, local_day - $window_days + 1 - first_day) AS covered FROM sliding)
        WHERE 2 * covered >= $baseline_days
          AND recent >= $multiple * prior * $window_days / greatest(covered, 1)
          AND recent >= $income_share * declared_income * $window_days / 365.0
    ),
    evidence AS (
        SELECT u.account_key, u.txn_idx, min(u.ts) AS ts, min(u.ts_s) AS ts_s, min(u.spend) AS spend,
               max(a.ratio) AS ratio
        FROM upkeep AS u JOIN anchors AS a
          ON a.account_key = u.account_key AND u.local_day BETWEEN a.local_day - $window_days + 1 AND a.local_day
        GROUP BY u.account_key, u.txn_idx
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(max(ratio) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence, round(sum(spend), 2) AS upkeep_spend
    FROM numbered
    GROUP BY account_key, episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `income_share`, +0.1 per further whole period income, capped at 0.45."""
        return np.clip(0.3 + 0.1 * (value - params["income_share"]), 0.3, 0.45)
