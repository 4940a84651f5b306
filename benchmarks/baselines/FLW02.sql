-- FLW02 pass_through_depleted: the rule's former SQL (before it became a kernel), unchanged: periods of
-- period_days from the first posting, first-in-first-out hold times from running credit and debit totals,
-- end-of-day balances against the trailing credits, living-cost share. One row per hit: bench_catalogue.py
-- takes its distinct accounts, tests/test_indicator_kernels_running.py the rows.
WITH firsts AS (
    SELECT account_key, CAST(floor(min(ts_s) / 86400) AS BIGINT) AS first_day FROM postings GROUP BY account_key
),
data_end AS (SELECT CAST(floor(max(ts_s) / 86400) AS BIGINT) AS end_day FROM postings),
candidates AS (
    -- One cheap pass first: only accounts with a complete period whose flows pass (enough in, nearly all
    -- out, almost no living costs) get the balance and hold-time work below.
    SELECT DISTINCT account_key FROM (
        SELECT p.account_key,
               CAST(floor((floor(p.ts_s / 86400) - f.first_day) / $period_days) AS BIGINT) AS period,
               any_value(f.first_day) AS first_day,
               sum(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END) AS inflow,
               sum(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END) AS outflow,
               sum(CASE WHEN p.amount < 0 AND (coalesce(p.merchant_group IN ('grocery', 'utilities', 'property_rental'), false)
                                               OR contains(' ' || lower(coalesce(p.memo, '')) || ' ', ' rent '))
                        THEN -p.amount ELSE 0 END) AS living
        FROM postings AS p JOIN firsts AS f ON f.account_key = p.account_key
        GROUP BY p.account_key, period
    ) AS q CROSS JOIN data_end AS d
    WHERE q.first_day + (q.period + 1) * $period_days <= d.end_day + 1
      AND q.inflow >= $min_inflow AND q.outflow >= $min_out_ratio * q.inflow - 1e-6
      AND q.living < $max_living_share * q.outflow
),
legs AS (
    SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, CAST(floor(p.ts_s / 86400) AS BIGINT) AS day,
           (p.amount < 0 AND (coalesce(p.merchant_group IN ('grocery', 'utilities', 'property_rental'), false)
                              OR contains(' ' || lower(coalesce(p.memo, '')) || ' ', ' rent '))) AS is_living,
           round(sum(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END)
                 OVER (PARTITION BY p.account_key ORDER BY p.ts_s, p.txn_idx ROWS UNBOUNDED PRECEDING), 2) AS cum_in,
           round(sum(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END)
                 OVER (PARTITION BY p.account_key ORDER BY p.ts_s, p.txn_idx ROWS UNBOUNDED PRECEDING), 2) AS cum_out
    FROM postings AS p JOIN candidates AS c ON c.account_key = p.account_key
),
accts AS (
    SELECT account_key, greatest(0, max(cum_out - cum_in)) AS opening, min(day) AS first_day
    FROM legs GROUP BY account_key
),
levels AS (
    SELECT l.account_key, l.txn_idx, l.ts_s, round(a.opening + l.cum_in - l.amount / 2, 2) AS level, 0 AS kind
    FROM legs AS l JOIN accts AS a ON a.account_key = l.account_key WHERE l.amount > 0
    UNION ALL
    SELECT account_key, txn_idx, ts_s, cum_out, 1 FROM legs WHERE amount < 0
),
holds AS (
    -- First in, first out: half of a credit is gone at the first debit whose running total of
    -- debits reaches the running total of credits before it plus half of it.
    SELECT account_key, txn_idx, out_s - ts_s AS hold_s
    FROM (SELECT *, min(CASE WHEN kind = 1 THEN ts_s END)
                    OVER (PARTITION BY account_key ORDER BY level, kind, ts_s, txn_idx
                          ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS out_s
          FROM levels)
    WHERE kind = 0
),
periods AS (
    SELECT l.account_key, l.txn_idx, l.ts, l.ts_s, l.amount, l.day, l.is_living, l.cum_in, l.cum_out,
           a.opening, CAST(floor((l.day - a.first_day) / $period_days) AS BIGINT) AS period, a.first_day
    FROM legs AS l JOIN accts AS a ON a.account_key = l.account_key
),
flows AS (
    SELECT p.account_key, p.period,
           sum(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END) AS inflow,
           sum(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END) AS outflow,
           sum(CASE WHEN p.is_living THEN -p.amount ELSE 0 END) AS living,
           sum(CASE WHEN p.amount > 0 THEN 1 ELSE 0 END) AS n_credits,
           sum(CASE WHEN p.amount > 0 AND h.hold_s <= $max_hold_hours * 3600 THEN 1 ELSE 0 END) AS n_quick
    FROM periods AS p
    LEFT JOIN holds AS h ON h.account_key = p.account_key AND h.txn_idx = p.txn_idx
    CROSS JOIN data_end AS d
    GROUP BY p.account_key, p.period, p.first_day, d.end_day
    HAVING p.first_day + (p.period + 1) * $period_days <= d.end_day + 1
),
days AS (
    SELECT account_key, period, day, first_day,
           sum(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS day_in,
           max(CASE WHEN day_rank = 1 THEN opening + cum_in - cum_out END) AS eod_balance
    FROM (SELECT *, row_number() OVER (PARTITION BY account_key, day ORDER BY ts_s DESC, txn_idx DESC) AS day_rank
          FROM periods)
    GROUP BY account_key, period, day, first_day
),
day_flags AS (
    SELECT account_key, period,
           least(coalesce(lead(day) OVER (PARTITION BY account_key ORDER BY day), day + 100000),
                 first_day + (period + 1) * $period_days) - day AS weight,
           eod_balance < $max_balance_share * sum(day_in) OVER (PARTITION BY account_key ORDER BY day
                                                    RANGE BETWEEN $inflow_days - 1 PRECEDING AND CURRENT ROW) - 1e-6
               AS is_low
    FROM days
),
low_days AS (
    SELECT account_key, period, sum(CASE WHEN is_low THEN weight ELSE 0 END) / sum(weight) AS low_share
    FROM day_flags GROUP BY account_key, period
),
qualifying AS (
    SELECT f.account_key, f.period, d.low_share, f.inflow, f.outflow
    FROM flows AS f JOIN low_days AS d ON d.account_key = f.account_key AND d.period = f.period
    WHERE f.inflow >= $min_inflow AND f.outflow >= $min_out_ratio * f.inflow - 1e-6
      AND 2 * f.n_quick >= f.n_credits AND d.low_share >= $min_low_days_share - 1e-9
      AND f.living < $max_living_share * f.outflow
),
ranked AS (
    SELECT p.account_key, p.period, p.txn_idx, p.ts, p.ts_s,
           row_number() OVER (PARTITION BY p.account_key, p.period, p.amount > 0 ORDER BY abs(p.amount) DESC, p.txn_idx) AS r
    FROM periods AS p JOIN qualifying AS q ON q.account_key = p.account_key AND q.period = p.period
)
SELECT r.account_key, min(r.ts) AS window_start, max(r.ts) AS window_end, CAST(any_value(q.low_share) AS DOUBLE) AS value,
       list(r.txn_idx ORDER BY r.ts_s, r.txn_idx) AS evidence, round(any_value(q.inflow), 2) AS credits,
       round(any_value(q.outflow), 2) AS debits
FROM ranked AS r JOIN qualifying AS q ON q.account_key = r.account_key AND q.period = r.period
WHERE r.r <= 20
GROUP BY r.account_key, r.period
