-- RUN02 lodging_multi_city: the rule's former SQL (before it became a kernel over the shared pass), unchanged:
-- its events scanned from postings, then indicators/_sql.py window_episodes. One row per hit:
-- bench_catalogue.py takes its distinct accounts, tests/test_indicator_kernels_episodes.py the rows.
WITH matched AS (
        SELECT n.raw, min(l.tag) AS tag
        FROM (SELECT DISTINCT counterparty_name AS raw FROM postings WHERE counterparty_name IS NOT NULL) AS n
        JOIN lists AS l ON l.list_name = 'short_stay_lodging' AND contains(lower(trim(n.raw)), l.value)
        GROUP BY n.raw
    ),
    lodging AS (
        -- Two disjoint scans DuckDB pushes into postings (by MCC group, then by matched name), not one OR.
        SELECT account_key, txn_idx, ts, ts_s, amount, city FROM postings
        WHERE amount < 0 AND city IS NOT NULL AND merchant_group = 'lodging'
        UNION ALL
        SELECT account_key, txn_idx, ts, ts_s, amount, city FROM postings
        WHERE amount < 0 AND city IS NOT NULL AND counterparty_name IN (SELECT raw FROM matched)
          AND merchant_group IS DISTINCT FROM 'lodging'
    ),
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, lower(trim(p.city)) AS k
        FROM lodging AS p JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer
    ),
    win AS (
        SELECT a.account_key, a.ts_s AS end_s, count(*) AS n, count(DISTINCT e.k) AS n_distinct,
               sum(abs(e.amount)) AS total
        FROM events AS a
        JOIN events AS e ON e.account_key = a.account_key AND e.ts_s BETWEEN a.ts_s - $window_days * 86400 AND a.ts_s
        GROUP BY a.account_key, a.txn_idx, a.ts_s
    ),
    anchors AS (SELECT DISTINCT account_key, end_s FROM win WHERE n >= $min_count AND n_distinct >= $min_cities),
    evidence AS (
        SELECT DISTINCT e.account_key, e.txn_idx, e.ts, e.ts_s, e.amount, e.k
        FROM events AS e
        JOIN anchors AS a ON e.account_key = a.account_key AND e.ts_s BETWEEN a.end_s - $window_days * 86400 AND a.end_s
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(count(DISTINCT k) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence, round(sum(abs(amount)), 2) AS total_amount, CAST(count(*) AS INTEGER) AS n_charges
    FROM numbered
    GROUP BY account_key, episode
