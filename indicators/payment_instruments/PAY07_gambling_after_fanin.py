"""Gambling deposits funded by transfers from several people, or gambling money taken straight back out.

## What it flags
Accounts with at least one occurrence of either pattern at a gambling or online-trading operator
(MCC 7995, 7801, 7802, or a name on the `gambling_operators` list, whose tag says `gambling` or
`investment`):

* a deposit (a payment to the operator) preceded, within `lookback_hours`, by p2p credits from
  at least `min_senders` distinct senders (online-casino funding from many-sender e-transfers);
* a deposit followed, within `cashout_days` days, by withdrawals (credits) from the same operator
  (same counterparty account or name) of at least `cashout_share` of it (money in and out with
  little play or trading).

The evidence is the deposit with its p2p credits or its withdrawals; occurrences less than 30
days apart form one hit. The value is the number of occurrences in the hit.

## Why it matters
FINTRAC (2021) reports online-casino purchases funded by e-transfers from several people,
clustered late in the evening, and casino or investment accounts with money moving in and out
but little play: the casino account launders the clients' payments as winnings.

## Typical false positives
Friends settling a shared bet or a pool before one of them deposits; a gambler who stops early
and withdraws; traders moving cash in and out of a brokerage between banks. Weak alone.

## Data needed
`channel` marking p2p transfers, `payer_account` of the senders, and the operator's
`counterparty_name` (or `mcc`) on deposits and withdrawals. An account that receives card
payments under an operator's name is taken for the operator and not judged.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches
from followmoney.params import Interval, Param


class PAY07(Indicator):
    id = "PAY07"
    name = "gambling_after_fanin"
    title = "Gambling deposits after p2p transfers from several people, or deposits cashed straight out"
    family = "payment_instruments"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("FT21",)
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account", "counterparty_name")
    requires_lists = ("gambling_operators",)
    params = (
        Param("min_senders", 3, Interval(int, 1, None), "Distinct p2p senders needed before the deposit"),
        Param("lookback_hours", 24, Interval(int, 1, 24 * 14), "How far before the deposit credits count", "hours"),
        Param("cashout_share", 0.8, Interval(float, 0, None, closed="neither"),
              "Withdrawals from the operator, as a share of the deposit, that flag"),
        Param("cashout_days", 7, Interval(int, 0, 90), "Days after the deposit within which withdrawals count", "days"),
    )
    role_hint = None
    score_doc = "0.25 at one occurrence, +0.05 per extra one in the hit, capped at 0.4: never alerts alone."
    reason = ("{value:.0f} gambling deposits funded by p2p credits from {min_senders}+ senders within "
              "{lookback_hours} h, or withdrawn again (>= {cashout_share:.0%}) within {cashout_days} days")
    sql = "WITH " + name_matches("counterparty_name", "gambling_operators") + """,
    legs AS (
        -- Two scans DuckDB can push down (the gambling merchant group; listed names), not one OR
        -- over a LEFT JOIN of every posting.
        SELECT account_key, txn_idx, ts, ts_s, amount, channel, counterparty_key, counterparty_name
        FROM postings WHERE merchant_group = 'gambling'
        UNION ALL
        SELECT account_key, txn_idx, ts, ts_s, amount, channel, counterparty_key, counterparty_name
        FROM postings
        WHERE counterparty_name IN (SELECT raw FROM matched) AND merchant_group IS DISTINCT FROM 'gambling'
    ),
    operators AS (
        -- Both legs of a transaction carry its merchant name: the account that takes card payments
        -- under the operator's name is the operator itself, never judged as a gambler.
        SELECT DISTINCT counterparty_key AS account_key FROM legs
        WHERE amount < 0 AND channel = 'card' AND counterparty_key IS NOT NULL
    ),
    operator AS (
        SELECT l.account_key, l.txn_idx, l.ts, l.ts_s, l.amount, l.counterparty_key, l.counterparty_name
        FROM legs AS l JOIN accounts AS c ON c.account_key = l.account_key
        LEFT JOIN operators AS o ON o.account_key = l.account_key
        WHERE c.is_customer AND o.account_key IS NULL
    ),
    deposits AS (SELECT * FROM operator WHERE amount < 0),
    fanin AS (
        -- Every p2p credit of the lookback before a deposit: a null sender never counts.
        SELECT d.account_key, d.txn_idx AS dep_idx, c.txn_idx, c.ts, c.ts_s, c.counterparty_key
        FROM deposits AS d JOIN postings AS c
          ON c.account_key = d.account_key AND c.ts_s BETWEEN d.ts_s - $lookback_hours * 3600 AND d.ts_s
        WHERE c.amount > 0 AND c.channel = 'p2p' AND c.counterparty_key IS NOT NULL
    ),
    fanin_hits AS (
        SELECT account_key, dep_idx FROM fanin GROUP BY account_key, dep_idx
        HAVING count(DISTINCT counterparty_key) >= $min_senders
    ),
    cashout AS (
        SELECT d.account_key, d.txn_idx AS dep_idx, d.amount AS dep_amount, w.txn_idx, w.ts, w.ts_s, w.amount
        FROM deposits AS d JOIN operator AS w
          ON w.account_key = d.account_key AND w.amount > 0
         AND w.ts_s BETWEEN d.ts_s AND d.ts_s + $cashout_days * 86400
         AND (w.counterparty_key = d.counterparty_key OR w.counterparty_name = d.counterparty_name)
    ),
    cashout_hits AS (
        SELECT account_key, dep_idx FROM cashout GROUP BY account_key, dep_idx
        HAVING sum(amount) >= -$cashout_share * min(dep_amount)
    ),
    occurrences AS (SELECT account_key, dep_idx FROM fanin_hits UNION SELECT account_key, dep_idx FROM cashout_hits),
    evidence AS (
        SELECT d.account_key, d.txn_idx, d.ts, d.ts_s, d.txn_idx AS dep_idx
        FROM deposits AS d JOIN occurrences AS o ON o.account_key = d.account_key AND o.dep_idx = d.txn_idx
        UNION
        SELECT f.account_key, f.txn_idx, f.ts, f.ts_s, CAST(NULL AS BIGINT) AS dep_idx
        FROM fanin AS f JOIN fanin_hits AS h ON h.account_key = f.account_key AND h.dep_idx = f.dep_idx
        UNION
        SELECT w.account_key, w.txn_idx, w.ts, w.ts_s, CAST(NULL AS BIGINT) AS dep_idx
        FROM cashout AS w JOIN cashout_hits AS h ON h.account_key = w.account_key AND h.dep_idx = w.dep_idx
    ),
    distinct_evidence AS (
        -- A credit can support two deposits; it is evidence once, a deposit is counted once.
        SELECT account_key, txn_idx, min(ts) AS ts, min(ts_s) AS ts_s, max(dep_idx) AS dep_idx
        FROM evidence GROUP BY account_key, txn_idx
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > 30 * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s
              FROM distinct_evidence)
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(count(dep_idx) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence
    FROM numbered
    GROUP BY account_key, episode
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at one occurrence, +0.05 per extra occurrence, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - 1), 0.25, 0.4)
