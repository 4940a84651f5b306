"""The run-scoped Spark data plane: where the big tables of a `--engine spark` scan live.

Stage `collect` on Spark builds `txns`, `postings` and the tables derived from them as Spark
DataFrames; each is written once as Parquet into the run's staging folder and read back, so a
table's lineage is one Parquet scan however long the ingest that built it was. Later stages find
them here by name (`detect` runs the Spark engine on them, `link` aggregates the flow graph on
them), and the DuckDB workspace sees the big ones as views over the same files.

The staging folder follows the rule of `engines.handoff`: under `FOLLOWMONEY_SPARK_STAGING` when it
is set (which must be storage every executor can read on a cluster), else a temporary folder.

This module never imports duckdb: it runs where only pyspark is installed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from followmoney.errors import PipelineError

if TYPE_CHECKING:  # pragma: no cover - typing only; pyspark is optional
    from pyspark.sql import DataFrame, SparkSession

FILE_ROWS = 1 << 22
"""Rows per Parquet file of a plane table whose size is known."""

STAGING_ENV = "FOLLOWMONEY_SPARK_STAGING"
"""Environment variable naming the base folder of Spark hand-offs and planes."""


def staging_folder(prefix: str = "followmoney-spark-") -> tuple[str, bool]:
    """A new folder for Parquet hand-offs, and whether it is under `FOLLOWMONEY_SPARK_STAGING`.

    Without the variable the folder is a temporary one on this machine, which only local mode can
    share with its executors.
    """
    base = os.environ.get(STAGING_ENV)
    if base:
        os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=base or None), bool(base)


class SparkPlane:
    """A Spark session, a staging folder and the run's DataFrames by table name.

    Args:
        spark: the session every table belongs to.
        folder: the staging folder; a new one (see `staging_folder`) when None.

    Attributes:
        spark: the session.
        folder: where the tables' Parquet files are.
        shared: whether the folder is under `FOLLOWMONEY_SPARK_STAGING` (kept after the run, so a
            saved workspace's views over it stay readable) rather than a temporary folder.
        frames: DataFrames by table name, each read back from its Parquet files.
        paths: Parquet folder of each table.
    """

    def __init__(self, spark: SparkSession, folder: str | None = None):
        self.spark = spark
        if folder is None:
            folder, shared = staging_folder("followmoney-plane-")
        else:
            os.makedirs(folder, exist_ok=True)
            shared = True
        self.folder = folder
        self.shared = shared
        self.frames: dict[str, DataFrame] = {}
        self.paths: dict[str, str] = {}
        self.closed = False

    def put(self, name: str, df: DataFrame, order_by: list[str] | None = None,
            rows: int | None = None) -> DataFrame:
        """Write `df` as table `name` (sorted by `order_by` when given) and keep the DataFrame read back.

        A sorted table is written by range partition: part files follow the order, so a reader that
        reads the files in name order (DuckDB's `read_parquet` over the folder) sees the rows in order,
        and each file's row-group statistics cover a narrow key range.

        Args:
            name: the table's name (not starting with '_' or '.').
            df: its rows.
            order_by: columns to sort by.
            rows: the table's expected rows, when known: it is then written as one file per
                `FILE_ROWS` rows rather than one per shuffle partition (readers split big files anyway;
                many small files only cost every later scan a task each).
        """
        if self.closed:
            raise PipelineError(f"The Spark plane {self.folder} is closed; table {name} cannot be written.")
        if name.startswith(("_", ".")):
            # Spark's file listing takes such folders for hidden files and skips them.
            raise PipelineError(f"A Spark plane table name must not start with '_' or '.': {name}.")
        path = os.path.join(self.folder, name)
        files = max(1, -(-rows // FILE_ROWS)) if rows is not None else None
        if order_by and files:
            df = df.repartitionByRange(files, *order_by).sortWithinPartitions(*order_by)
        elif order_by:
            df = df.orderBy(*order_by)
        elif files:
            df = df.coalesce(files)
        df.write.mode("overwrite").parquet(path)
        self.paths[name] = path
        self.frames[name] = self.spark.read.parquet(path)
        return self.frames[name]

    def has(self, name: str) -> bool:
        """Whether the plane holds table `name`."""
        return name in self.frames

    def __getitem__(self, name: str) -> DataFrame:
        if name not in self.frames:
            raise PipelineError(f"The Spark plane has no table {name}; it has {', '.join(sorted(self.frames))}.")
        return self.frames[name]

    def glob(self, name: str) -> str:
        """The glob of table `name`'s Parquet part files, for a reader outside Spark (DuckDB)."""
        return os.path.join(self.paths[name], "*.parquet")

    def drop(self, name: str) -> None:
        """Forget table `name` and remove its files (a staging table nobody reads any more)."""
        self.frames.pop(name, None)
        path = self.paths.pop(name, None)
        if path:
            shutil.rmtree(path, ignore_errors=True)

    def close(self, remove: bool | None = None) -> None:
        """Forget every table and remove the folder (by default only a temporary one).

        Args:
            remove: remove the folder; None removes it unless it is under `FOLLOWMONEY_SPARK_STAGING`.
        """
        if self.closed:
            return
        self.closed = True
        self.frames.clear()
        if remove if remove is not None else not self.shared:
            shutil.rmtree(self.folder, ignore_errors=True)

    def describe(self) -> dict[str, Any]:
        """Folder and tables, for the manifest."""
        return {"folder": self.folder, "shared": self.shared, "tables": sorted(self.frames)}
