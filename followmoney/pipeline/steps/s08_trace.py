"""Stage `trace` (step 8: run a parallel financial investigation).

Follows the money downstream from every case subject (alerted accounts and cluster members) for
two hops, time-respecting: a second-hop payment counts only if it left the intermediary after the
subject's money first arrived there. Amounts are attributed by the proportional rule: a second-hop
payment is attributed to the subject in the share the subject contributed to the intermediary's
credits over the period. Cash-outs and payments with no account end a path.
"""

from __future__ import annotations

from followmoney.pipeline.stage import Context, Stage

_SQL = """
CREATE OR REPLACE TABLE trace_flows AS
WITH subjects AS (
    SELECT account_key FROM accounts
    WHERE account_id IN (SELECT account_id FROM alerts UNION SELECT account_id FROM clusters)
),
legs AS (
    SELECT p.account_key AS subject_key, p.account_key AS from_key, p.counterparty_key AS to_key, p.channel,
           -p.amount AS amount, p.ts
    FROM postings AS p WHERE p.amount < 0 AND p.account_key IN (SELECT account_key FROM subjects)
),
hop1 AS (
    SELECT subject_key, from_key, to_key,
           CASE WHEN to_key IS NOT NULL THEN 'account' WHEN channel IN ('cash', 'atm') THEN 'cash_out'
                ELSE 'no_account' END AS endpoint,
           sum(amount) AS amount, sum(amount) AS attributed, count(*) AS n_txns, min(ts) AS first_ts,
           max(ts) AS last_ts
    FROM legs GROUP BY ALL
),
credits AS (
    SELECT account_key, sum(amount) AS total_in FROM postings
    WHERE amount > 0 AND account_key IN (SELECT to_key FROM hop1 WHERE to_key IS NOT NULL) GROUP BY 1
),
hop2 AS (
    SELECT h.subject_key, p.account_key AS from_key, p.counterparty_key AS to_key,
           CASE WHEN p.counterparty_key IS NOT NULL THEN 'account' WHEN p.channel IN ('cash', 'atm') THEN 'cash_out'
                ELSE 'no_account' END AS endpoint,
           sum(-p.amount) AS amount, sum(-p.amount * least(1.0, h.amount / c.total_in)) AS attributed,
           count(*) AS n_txns, min(p.ts) AS first_ts, max(p.ts) AS last_ts
    FROM hop1 AS h
    JOIN postings AS p ON p.account_key = h.to_key AND p.amount < 0 AND p.ts >= h.first_ts
    JOIN credits AS c ON c.account_key = h.to_key
    WHERE h.to_key <> h.subject_key
    GROUP BY h.subject_key, p.account_key, p.counterparty_key, 4
)
SELECT s.account_id AS subject_account, f.hop, fa.account_id AS from_account, ta.account_id AS to_account,
       f.endpoint, round(f.amount, 2) AS amount, round(f.attributed, 2) AS attributed, f.n_txns, f.first_ts, f.last_ts
FROM (SELECT 1 AS hop, * FROM hop1 UNION ALL SELECT 2 AS hop, * FROM hop2) AS f
JOIN accounts AS s ON s.account_key = f.subject_key
JOIN accounts AS fa ON fa.account_key = f.from_key
LEFT JOIN accounts AS ta ON ta.account_key = f.to_key
ORDER BY subject_account, hop, from_account, to_account NULLS LAST, endpoint
"""


def _run(ctx: Context) -> dict[str, int]:
    ctx.ws.sql(_SQL)
    return {"trace_flows": ctx.ws.count("trace_flows")}


STAGE = Stage(
    name="trace",
    step=8,
    theme="run a parallel financial investigation",
    summary="follow funds two hops downstream from case subjects with proportional attribution",
    needs=("alerts", "clusters", "postings", "accounts"),
    produces=("trace_flows",),
    run=_run,
)
