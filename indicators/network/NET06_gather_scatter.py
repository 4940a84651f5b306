"""A hub that gathers money from many accounts and scatters it to many others.

## What it flags
Accounts that, inside a window of `window_days` days, receive account-to-account credits from at
least `min_senders` distinct accounts, pay at least `min_recipients` distinct accounts, and pay
out at least `min_ratio` of what came in. Overlapping qualifying windows form one episode; the
value is the number of distinct counterparties (senders plus recipients) in it.

## Why it matters
Gather-scatter is the hub of a layering network: proceeds from many sources (victims' accounts,
collectors, clients) pool in one account and are at once dispersed to many others (drivers,
recruiters, landlords, mules of the next layer), so the account is a switchboard rather than
anyone's own money.

## Typical false positives
Treasurers of savings circles and clubs, small payroll accounts funded by several clients, money
service businesses, property managers collecting rents and paying owners. Check the account type
and whether the senders and recipients are customers of a declared business.

## Data needed
Only the accounts, `ts`, `amount` and `channel`: no parties table is needed.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class NET06(Indicator):
    id = "NET06"
    name = "gather_scatter"
    title = "Hub gathering from many accounts and paying many"
    family = "network"
    typologies = ("laundering_of_proceeds", "sexual_exploitation")
    sources = ("FATF18(sec)", "FT21")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("min_senders", 5, Interval(int, 2, None), "Distinct senders inside one window"),
        Param("min_recipients", 5, Interval(int, 2, None), "Distinct recipients inside one window"),
        Param("window_days", 14, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_ratio", 0.8, Interval(float, 0, 1, closed="right"),
              "Share of the window's inflow that is paid out in it"),
    )
    role_hint = "controller"
    decisive = False
    score_doc = ("0.3 at `min_senders + min_recipients` counterparties, +0.02 per extra one, capped at 0.45: "
                 "never alerts on its own.")
    reason = ("{value:.0f} counterparties: {min_senders}+ senders and {min_recipients}+ recipients within "
              "{window_days} days, {min_ratio:.0%} paid out")
    sql = """
    WITH moves AS (
        SELECT account_key, txn_idx, ts, ts_s, amount, counterparty_key
        FROM postings
        WHERE counterparty_key IS NOT NULL AND counterparty_key <> account_key
          AND channel IN ('p2p', 'transfer', 'wire', 'crypto')
    ),
    windows AS (
        SELECT *,
               count(DISTINCT CASE WHEN amount > 0 THEN counterparty_key END) OVER win AS n_senders,
               count(DISTINCT CASE WHEN amount < 0 THEN counterparty_key END) OVER win AS n_recipients,
               sum(CASE WHEN amount > 0 THEN amount ELSE 0 END) OVER win AS inflow,
               sum(CASE WHEN amount < 0 THEN -amount ELSE 0 END) OVER win AS outflow
        FROM moves
        WINDOW win AS (PARTITION BY account_key ORDER BY ts_s
                       RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW)
    ),
    -- A row is evidence when a qualifying window ends within window_days after it (one window pass).
    evidence AS (
        SELECT *
        FROM (SELECT *, min(CASE WHEN n_senders >= $min_senders AND n_recipients >= $min_recipients AND inflow > 0
                                      AND outflow >= $min_ratio * inflow THEN ts_s END)
                            OVER (PARTITION BY account_key ORDER BY ts_s
                                  RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_anchor_s
              FROM windows)
        WHERE next_anchor_s - ts_s <= $window_days * 86400
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end,
           CAST(count(DISTINCT CASE WHEN amount > 0 THEN counterparty_key END)
                + count(DISTINCT CASE WHEN amount < 0 THEN counterparty_key END) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence,
           round(sum(CASE WHEN amount > 0 THEN amount ELSE 0 END), 2) AS inflow,
           round(sum(CASE WHEN amount < 0 THEN -amount ELSE 0 END), 2) AS outflow
    FROM numbered
    GROUP BY account_key, episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_senders + min_recipients`, +0.02 per extra counterparty, capped at 0.45."""
        base = params["min_senders"] + params["min_recipients"]
        return np.clip(0.3 + 0.02 * (value - base), 0.0, 0.45)
