"""Detection on Spark for a pipeline whose workspace is DuckDB: postings out, hits back.

`collect` builds postings in the DuckDB workspace. For `--engine spark`, stage `detect` writes
postings and the support tables to Parquet, Spark reads them as DataFrames and runs every
indicator, and only the hits come back to be decoded (`write_hits`) into the workspace, where
`score` and the later stages read them. Banks whose postings already live in Spark skip this
module and use `SparkEngine` directly.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from followmoney.engines.base import Plan
from followmoney.engines.duckdb import export_parquet, write_hits
from followmoney.workspace import Workspace

SUPPORT_TABLES = ("accounts", "parties", "lists", "mcc_groups", "identifier_keys", "identifier_exclusions")
"""Workspace tables an SQL indicator may join besides `postings` (the identifier tables exist when
an indicator over shared identifiers, NET13, is in the plan: stage `detect` builds them first)."""


def detect_on_spark(ws: Workspace, plan: Plan, spark: Any = None, master: str | None = None,
                    progress: Callable[[int], None] | None = None,
                    timings: dict[str, float] | None = None, not_portable: dict[str, str] | None = None) -> int:
    """Run `plan` on Spark over the workspace's postings and write the decoded `hits` table.

    Args:
        ws: the workspace holding `postings`, `accounts` and `txns`.
        plan: indicators with their resolved parameters.
        spark: a SparkSession; built with `spark_session(master)` when None.
        master: Spark master URL used when no session is given.
        progress: progress callback.
        timings: filled with seconds per indicator and for the kernel pass.
        not_portable: filled with the SQL indicators left out because they cannot run on Spark, and why.

    Returns:
        Rows in `hits`.

    The Parquet hand-off goes to `FOLLOWMONEY_SPARK_STAGING` (which must be storage every executor
    can read when the master is a cluster) or a temporary folder, removed afterwards.
    """
    from followmoney.engines.spark import SparkEngine, spark_session

    session = spark if spark is not None else spark_session(master)
    base = os.environ.get("FOLLOWMONEY_SPARK_STAGING")
    if base:
        os.makedirs(base, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="followmoney-spark-", dir=base or None)
    try:
        paths = export_parquet(ws, ["postings", *SUPPORT_TABLES], folder)
        frames = {name: session.read.parquet(path) for name, path in paths.items()}
        engine = SparkEngine(session, frames.pop("postings"), frames)
        raw = engine.raw_hits(plan, progress, timings)
        if not_portable is not None:
            not_portable.update(engine.not_portable)
    finally:
        # The views point at files removed below: a later scan in the same session must not see a
        # table this workspace did not have (e.g. `parties`) through a view left from this one.
        for name in ("postings", *SUPPORT_TABLES):
            session.catalog.dropTempView(name)
        shutil.rmtree(folder, ignore_errors=True)
    return write_hits(ws, raw)
