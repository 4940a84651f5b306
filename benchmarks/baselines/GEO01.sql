-- GEO01 multi_city_movement: windows with >= min_cities cities, merged into occurrences, >= min_occurrences
-- occurrences starting within period_days.
WITH located AS (
    SELECT account_key, ts_s, city FROM postings WHERE channel IN ('cash', 'atm', 'card') AND city IS NOT NULL
),
anchors AS (
    SELECT account_key, ts_s,
           count(DISTINCT city) OVER (PARTITION BY account_key ORDER BY ts_s
                                      RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW) AS n_cities
    FROM located
),
qualifying AS (
    SELECT account_key, ts_s, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s) AS prev_s
    FROM anchors WHERE n_cities >= $min_cities
),
occurrences AS (
    SELECT account_key, ts_s - $window_days * 86400 AS start_s
    FROM qualifying WHERE prev_s IS NULL OR ts_s - $window_days * 86400 > prev_s
),
counted AS (
    SELECT account_key, count(*) OVER (PARTITION BY account_key ORDER BY start_s
                                       RANGE BETWEEN CURRENT ROW AND $period_days * 86400 FOLLOWING) AS n
    FROM occurrences
)
SELECT DISTINCT account_key FROM counted WHERE n >= $min_occurrences ORDER BY 1
