"""Money split over several intermediaries and gathered again in one account.

## What it flags
An account (the gatherer) that receives, within `window_days` days of the split, payments from at
least `min_paths` distinct intermediaries, each of which had just been paid by the same origin
account: origin -> intermediary of at least `min_amount`, then intermediary -> gatherer of at
least `min_ratio` of it, later in time. Qualifying paths of one origin and gatherer form one hit,
valued at the number of distinct intermediaries; the evidence is the gathering payments.

## Why it matters
Scatter-gather is classic layering: proceeds are broken up over mule accounts so no single
transfer stands out, then reassembled at the controller or a front business. Each leg looks
ordinary; only the shape across accounts gives it away.

## Typical false positives
Family members each forwarding a parent's gift to the same person, group purchases settled via one
organiser, a company paying subcontractors who pay the same supplier. Check the relationships
between the intermediaries.

## Data needed
Only the accounts, `ts`, `amount` and `channel`: no parties table is needed. ACH and cheque legs
(payroll, bills) are left out: an employer paying three people who pay the same utility is not layering.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class NET05(Indicator):
    id = "NET05"
    name = "scatter_gather"
    title = "Split over intermediaries, gathered in one account"
    family = "network"
    typologies = ("laundering_of_proceeds",)
    sources = ("FATF18(sec)", "F20")
    requires = ("ts", "amount", "channel", "payer_account", "beneficiary_account")
    params = (
        Param("min_paths", 3, Interval(int, 2, None), "Distinct intermediaries between origin and gatherer"),
        Param("window_days", 14, Interval(int, 1, 366), "Time from a split to its gathering leg", "days"),
        Param("min_amount", 1000.0, Interval(float, 0, None, closed="neither"),
              "Smallest split payment", "reporting currency"),
        Param("min_ratio", 0.7, Interval(float, 0, 1, closed="right"),
              "Share of the split payment the gathering leg must carry"),
    )
    role_hint = "controller"
    decisive = False
    score_doc = "0.35 at `min_paths` intermediaries, +0.05 per extra one, capped at 0.45: never alerts on its own."
    reason = "{value:.0f} intermediaries between one origin and this account within {window_days} days"
    sql = """
    WITH moves AS (
        SELECT account_key AS src, counterparty_key AS dst, ts, ts_s, txn_idx, -amount AS paid
        FROM postings
        -- A semi join on a VALUES table is pushed into the scan (an IN list of strings is not). Every move
        -- of a leg carries at least min_ratio * min_amount (the split at least min_amount, the gathering
        -- leg min_ratio of the split, min_ratio <= 1): smaller payments are dropped in the scan.
        WHERE amount <= -($min_ratio * $min_amount) AND counterparty_key IS NOT NULL AND counterparty_key <> account_key
          AND channel IN (SELECT channel FROM (VALUES ('p2p'), ('transfer'), ('wire'), ('crypto')) AS t(channel))
    ),
    legs AS (
        SELECT a.src AS origin, a.dst AS mid, b.dst AS gatherer, b.txn_idx AS gather_txn, b.ts AS gather_ts,
               b.ts_s AS gather_s
        FROM moves AS a JOIN moves AS b
          ON b.src = a.dst AND b.ts_s >= a.ts_s AND b.ts_s <= a.ts_s + $window_days * 86400
         AND b.paid >= $min_ratio * a.paid AND b.dst <> a.src
        WHERE a.paid >= $min_amount
    ),
    -- A window cannot hold more intermediaries than the pair has in all: pairs with fewer than
    -- min_paths are dropped before the sliding count.
    pairs AS (
        SELECT origin, gatherer FROM legs GROUP BY origin, gatherer HAVING count(DISTINCT mid) >= $min_paths
    ),
    anchors AS (
        SELECT origin, gatherer, gather_s AS end_s
        FROM (SELECT l.origin, l.gatherer, l.gather_s,
                     count(DISTINCT l.mid) OVER (PARTITION BY l.origin, l.gatherer ORDER BY l.gather_s
                         RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW) AS n_mid
              FROM legs AS l JOIN pairs AS q ON q.origin = l.origin AND q.gatherer = l.gatherer)
        WHERE n_mid >= $min_paths
    ),
    -- One row per gathering payment: its payer is the intermediary, so DISTINCT leaves each once.
    kept AS (
        SELECT DISTINCT l.origin, l.gatherer, l.mid, l.gather_txn, l.gather_ts, l.gather_s
        FROM legs AS l JOIN anchors AS a
          ON l.origin = a.origin AND l.gatherer = a.gatherer
         AND l.gather_s BETWEEN a.end_s - $window_days * 86400 AND a.end_s
    )
    SELECT gatherer AS account_key, min(gather_ts) AS window_start, max(gather_ts) AS window_end,
           CAST(count(DISTINCT mid) AS DOUBLE) AS value, list(gather_txn ORDER BY gather_txn) AS evidence,
           any_value(origin) AS origin_key
    FROM kept
    GROUP BY gatherer, origin
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.35 at `min_paths`, +0.05 per extra intermediary, capped at 0.45."""
        return np.clip(0.35 + 0.05 * (value - params["min_paths"]), 0.0, 0.45)
