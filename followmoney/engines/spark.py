"""The Spark engine: the same indicator definitions, run where the postings live.

* SQL indicators are written once in DuckDB's dialect; `engines.dialects.to_spark` renders them
  for Spark (after the portable-function check) and `spark.sql(text, args=params)` binds the same
  parameter dict DuckDB binds.
* Kernel indicators run on the executors: postings are cut into account-hash buckets,
  `groupBy(bucket).applyInArrow` hands each bucket (whole accounts) to the one adapter
  `kernels.adapter.run_kernels`, which the DuckDB engine uses too. A bucket is sorted by
  (account_key, ts_s, txn_idx) inside the task, so the shuffle needs no global order.
* Only hits travel back to the driver, never postings.

pyspark is an optional dependency (`pip install followmoney[spark]`), imported only when this
engine is used; this module never imports duckdb, so it runs where only pyspark is installed.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from followmoney.engines.base import Engine, Plan
from followmoney.engines.dialects import split_portable, to_spark
from followmoney.errors import EngineError, FollowMoneyError
from followmoney.indicator import Indicator
from followmoney.kernels.adapter import KERNEL_HIT_SCHEMA, RAW_HIT_SCHEMA, postings_query, run_kernels
from followmoney.kernels.inputs import (
    ACCOUNT_INPUTS,
    SQL_TYPES,
    account_inputs_of,
    distinct_values,
    lookups_of,
)

if TYPE_CHECKING:  # pragma: no cover - typing only; pyspark is optional
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

SQL_HIT_SCHEMA = RAW_HIT_SCHEMA.append(pa.field("details", pa.string()))
"""What `run_sql_indicator` returns, on both engines."""

KERNEL_OUTPUT_SCHEMA = pa.schema([pa.field("indicator_id", pa.string()), *KERNEL_HIT_SCHEMA])
"""What one bucket's task returns: raw kernel hits tagged with their indicator."""

# The Spark type of each column above. applyInArrow checks returned Arrow types exactly, so
# timestamps are TIMESTAMP_NTZ (Arrow timestamp[us] without zone) and keys INT (int32).
_KERNEL_OUTPUT_DDL = ("indicator_id string, account_key int, window_start timestamp_ntz, "
                      "window_end timestamp_ntz, value double, evidence array<bigint>, details string")

DEFAULT_BUCKET_ROWS = 1 << 21
"""Postings per kernel bucket on Spark: one bucket is loaded whole into an executor's memory."""


def require_pyspark() -> Any:
    """Import pyspark, or explain how to install it.

    Raises:
        FollowMoneyError: pyspark is not installed.
    """
    try:
        import pyspark
        import pyspark.sql  # noqa: F401 - the submodule is what the engine uses
    except ImportError as err:
        raise FollowMoneyError(
            "The Spark engine needs pyspark, which is not installed: pip install followmoney[spark] "
            "(and Java 17 for Spark itself)."
        ) from err
    return pyspark


