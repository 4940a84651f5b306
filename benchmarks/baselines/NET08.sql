-- NET08 pooled_salary_account: the rule's former SQL (before it became a kernel over the shared pass), unchanged:
-- its events scanned from postings, then indicators/_sql.py window_episodes. One row per hit:
-- bench_catalogue.py takes its distinct accounts, tests/test_indicator_kernels_episodes.py the rows.
WITH payroll_memo AS (
        SELECT n.raw, min(l.tag) AS tag
        FROM (SELECT DISTINCT memo AS raw FROM postings WHERE memo IS NOT NULL) AS n
        JOIN lists AS l ON l.list_name = 'payroll_terms' AND contains(lower(trim(n.raw)), l.value)
        GROUP BY n.raw
    ),
    payroll AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.counterparty_key AS k
        FROM postings AS p
        JOIN payroll_memo AS m ON m.raw = p.memo
        JOIN accounts AS c ON c.account_key = p.account_key
        WHERE p.amount > 0 AND p.counterparty_key IS NOT NULL AND c.is_customer
    ),
    -- A window cannot hold more employers than the account has in all: accounts paid by fewer never
    -- qualify, so their (many) salary credits stay out of the window join.
    events AS (
        SELECT account_key, txn_idx, ts, ts_s, amount, k FROM payroll
        WHERE account_key IN (SELECT account_key FROM payroll GROUP BY account_key
                              HAVING count(DISTINCT k) >= $min_employers)
    ),
    win AS (
        SELECT a.account_key, a.ts_s AS end_s, count(*) AS n, count(DISTINCT e.k) AS n_distinct,
               sum(abs(e.amount)) AS total
        FROM events AS a
        JOIN events AS e ON e.account_key = a.account_key AND e.ts_s BETWEEN a.ts_s - $window_days * 86400 AND a.ts_s
        GROUP BY a.account_key, a.txn_idx, a.ts_s
    ),
    anchors AS (SELECT DISTINCT account_key, end_s FROM win WHERE n_distinct >= $min_employers),
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
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence, round(sum(abs(amount)), 2) AS total_amount
    FROM numbered
    GROUP BY account_key, episode
