"""The flow graph's aggregation on Spark: `network.flows.build_flow_edges` over the plane's postings.

With `--engine spark` the postings live on Spark (`engines.spark_plane`); only the reduced edge
table (one row per payer, beneficiary and day) is written back, as Parquet, and loaded into the
workspace's `flow_edges`, where the cluster search reads it exactly as after a DuckDB aggregation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from followmoney.network.flows import FLOW_CHANNELS
from followmoney.workspace import Workspace

if TYPE_CHECKING:  # pragma: no cover - typing only; pyspark is optional
    from pyspark.sql import DataFrame

    from followmoney.engines.spark_plane import SparkPlane

PERSON_CHANNELS = ("p2p", "transfer")
"""Channels counted in `n_person`, as in `build_flow_edges`."""


def flow_channels() -> list[str]:
    """`FLOW_CHANNELS` (an SQL list literal shared with the DuckDB aggregation) as a Python list."""
    return [c.strip().strip("'") for c in FLOW_CHANNELS.strip("()").split(",")]


def flow_edges_frame(postings: DataFrame) -> DataFrame:
    """`flow_edges(payer_key, beneficiary_key, day, n, total, first_ts, last_ts, n_person)` as a Spark DataFrame.

    Same filters and rounding as `build_flow_edges`: debit legs with a counterparty on a flow channel;
    `total` is rounded as DuckDB's `round(x, 2)` is (round(x * 100) / 100 in doubles).
    """
    from pyspark.sql import functions as F

    debits = postings.where((F.col("amount") < 0) & F.col("counterparty_key").isNotNull()
                            & F.col("channel").isin(flow_channels()))
    return debits.groupBy(F.col("account_key").alias("payer_key"), F.col("counterparty_key").alias("beneficiary_key"),
                          F.to_date("ts").alias("day")).agg(
        F.count(F.lit(1)).alias("n"),
        (F.round(F.sum(-F.col("amount")) * 100, 0) / 100).alias("total"),
        F.min("ts").alias("first_ts"), F.max("ts").alias("last_ts"),
        F.count(F.when(F.col("channel").isin(list(PERSON_CHANNELS)), 1)).alias("n_person"))


def build_flow_edges_on_spark(plane: SparkPlane, ws: Workspace) -> int:
    """Aggregate the plane's postings on Spark and load only the edges into the workspace's `flow_edges`.

    Returns:
        Rows in `flow_edges`.
    """
    edges = plane.put("flow_edges", flow_edges_frame(plane["postings"]))
    del edges  # read back by DuckDB from the files, not collected through the driver
    path = plane.glob("flow_edges").replace("'", "''")
    ws.sql(f"""CREATE OR REPLACE TABLE flow_edges AS
               SELECT CAST(payer_key AS INTEGER) AS payer_key, CAST(beneficiary_key AS INTEGER) AS beneficiary_key,
                      day, n, total, first_ts, last_ts, n_person
               FROM read_parquet('{path}') ORDER BY payer_key, beneficiary_key, day""")
    return ws.count("flow_edges")