def spark_session(master: str | None = None, app_name: str = "followmoney",
                  conf: dict[str, str] | None = None) -> SparkSession:
    """Get the active SparkSession or build one configured for followmoney.

    Args:
        master: Spark master URL (`local[2]`, `spark://host:7077`, `yarn`); `local[*]` when None and
            no session is active. Ignored when a session is already active.
        app_name: application name shown in the cluster UI.
        conf: further Spark settings.

    Returns:
        The session; its time zone is UTC, as the DuckDB workspace's is.
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # Executors must run this interpreter (which has followmoney and numba), not `python3` on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name).master(master or "local[*]")
    settings = {
        "spark.sql.session.timeZone": "UTC",  # both engines in UTC: no local-time shifts of `ts`
        "spark.ui.showConsoleProgress": "false",  # progress bars would garble the CLI's output
    }
    numba_cache = os.environ.get("NUMBA_CACHE_DIR")
    if numba_cache:
        # Kernels compiled once per executor directory instead of once per Python worker.
        settings["spark.executorEnv.NUMBA_CACHE_DIR"] = numba_cache
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _kernel_input_query(plan: Plan) -> str:
    """DuckDB-dialect SQL (transpiled before it runs) of every kernel input: the shared postings
    projection, value lookups joined by value and account-level inputs joined by account (on Spark
    joins before the shuffle; the DuckDB engine gathers both instead, to keep its stored order)."""
    lookups = list(lookups_of(plan).items())
    extra = [f"CAST(l{i}.value AS {SQL_TYPES[lookup.dtype]}) AS {alias}" for i, (alias, lookup) in enumerate(lookups)]
    joins = " ".join(f"LEFT JOIN ({lookup.over(distinct_values(lookup.column))}) AS l{i} "
                     f"ON l{i}.raw = postings.{lookup.column}" for i, (_, lookup) in enumerate(lookups))
    inner = postings_query(plan, extra, joins)
    names = account_inputs_of(plan)
    if not names:
        return inner
    outer = ", ".join(f"CAST(a{i}.value AS {SQL_TYPES[ACCOUNT_INPUTS[n].dtype]}) AS {n}" for i, n in enumerate(names))
    joins = " ".join(f"LEFT JOIN ({ACCOUNT_INPUTS[n].sql}) AS a{i} ON a{i}.account_key = q.account_key"
                     for i, n in enumerate(names))
    return f"SELECT q.*, {outer} FROM ({inner}) AS q {joins}"


def bucket_task(plan: Plan) -> Callable[[pa.Table], pa.Table]:
    """The function applyInArrow runs on each account-hash bucket: every kernel of `plan`.

    A plain annotated function (`pa.Table -> pa.Table`): pyspark infers the UDF kind from its type
    hints and fails on a `functools.partial` or a callable object (pyspark 4.3). The indicator
    classes it closes over are pickled by reference, so executors import their modules and numba's
    on-disk cache applies there.

    Args:
        plan: the kernel indicators with their parameters.
    """

    fills = {name: ACCOUNT_INPUTS[name].missing for name in account_inputs_of(plan)}
    fills.update({alias: lookup.missing for alias, lookup in lookups_of(plan).items()})

    def task(table: pa.Table) -> pa.Table:
        table = table.drop_columns(["__fm_bucket"])
        if table.num_rows == 0:
            return KERNEL_OUTPUT_SCHEMA.empty_table()
        # Accounts the account-level query has no row for, and values a lookup leaves out, get the
        # same value as on DuckDB.
        for name, missing in fills.items():
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, pc.fill_null(table.column(name), missing))
        # The shuffle gives whole accounts in no particular order: sort here, per bucket.
        table = table.sort_by([("account_key", "ascending"), ("ts_s", "ascending"), ("txn_idx", "ascending")])
        parts = []
        for ind_id, hits in run_kernels(table, plan).items():
            if hits.num_rows:
                parts.append(hits.add_column(0, "indicator_id", pa.array([ind_id] * hits.num_rows, pa.string())))
        if not parts:
            return KERNEL_OUTPUT_SCHEMA.empty_table()
        return pa.concat_tables(parts).cast(KERNEL_OUTPUT_SCHEMA)

    return task


class SparkEngine(Engine):
    """Run indicators on Spark over a DataFrame of postings.

    Args:
        spark: the session; its `spark.sql.session.timeZone` must be UTC.
        postings: the `postings` contract (`followmoney.schema.POSTINGS`) as a Spark DataFrame.
        tables: support tables SQL indicators may read (`accounts`, `lists`, `mcc_groups`), by name.
        n_buckets: account-hash buckets for kernels; by default enough for `bucket_rows` postings
            each, and at least the session's default parallelism.
        bucket_rows: target postings per bucket when `n_buckets` is not given.

    Raises:
        FollowMoneyError: pyspark is missing or the session is not in UTC.
    """

    name = "spark"

    def __init__(self, spark: SparkSession, postings: DataFrame, tables: dict[str, DataFrame] | None = None,
                 n_buckets: int | None = None, bucket_rows: int = DEFAULT_BUCKET_ROWS):
        require_pyspark()
        from pyspark.sql import functions as F
        from pyspark.sql.types import TimestampType

        tz = spark.conf.get("spark.sql.session.timeZone")
        if tz != "UTC":
            raise FollowMoneyError(f"The Spark session's time zone is {tz}; set spark.sql.session.timeZone=UTC "
                                   "so that Spark and DuckDB read the same instants.")
        self.spark = spark
        if isinstance(postings.schema["ts"].dataType, TimestampType):
            # In a UTC session this is the identity; it makes `ts` zone-free like DuckDB's TIMESTAMP.
            postings = postings.withColumn("ts", F.col("ts").cast("timestamp_ntz"))
        self.postings = postings
        self.tables = dict(tables or {})
        self.n_buckets = n_buckets
        self.bucket_rows = bucket_rows
        self.not_portable: dict[str, str] = {}
        postings.createOrReplaceTempView("postings")
        for name, df in self.tables.items():
            df.createOrReplaceTempView(name)

    def raw_hits(self, plan: Plan, progress: Callable[[int], None] | None = None,
                 timings: dict[str, float] | None = None) -> list[pa.Table]:
        """Like `Engine.raw_hits`, leaving out SQL indicators that are not portable to Spark.

        What was left out, and why, is kept in `self.not_portable` (indicator id to reason) and
        logged: a scan on Spark runs every portable indicator rather than failing on one.
        """
        runnable, self.not_portable = split_portable(plan)
        for ind_id, why in self.not_portable.items():
            log.warning("indicator %s not run on Spark: %s", ind_id, why)
        return super().raw_hits(runnable, progress, timings)

    def run_sql_indicator(self, cls: type[Indicator], params: dict[str, Any]) -> pa.Table:
        """Run one SQL indicator on Spark; extra result columns become the `details` JSON."""
        from pyspark.sql import functions as F

        assert cls.sql is not None
        text = to_spark(cls.sql)
        log.debug("%s on Spark:\n%s", cls.id, text)
        try:
            df = self.spark.sql(text, args=dict(params))
            extra = [c for c in df.columns if c not in RAW_HIT_SCHEMA.names]
            # DuckDB's to_json keeps null fields; Spark drops them unless told otherwise.
            details = F.to_json(F.struct(*extra), {"ignoreNullFields": "false"}) if extra else F.lit("{}")
            df = df.select(F.col("account_key").cast("int"), F.col("window_start").cast("timestamp_ntz"),
                           F.col("window_end").cast("timestamp_ntz"), F.col("value").cast("double"),
                           F.col("evidence").cast("array<bigint>"), details.alias("details"))
            table = df.toArrow()
        except Exception as err:  # noqa: BLE001 - wrapped with the indicator and SQL for the user
            raise EngineError(f"Spark failed: {err}", indicator=cls.id, sql=text) from err
        table = table.cast(SQL_HIT_SCHEMA)
        return table.sort_by([("account_key", "ascending"), ("window_start", "ascending")])

    def _buckets(self) -> tuple[int, int | None]:
        """(number of buckets, postings counted to choose it, or None when `n_buckets` was given)."""
        if self.n_buckets:
            return self.n_buckets, None
        rows = self.postings.count()
        return max(self.spark.sparkContext.defaultParallelism, math.ceil(rows / self.bucket_rows)), rows

    def run_kernel_indicators(self, plan: Plan, progress: Callable[[int], None] | None = None) -> dict[str, pa.Table]:
        """Run every kernel of `plan` on account-hash buckets with `applyInArrow`, one shuffle for all."""
        from pyspark.sql import functions as F

        if not plan:
            return {}
        n_buckets, rows = self._buckets()
        df = self.spark.sql(to_spark(_kernel_input_query(plan))).withColumn(
            "__fm_bucket", F.pmod(F.hash("account_key"), F.lit(n_buckets)))
        try:
            result = df.groupBy("__fm_bucket").applyInArrow(bucket_task(plan), _KERNEL_OUTPUT_DDL)
            table = result.toArrow().cast(KERNEL_OUTPUT_SCHEMA)
        except Exception as err:  # noqa: BLE001
            raise EngineError(f"Spark kernel pass failed: {err}", indicator=",".join(c.id for c, _ in plan)) from err
        if progress and rows:
            progress(rows)  # Spark reports no per-bucket progress to the driver: all at the end
        out = {}
        ids = table.column("indicator_id")
        for cls, _ in plan:
            part = table.filter(pc.equal(ids, cls.id)).drop_columns(["indicator_id"])
            # Buckets come back in any order; sort as the DuckDB engine's ordered stream does.
            out[cls.id] = part.sort_by([("account_key", "ascending"), ("window_start", "ascending"),
                                        ("window_end", "ascending")])
        return out
