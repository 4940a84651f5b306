"""Money swept from a personal account into a business and drained out again, or circled among one owner's businesses.

## What it flags
Business accounts (parties `account_type` = `business`) in either of two patterns:

* **sweep and drain**: a personal account pays the business (p2p or transfer) within
  `inflow_hours` of receiving cash or p2p money itself, and within `drain_hours` of that sweep the
  business pays out at least `min_drain_ratio` of it by p2p, cash or ATM. One hit per sweep,
  value 1; the evidence is the sweep and the draining payments.
* **same-owner transfers**: at least `min_transfers` payments within `window_days` days between
  the business and other business accounts that share an owner with it. An owner is a party
  (`party_id`) on the business account, as holder, joint holder or authorised person: a business
  is usually held by its legal entity, with the owner authorised on it. Value: the number of such
  transfers in the episode.

## Why it matters
FINTRAC (Project PROTECT) saw proceeds from victims and clients moved at once from personal
accounts into a business account and then drained by e-transfers and cash withdrawals, so the
money looks like business takings and leaves again; and frequent transfers between several
businesses of the same owner, which blur where each business's money came from.

## Typical false positives
An owner putting cash takings into the business and paying suppliers or staff by e-transfer;
groups of companies with a treasury account. Check what the business does and who is paid.

## Data needed
A parties table with `account_type` and `party_id` (skipped without them), the paying account and
`channel`.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import window_episodes
from followmoney.params import Interval, Param


class NET11(Indicator):
    id = "NET11"
    name = "business_sweep_and_drain"
    title = "Money swept into a business and drained, or circled among one owner's businesses"
    family = "network"
    typologies = ("sexual_exploitation", "laundering_of_proceeds")
    sources = ("FT21",)
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    requires_parties = ("account_type", "party_id")
    params = (
        Param("inflow_hours", 24, Interval(int, 1, 24 * 31), "Time from the personal account's inflow to the sweep",
              "hours"),
        Param("drain_hours", 72, Interval(int, 1, 24 * 31), "Time from the sweep to the draining payments", "hours"),
        Param("min_drain_ratio", 0.8, Interval(float, 0, 1, closed="right"),
              "Share of the sweep that must leave the business"),
        Param("min_transfers", 4, Interval(int, 1, None), "Transfers with same-owner businesses inside one window"),
        Param("window_days", 30, Interval(int, 1, 366), "Window of the same-owner transfers", "days"),
    )
    role_hint = "front_business"
    decisive = False
    score_doc = ("0.35 per sweep-and-drain hit; same-owner transfers 0.3 at `min_transfers`, +0.02 per extra one, "
                 "capped at 0.45: never alerts on its own.")
    reason = ("swept from a personal account and {min_drain_ratio:.0%}+ drained within {drain_hours} h, or "
              "{min_transfers}+ transfers with the same owner's businesses within {window_days} days")
    # Arm 2 is written through `window_episodes` (its CTEs end the WITH clause), arm 1 is joined by
    # UNION ALL with the same columns; `arm` tells them apart in the details.
    sql = """
    WITH kinds AS (
        SELECT c.account_key, max(CASE WHEN lower(trim(k.account_type)) = 'business' THEN 1 ELSE 0 END) AS is_business
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        GROUP BY c.account_key
    ),
    owners AS (
        SELECT DISTINCT c.account_key, k.party_id
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        JOIN kinds AS b ON b.account_key = c.account_key
        WHERE b.is_business = 1 AND k.party_id IS NOT NULL
    ),
    siblings AS (
        SELECT DISTINCT a.account_key, o.account_key AS sibling
        FROM owners AS a JOIN owners AS o ON o.party_id = a.party_id AND o.account_key <> a.account_key
    ),
    sweeps AS (
        SELECT p.account_key AS biz, p.counterparty_key AS person, p.txn_idx, p.ts, p.ts_s, p.amount
        FROM postings AS p
        JOIN kinds AS b ON b.account_key = p.account_key AND b.is_business = 1
        JOIN kinds AS s ON s.account_key = p.counterparty_key AND s.is_business = 0
        WHERE p.amount > 0 AND p.channel IN ('p2p', 'transfer')
    ),
    fed AS (
        SELECT DISTINCT s.biz, s.txn_idx, s.ts, s.ts_s, s.amount
        FROM sweeps AS s
        JOIN postings AS i ON i.account_key = s.person AND i.amount > 0 AND i.channel IN ('cash', 'p2p')
         AND i.ts_s BETWEEN s.ts_s - $inflow_hours * 3600 AND s.ts_s
    ),
    drains AS (
        SELECT f.biz, f.txn_idx AS sweep_txn, f.ts AS sweep_ts, f.ts_s AS sweep_s, f.amount AS swept,
               d.txn_idx, d.ts, d.ts_s, -d.amount AS paid
        FROM fed AS f
        JOIN postings AS d ON d.account_key = f.biz AND d.amount < 0 AND d.channel IN ('p2p', 'cash', 'atm')
         AND d.ts_s > f.ts_s AND d.ts_s <= f.ts_s + $drain_hours * 3600
    ),
    drained AS (
        SELECT biz, sweep_txn, sweep_ts, sweep_s, swept, max(ts) AS last_ts
        FROM drains GROUP BY biz, sweep_txn, sweep_ts, sweep_s, swept
        HAVING sum(paid) >= $min_drain_ratio * swept
    ),
    drain_evidence AS (
        SELECT d.biz, d.sweep_txn, d.txn_idx, d.ts_s FROM drains AS d
        JOIN drained AS x ON x.biz = d.biz AND x.sweep_txn = d.sweep_txn
        UNION ALL
        SELECT biz, sweep_txn, sweep_txn AS txn_idx, sweep_s AS ts_s FROM drained
    ),
    arm_sweep AS (
        SELECT x.biz AS account_key, x.sweep_ts AS window_start, x.last_ts AS window_end, CAST(1 AS DOUBLE) AS value,
               list(e.txn_idx ORDER BY e.ts_s, e.txn_idx) AS evidence, round(x.swept, 2) AS total_amount,
               'sweep_and_drain' AS arm
        FROM drained AS x JOIN drain_evidence AS e ON e.biz = x.biz AND e.sweep_txn = x.sweep_txn
        GROUP BY x.biz, x.sweep_txn, x.sweep_ts, x.last_ts, x.swept
    ),
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.txn_idx AS k
        FROM postings AS p
        JOIN siblings AS s ON s.account_key = p.account_key AND s.sibling = p.counterparty_key
        WHERE p.channel IN ('p2p', 'transfer', 'wire', 'ach', 'cheque')
    )""" + window_episodes("n >= $min_transfers", "$window_days * 86400",
                           extra=", 'same_owner_transfers' AS arm") + """
    UNION ALL
    SELECT account_key, window_start, window_end, value, evidence, total_amount, arm FROM arm_sweep
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.35 for a sweep-and-drain hit (value 1, below `min_transfers`).

        Same-owner transfers: 0.3 at `min_transfers`, +0.02 per extra one, capped at 0.45.
        """
        transfers = np.clip(0.3 + 0.02 * (value - params["min_transfers"]), 0.0, 0.45)
        return np.where(value < params["min_transfers"], 0.35, transfers)
