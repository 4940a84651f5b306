"""Collects payments from many senders and forwards most of it to a few accounts.

## What it flags
Episodes in which an account receives account-to-account credits from at least `min_senders`
distinct senders within `window_days` days (overlapping windows form one episode) and, between
the first credit and `forward_hours` after the last, pays at least `min_ratio` of what came in to
its `max_recipients` largest account-to-account recipients. The value is the forwarded share.

## Why it matters
FINTRAC's Project PROTECT describes accounts that receive e-transfers from many clients and pass
them on to one or two people who show the same pattern: the collector is often a victim whose
account is used, the recipients are the controllers. Collection plus forwarding separates this
from an ordinary small business, which keeps its takings.

## Typical false positives
Treasurers of clubs and collections passing money to the organiser, roommates collecting rent for
a landlord, marketplace sellers sweeping takings to their own savings account at another bank.
Check whether the recipients are the holder's own accounts.

## Data needed
Only the accounts, `ts`, `amount` and `channel`: no parties table is needed.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import counterparty_episodes
from followmoney.params import Interval, Param


class NET03(Indicator):
    id = "NET03"
    name = "collector_forwarder"
    title = "Collects from many senders, forwards to a few"
    family = "network"
    typologies = ("sexual_exploitation", "labour_exploitation")
    sources = ("FT21",)
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("min_senders", 8, Interval(int, 2, None), "Distinct senders needed inside one window"),
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_ratio", 0.6, Interval(float, 0, 1, closed="right"), "Share of the inflow forwarded"),
        Param("max_recipients", 3, Interval(int, 1, None), "Recipients the forwarded share is counted over"),
        Param("forward_hours", 72, Interval(int, 0, 24 * 31), "Time allowed after the last credit", "hours"),
    )
    role_hint = "victim"
    decisive = True
    score_doc = "0.6 at `min_ratio` forwarded, rising linearly to 1 when everything is forwarded."
    reason = ("{value:.0%} of credits from {min_senders}+ senders in {window_days} days forwarded to at most "
              "{max_recipients} accounts")
    sql = """
    WITH credits AS (
        SELECT account_key, txn_idx, ts, ts_s, amount, counterparty_key
        FROM postings
        WHERE amount > 0 AND counterparty_key IS NOT NULL AND channel IN ('p2p', 'transfer', 'wire', 'ach')
    )""" + counterparty_episodes("credits", "n_senders", "$min_senders", "$window_days * 86400") + """,
    episodes AS (
        SELECT account_key, episode, min(ts_s) AS s0, max(ts_s) AS s1, min(ts) AS t0, sum(amount) AS inflow,
               list(txn_idx) AS credit_txns
        FROM numbered GROUP BY account_key, episode
    ),
    forwards AS (
        SELECT e.account_key, e.episode, p.counterparty_key, sum(-p.amount) AS paid, list(p.txn_idx) AS txns,
               max(p.ts) AS last_ts
        FROM episodes AS e
        JOIN postings AS p
          ON p.account_key = e.account_key AND p.amount < 0 AND p.counterparty_key IS NOT NULL
         AND p.channel IN ('p2p', 'transfer', 'wire', 'ach')
         AND p.ts_s BETWEEN e.s0 AND e.s1 + $forward_hours * 3600
        GROUP BY e.account_key, e.episode, p.counterparty_key
    ),
    top AS (
        SELECT account_key, episode, sum(paid) AS forwarded, flatten(list(txns)) AS txns, max(last_ts) AS last_ts,
               count(*) AS n_recipients
        FROM (SELECT *, row_number() OVER (PARTITION BY account_key, episode ORDER BY paid DESC, counterparty_key)
                        AS r FROM forwards)
        WHERE r <= $max_recipients
        GROUP BY account_key, episode
    )
    SELECT e.account_key, e.t0 AS window_start, t.last_ts AS window_end, t.forwarded / e.inflow AS value,
           list_sort(list_concat(e.credit_txns, t.txns)) AS evidence, round(e.inflow, 2) AS inflow,
           round(t.forwarded, 2) AS forwarded, t.n_recipients
    FROM episodes AS e JOIN top AS t USING (account_key, episode)
    WHERE t.forwarded >= $min_ratio * e.inflow
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.6 at `min_ratio`, linear to 1 at a forwarded share of 1."""
        lo = params["min_ratio"]
        span = max(1.0 - lo, 1e-9)
        return np.clip(0.6 + 0.4 * (value - lo) / span, 0.0, 1.0)
