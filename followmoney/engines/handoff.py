"""The bridge between the DuckDB workspace and Spark for `--engine spark` scans.

* Stage `collect` on Spark (`collect_on_spark`): the ingest runs on Spark (`engines.spark_collect`)
  into a run-scoped `SparkPlane`; the workspace gets the small tables (`accounts`, `identifiers`,
  `parties`, `quarantine`, the code tables, the `inputs` counts) and `txns` / `postings` as views
  over the plane's Parquet files, from which the driver-side stages read case slices only.
* Stage `detect` (`detect_on_spark`) runs the Spark engine on the plane's DataFrames; only hits come
  back, to be decoded (`write_hits`) into the workspace. Without a plane (a Spark `detect` after a
  DuckDB `collect`, e.g. `--from-stage detect`), postings and the support tables are exported from
  the workspace to Parquet first.
* `close_plane` ends the plane with the run: a temporary plane's views are turned into tables
  first, so the saved workspace stands on its own.

Banks whose postings already live in Spark skip this module and use `SparkEngine` directly.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from followmoney.engines.base import Plan
from followmoney.engines.duckdb import export_parquet, write_hits
from followmoney.engines.spark_plane import SparkPlane, staging_folder
from followmoney.workspace import Workspace

if TYPE_CHECKING:  # pragma: no cover
    from followmoney.pipeline.stage import Context

log = logging.getLogger(__name__)

SUPPORT_TABLES = ("accounts", "parties", "lists", "mcc_groups", "identifier_keys", "identifier_exclusions")
"""Workspace tables an SQL indicator may join besides `postings` (the identifier tables exist when
an indicator over shared identifiers, NET13, is in the plan: stage `detect` builds them first)."""

PLANE_TABLES = ("accounts", "parties")
"""Support tables a plane holds itself; the others are small and built in the workspace."""

VIEW_TABLES = ("txns", "postings")
"""Plane tables the workspace sees as views over their Parquet files."""

COPIED_TABLES = {"accounts": "account_key", "identifiers": "kind, value, account_id, source",
                 "city_codes": "code", "branch_codes": "code"}
"""Plane tables copied into the workspace (small), with the order they are stored in."""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _session(ctx: Context) -> Any:
    from followmoney.engines.spark import spark_session

    return ctx.options.spark if ctx.options.spark is not None else spark_session(ctx.options.spark_master)


def collect_on_spark(ctx: Context) -> dict[str, int]:
    """Stage `collect` with `engine="spark"`: ingest on Spark, the plane kept in `ctx.spark_plane`.

    Returns:
        Row counts of what it produced, as the DuckDB `collect` returns them.

    Raises:
        InputSchemaError, MappingError: as the DuckDB ingest (same checks, same messages).
        FollowMoneyError: pyspark missing, the session not in UTC, or an input the Spark ingest cannot read.
    """
    from followmoney.engines.spark_collect import QUARANTINE_ORDER, QUARANTINE_TABLES, collect_all
    from followmoney.errors import InputSchemaError, SchemaProblem
    from followmoney.ingest.read import expand_sources
    from followmoney.schema import PARTIES, QUARANTINE

    ws = ctx.ws
    settings = ctx.settings
    sources = expand_sources(ctx.options.sources, "transactions")
    if not sources:
        raise InputSchemaError([SchemaProblem("-", "-", "no_input", "at least one transactions file")])
    party_sources = expand_sources(ctx.options.parties, "parties")
    spark = _session(ctx)
    if ctx.spark_plane is not None:
        ctx.spark_plane.close()
    plane = ctx.spark_plane = SparkPlane(spark)
    # The merchant dictionary is a few hundred rows: handed over in memory, not through a file.
    mcc = spark.createDataFrame(ws.arrow("SELECT mcc, merchant_group FROM mcc_groups")) if ws.has("mcc_groups") else None
    with ctx.progress.task("collect: reading and deriving on Spark", total=len(sources) + 3) as advance:
        result = collect_all(plane, sources, party_sources, settings, mcc, advance)
    # The small tables become workspace tables, in their stored order; the big ones views.
    cols = ", ".join(c.name for c in QUARANTINE)
    files = ", ".join(_quote(plane.glob(t)) for t in QUARANTINE_TABLES if plane.has(t))
    ws.sql(f"CREATE OR REPLACE TABLE quarantine AS SELECT {cols} FROM read_parquet([{files}]) "
           f"ORDER BY {', '.join(QUARANTINE_ORDER)}")
    for name, order in COPIED_TABLES.items():
        if plane.has(name):
            ws.sql(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet({_quote(plane.glob(name))}) "
                   f"ORDER BY {order}")
    if party_sources:
        # Read in file order: the plane wrote them sorted by input file and row.
        ws.sql(f"CREATE OR REPLACE TABLE parties AS SELECT {', '.join(c.name for c in PARTIES)} "
               f"FROM read_parquet({_quote(plane.glob('parties'))})")
    else:
        ws.sql("DROP TABLE IF EXISTS parties")
    for name in VIEW_TABLES:
        ws.drop(name)
        ws.sql(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_quote(plane.glob(name))})")
    ws.set_meta("inputs", {"transactions": [c.as_dict() for c in result.transactions],
                           "parties": [c.as_dict() for c in result.parties]})
    ctx.notes.setdefault("collect", {})["engine"] = "spark"
    ctx.notes["collect"]["spark_plane"] = plane.describe()
    produced = {t: ws.count(t) for t in ("txns", "quarantine", "accounts", "postings", "identifiers")}
    if party_sources:
        produced["parties"] = ws.count("parties")
    return produced


def close_plane(ctx: Context) -> None:
    """End the run's plane; a temporary plane's workspace views become tables first.

    A plane under `FOLLOWMONEY_SPARK_STAGING` is kept, and so are the views over it: a later run on
    the saved workspace (`--from-stage`) reads them where they are. A temporary folder is removed, so
    its rows are copied into the workspace first (in their stored order), or the saved workspace
    would name files that no longer exist.
    """
    plane = ctx.spark_plane
    if plane is None:
        return
    ctx.spark_plane = None
    try:
        if not plane.shared:
            for name in VIEW_TABLES:
                if plane.has(name) and _is_view(ctx.ws, name):
                    ctx.ws.sql(f'CREATE OR REPLACE TABLE "__fm_{name}" AS SELECT * FROM "{name}"')
                    ctx.ws.drop(name)
                    ctx.ws.sql(f'ALTER TABLE "__fm_{name}" RENAME TO "{name}"')
    except Exception:  # noqa: BLE001 - a failed copy must not hide the run's own error
        log.exception("could not copy the Spark plane's tables into the workspace")
    finally:
        for name in ("postings", *SUPPORT_TABLES):
            try:
                plane.spark.catalog.dropTempView(name)
            except Exception:  # noqa: BLE001 - a stopped session has no views to drop
                pass
        plane.close()


def _is_view(ws: Workspace, name: str) -> bool:
    row = ws.sql("SELECT count(*) FROM duckdb_views() WHERE view_name = $n AND NOT internal", {"n": name}).fetchone()
    return bool(row and row[0])


def detect_on_spark(ws: Workspace, plan: Plan, spark: Any = None, master: str | None = None,
                    progress: Callable[[int], None] | None = None,
                    timings: dict[str, float] | None = None, not_portable: dict[str, str] | None = None,
                    plane: SparkPlane | None = None) -> int:
    """Run `plan` on Spark and write the decoded `hits` table.

    Args:
        ws: the workspace holding `accounts` and `txns` (and `postings` when there is no plane).
        plan: indicators with their resolved parameters.
        spark: a SparkSession; the plane's, or built with `spark_session(master)` when None.
        master: Spark master URL used when no session is given.
        progress: progress callback.
        timings: filled with seconds per indicator and for the kernel pass.
        not_portable: filled with the SQL indicators left out because they cannot run on Spark, and why.
        plane: the run's Spark plane: its `postings`, `accounts` and `parties` are used as they are,
            and only the small workspace-built tables (`lists`, `mcc_groups`, identifier keys) are
            handed over. Without one, postings and every support table are exported from the workspace.

    Returns:
        Rows in `hits`.

    The Parquet hand-off goes to `FOLLOWMONEY_SPARK_STAGING` (which must be storage every executor
    can read when the master is a cluster) or a temporary folder, removed afterwards.
    """
    from followmoney.engines.spark import SparkEngine, spark_session

    if plane is not None:
        session = plane.spark
    else:
        session = spark if spark is not None else spark_session(master)
    folder, _ = staging_folder()
    try:
        if plane is not None:
            frames = {name: plane[name] for name in PLANE_TABLES if plane.has(name)}
            paths = export_parquet(ws, [t for t in SUPPORT_TABLES if t not in PLANE_TABLES], folder)
            frames.update({name: session.read.parquet(path) for name, path in paths.items()})
            postings = plane["postings"]
        else:
            paths = export_parquet(ws, ["postings", *SUPPORT_TABLES], folder)
            frames = {name: session.read.parquet(path) for name, path in paths.items()}
            postings = frames.pop("postings")
        engine = SparkEngine(session, postings, frames)
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



