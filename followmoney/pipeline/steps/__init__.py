"""The stages, in order. Each module holds one `STAGE`; `STAGES` lists them in the order they run."""

from followmoney.pipeline.steps import (
    s01_scope,
    s02_collect,
    s03_share,
    s04_indicators,
    s05_detect,
    s06_score,
    s07_link,
    s08_trace,
    s09_assets,
    s10_report,
    s11_feedback,
)

STAGES = tuple(
    m.STAGE
    for m in (s01_scope, s02_collect, s03_share, s04_indicators, s05_detect, s06_score, s07_link, s08_trace,
              s09_assets, s10_report, s11_feedback)
)
