"""A prepaid card that is never loaded and only receives card-to-card transfers, mostly from one sender.

## What it flags
Prepaid card accounts (parties `account_type` = `prepaid`) that, in the `window_days` days up to
some card-to-card credit, received at least `min_transfers` card-to-card credits, no load at all,
and at least `min_share` of the card-to-card money from one sender. Credits of overlapping
qualifying windows form one episode, reported as one hit valued at the number of card-to-card
credits; the evidence is those credits.

How the ledger is read from the transaction contract, which has no "load" flag:

* a **card-to-card transfer** is a credit by `p2p` or `transfer` whose paying account is itself a
  prepaid card (in the parties table);
* a **load** is any other credit: cash paid in at a retailer or branch, a card or ACH top-up, a
  transfer from a current account (the way a parent tops up a teenager's card).

## Why it matters
FINTRAC (Project PROTECT) describes victims handed prepaid cards that the trafficker funds from
his own card, a few card-to-card transfers at a time: the card has no loads of its own, and all of
its money comes from one person. It keeps the victim dependent and the money off the trafficker's
bank account.

## Typical false positives
Gift cards passed between family members' cards; a couple moving money between their two prepaid
cards. Check the relationship between the holders.

## Data needed
A parties table with `account_type` (`prepaid` for card accounts; the indicator is skipped without
it), the paying account and `channel` of credits.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class NET10(Indicator):
    id = "NET10"
    name = "prepaid_card_to_card"
    title = "Prepaid card funded only by card-to-card transfers"
    family = "network"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("FT21",)
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    requires_parties = ("account_type",)
    params = (
        Param("window_days", 60, Interval(int, 1, 366), "Length of the look-back window", "days"),
        Param("min_transfers", 3, Interval(int, 1, None), "Card-to-card credits needed inside one window"),
        Param("min_share", 0.8, Interval(float, 0, 1, closed="right"),
              "Share of the card-to-card money that comes from the top sender"),
    )
    role_hint = "victim"
    decisive = False
    score_doc = "0.35 at `min_transfers` credits, +0.02 per extra one, capped at 0.45: never alerts on its own."
    reason = ("{value:.0f} card-to-card credits and no load within {window_days} days, "
              "{min_share:.0%}+ from one sender")
    # Prepaid card accounts are few: the windowed self-join only ever sees their credits.
    sql = """
    WITH prepaid AS (
        SELECT DISTINCT c.account_key
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        WHERE lower(trim(k.account_type)) = 'prepaid'
    ),
    credits AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.counterparty_key,
               CASE WHEN p.channel IN ('p2p', 'transfer') AND s.account_key IS NOT NULL THEN 1 ELSE 0 END AS is_c2c
        FROM postings AS p
        JOIN prepaid AS d ON d.account_key = p.account_key
        LEFT JOIN prepaid AS s ON s.account_key = p.counterparty_key
        WHERE p.amount > 0
    ),
    win AS (
        SELECT a.account_key, a.txn_idx AS anchor, a.ts_s AS end_s, e.counterparty_key, e.is_c2c, e.amount
        FROM credits AS a
        JOIN credits AS e ON e.account_key = a.account_key AND e.ts_s BETWEEN a.ts_s - $window_days * 86400 AND a.ts_s
        WHERE a.is_c2c = 1
    ),
    per_anchor AS (
        SELECT account_key, anchor, end_s, sum(is_c2c) AS n_c2c, sum(1 - is_c2c) AS n_loads,
               sum(amount * is_c2c) AS c2c_total
        FROM win GROUP BY account_key, anchor, end_s
    ),
    by_sender AS (
        SELECT account_key, anchor, counterparty_key, sum(amount) AS from_sender
        FROM win WHERE is_c2c = 1 GROUP BY account_key, anchor, counterparty_key
    ),
    anchors AS (
        SELECT a.account_key, a.end_s
        FROM per_anchor AS a JOIN by_sender AS b ON b.account_key = a.account_key AND b.anchor = a.anchor
        WHERE a.n_loads = 0 AND a.n_c2c >= $min_transfers
        GROUP BY a.account_key, a.anchor, a.end_s, a.c2c_total
        HAVING max(b.from_sender) >= $min_share * a.c2c_total
    ),
    evidence AS (
        SELECT DISTINCT e.account_key, e.txn_idx, e.ts, e.ts_s, e.amount, e.counterparty_key
        FROM credits AS e
        JOIN anchors AS a ON e.account_key = a.account_key AND e.ts_s BETWEEN a.end_s - $window_days * 86400 AND a.end_s
        WHERE e.is_c2c = 1
    ),
    numbered AS (
        SELECT account_key, txn_idx, ts, ts_s, amount, counterparty_key,
               sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
                   OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(count(*) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence, round(sum(amount), 2) AS total_amount,
           count(DISTINCT counterparty_key) AS n_senders
    FROM numbered
    GROUP BY account_key, episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.35 at `min_transfers`, +0.02 per extra credit, capped at 0.45."""
        return np.clip(0.35 + 0.02 * (value - params["min_transfers"]), 0.0, 0.45)
