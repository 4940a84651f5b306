"""Stage `feedback` (step 11: feed back, evaluate and update the indicators).

Records the catalogue version used and, per indicator, how many accounts it hit and how many of
those alerted. When a labels file is given (`labels.parquet` from the simulator, or a bank's own
confirmed cases with `account_id` and `expected_alert`), it also measures precision and recall per
indicator and overall at account level, the basis for recalibrating thresholds.
"""

from __future__ import annotations

from followmoney.ingest.read import expand_sources, read_raw
from followmoney.pipeline.stage import Context, Stage
from followmoney.registry import catalogue_version


def _run(ctx: Context) -> dict[str, int]:
    ws = ctx.ws
    version = catalogue_version()
    ws.set_meta("catalogue_version", version)
    labelled = bool(ctx.options.labels)
    if labelled:
        (src,) = expand_sources([ctx.options.labels], "labels")
        read_raw(ws, src, "__fm_labels_raw", {"header": True})
        ws.sql("""CREATE OR REPLACE TEMP TABLE __fm_truth AS
                  SELECT CAST(account_id AS VARCHAR) AS account_id, bool_or(CAST(expected_alert AS BOOLEAN)) AS positive
                  FROM __fm_labels_raw GROUP BY 1""")
        ws.drop("__fm_labels_raw")
    truth = "__fm_truth" if labelled else "(SELECT CAST(NULL AS VARCHAR) AS account_id, false AS positive WHERE false)"
    ws.sql(f"""CREATE OR REPLACE TABLE feedback AS
        WITH flagged AS (
            SELECT p.indicator_id, h.account_id FROM indicator_plan AS p
            LEFT JOIN (SELECT DISTINCT indicator_id, account_id FROM hits) AS h USING (indicator_id)
            UNION ALL SELECT '(alerts)', account_id FROM alerts
        ),
        per AS (
            SELECT f.indicator_id, count(f.account_id) AS accounts_flagged,
                   count(f.account_id) FILTER (WHERE f.account_id IN (SELECT account_id FROM alerts)) AS accounts_alerted,
                   count(f.account_id) FILTER (WHERE t.positive) AS true_positives,
                   count(f.account_id) FILTER (WHERE f.account_id IS NOT NULL AND coalesce(t.positive, false) = false)
                     AS false_positives
            FROM flagged AS f LEFT JOIN {truth} AS t ON t.account_id = f.account_id
            GROUP BY 1
        )
        SELECT '{version}' AS catalogue_version, indicator_id, accounts_flagged, accounts_alerted,
               {'true_positives' if labelled else 'CAST(NULL AS BIGINT)'} AS true_positives,
               {'false_positives' if labelled else 'CAST(NULL AS BIGINT)'} AS false_positives,
               {'round(true_positives / nullif(accounts_flagged, 0), 6)' if labelled else 'CAST(NULL AS DOUBLE)'} AS precision,
               {'round(true_positives / nullif((SELECT count(*) FROM __fm_truth WHERE positive), 0), 6)'
                if labelled else 'CAST(NULL AS DOUBLE)'} AS recall
        FROM per ORDER BY indicator_id""")
    ctx.notes["feedback"] = {"catalogue_version": version, "labelled": labelled}
    return {"feedback": ws.count("feedback")}


STAGE = Stage(
    name="feedback",
    step=11,
    theme="feed back, evaluate and update the indicators",
    summary="record the catalogue version; measure precision and recall against labels",
    needs=("hits", "alerts", "indicator_plan"),
    produces=("feedback",),
    run=_run,
)
