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
    -- Sums are rounded to cents: a sum of doubles depends on the order rows arrive in, which differs
    -- between threads and engines, in the last bits; the forwarded share must be the same every run.
    WITH credits AS (
        SELECT account_key, txn_idx, ts, ts_s, amount, counterparty_key
        FROM postings
        WHERE amount > 0 AND counterparty_key IS NOT NULL AND channel IN ('p2p', 'transfer', 'wire', 'ach')
    )""" + counterparty_episodes("credits", "n_senders", "$min_senders", "$window_days * 86400") + """,
    episodes AS (
        SELECT account_key, episode, min(ts_s) AS s0, max(ts_s) AS s1, min(ts) AS t0,
               round(sum(amount), 2) AS inflow
        FROM numbered GROUP BY account_key, episode
    ),
    forward_rows AS (
        SELECT e.account_key, e.episode, p.counterparty_key, -p.amount AS paid, p.txn_idx, p.ts
        FROM episodes AS e
        JOIN postings AS p
          ON p.account_key = e.account_key AND p.amount < 0 AND p.counterparty_key IS NOT NULL
         AND p.channel IN ('p2p', 'transfer', 'wire', 'ach')
         AND p.ts_s BETWEEN e.s0 AND e.s1 + $forward_hours * 3600
    ),
    forwards AS (
        SELECT account_key, episode, counterparty_key, round(sum(paid), 2) AS paid, max(ts) AS last_ts,
               row_number() OVER (PARTITION BY account_key, episode
                                  ORDER BY round(sum(paid), 2) DESC, counterparty_key) AS r
        FROM forward_rows
        GROUP BY account_key, episode, counterparty_key
    ),
    top AS (
        SELECT account_key, episode, round(sum(paid), 2) AS forwarded, max(last_ts) AS last_ts, count(*) AS n_recipients
        FROM forwards WHERE r <= $max_recipients
        GROUP BY account_key, episode
    ),
    found AS (
        SELECT e.account_key, e.episode, e.t0, e.inflow, t.forwarded, t.last_ts, t.n_recipients
        FROM episodes AS e JOIN top AS t ON t.account_key = e.account_key AND t.episode = e.episode
        WHERE t.forwarded >= $min_ratio * e.inflow
    ),
    -- Evidence: the episode's credits and the payments to its top recipients, in txn_idx order.
    evidence_txns AS (
        SELECT account_key, episode, txn_idx FROM numbered
        UNION ALL
        SELECT f.account_key, f.episode, f.txn_idx
        FROM forward_rows AS f
        JOIN forwards AS w ON w.account_key = f.account_key AND w.episode = f.episode
         AND w.counterparty_key = f.counterparty_key AND w.r <= $max_recipients
    )
    SELECT h.account_key, h.t0 AS window_start, h.last_ts AS window_end,
           h.forwarded / h.inflow AS value, list(v.txn_idx ORDER BY v.txn_idx) AS evidence, h.inflow,
           h.forwarded, h.n_recipients
    FROM found AS h JOIN evidence_txns AS v ON v.account_key = h.account_key AND v.episode = h.episode
    GROUP BY h.account_key, h.episode, h.t0, h.last_ts, h.inflow, h.forwarded, h.n_recipients
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.6 at `min_ratio`, linear to 1 at a forwarded share of 1."""
        lo = params["min_ratio"]
        span = max(1.0 - lo, 1e-9)
        return np.clip(0.6 + 0.4 * (value - lo) / span, 0.0, 1.0)
