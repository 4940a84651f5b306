"""`followmoney indicators`: the catalogue, what a data file supports, one indicator's docs, docs generation."""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

import click

from followmoney.cli.common import console, guarded

_LIST_EPILOG = """\b
Examples:
  followmoney indicators list
  followmoney indicators list --wide
  followmoney indicators list --data txns.parquet --parties kyc.csv
  followmoney indicators list --data exports/ --profile bank.yml -i cash
"""


@click.group(invoke_without_command=True)
@click.pass_context
def indicators(ctx: click.Context) -> None:
    """The indicator catalogue (subcommands: list, show, docs); without one, the same as `list`."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(indicators_list)


@indicators.command("list", epilog=_LIST_EPILOG)
@click.option("--wide", is_flag=True, help="Add the sources and titles (wider than 80 columns).")
@click.option("--data", "data", multiple=True, type=click.Path(),
              help="Transaction file(s), folder or glob: show which indicators it supports (only the columns are read).")
@click.option("--parties", multiple=True, type=click.Path(), help="KYC parties file(s) for --data (only the columns are read).")
@click.option("--profile", type=click.Path(exists=True, dir_okay=False), help="YAML profile: column mapping and lists.")
@click.option("--jurisdiction", type=click.Choice(["US", "CA", "EU", "UK"], case_sensitive=False),
              help="Built-in jurisdiction defaults, as for scan.")
@click.option("-i", "--indicators", "selection", multiple=True, help="Ids, names, families or typologies (default: all).")
@guarded
def indicators_list(wide: bool = False, data: tuple[str, ...] = (), parties: tuple[str, ...] = (),
                    profile: str | None = None, jurisdiction: str | None = None,
                    selection: tuple[str, ...] = ()) -> None:
    """Print the catalogue; with --data, whether each indicator can run on that data, and why not."""
    from rich.table import Table

    from followmoney import registry

    if parties and not data:
        raise click.UsageError("--parties only makes sense with --data.")
    classes = registry.select(list(selection)) if selection else registry.all()
    plan = data_support(list(data), list(parties), profile, jurisdiction, [c.id for c in classes]) if data else None
    title = f"Indicator catalogue {registry.catalogue_version()}"
    if plan is not None:
        runnable = sum(1 for ok, _ in plan.values() if ok)
        title += f": {runnable} of {len(plan)} can run on this data"
    table = Table(title=title, expand=False)
    # With --data the answer columns need the room: family and implementation move to --wide.
    columns = ["id", "name"] + (["family", "impl"] if wide or plan is None else []) + (["sources", "title"] if wide else [])
    if plan is not None:
        columns += ["runs", "why not"]
    for col in columns:
        # Narrow columns never wrap; the free-text ones fold so the table fits 80 columns.
        table.add_column(col, no_wrap=col in ("id", "name", "impl", "runs"), overflow="fold")
    for cls in classes:
        row = [cls.id, cls.name]
        if wide or plan is None:
            row += [cls.family, "kernel" if cls.kernel is not None else "sql"]
        if wide:
            row += [", ".join(cls.sources), cls.title]
        if plan is not None:
            ok, reason = plan[cls.id]
            row += ["yes" if ok else "no", reason]
        table.add_row(*row)
    console().print(table)


def data_support(data: list[str], parties: list[str], profile: str | None, jurisdiction: str | None,
                 ids: list[str]) -> dict[str, tuple[bool, str]]:
    """Whether each indicator can run on the given files, judged from their columns alone.

    The files' headers (CSV) or schemas (Parquet) are read, mapped to canonical columns with the
    profile's mapping, and a one-row stand-in with those columns goes through the pipeline's own
    stages `scope` (profile and lists) and `indicators` (the requirement check the detect stage
    relies on), so this answer and a scan's skip reasons come from the same code. A column counts
    as present when the file has it: unlike a scan, its values are not read, so a column that
    exists but is empty everywhere still shows as present.

    Args:
        data: transaction files, folders or globs.
        parties: parties files, folders or globs (optional).
        profile: profile path, or None.
        jurisdiction: jurisdiction code, or None.
        ids: indicator ids to judge.

    Returns:
        {indicator id: (runnable, reason it is skipped or "")}.
    """
    from followmoney.ingest.common import resolve_columns
    from followmoney.ingest.read import expand_sources
    from followmoney.pipeline.stage import Context, ScanOptions
    from followmoney.pipeline.steps import s01_scope, s04_indicators
    from followmoney.progress import Progress
    from followmoney.schema import PARTIES, TRANSACTIONS
    from followmoney.workspace import Workspace

    ws = Workspace(":memory:", threads=1)
    # The skips are this command's answer, not warnings about a scan.
    log = logging.getLogger("followmoney")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        options = ScanOptions(sources=data, parties=parties or None, profile=profile, jurisdiction=jurisdiction,
                              indicators=ids)
        ctx = Context(ws=ws, options=options, out=Path("."), progress=Progress(False))
        s01_scope.STAGE.run(ctx)
        settings = ctx.settings
        tx = settings["transactions"]
        txn_cols: set[str] = set()
        for src in expand_sources(data, "transactions"):
            available = {c: c for c in _source_columns(src, tx["csv"])}
            txn_cols |= set(resolve_columns(available, tx["columns"] or {}))
        # Collect fills these from the profile when the file has no column for them.
        if tx.get("default_currency"):
            txn_cols.add("currency")
        if tx.get("default_channel") or tx.get("channel_rules"):
            txn_cols.add("channel")
        _stand_in(ws, "txns", TRANSACTIONS, txn_cols)
        if parties:
            pcfg = settings["parties"]
            mapping = pcfg["columns"] or {}
            party_cols: set[str] = set()
            for src in expand_sources(parties, "parties"):
                lower = {c.lower() for c in _source_columns(src, pcfg["csv"])}
                party_cols |= {c.name for c in PARTIES if str(mapping.get(c.name, c.name)).lower() in lower}
            _stand_in(ws, "parties", PARTIES, party_cols)
        s04_indicators.STAGE.run(ctx)
        rows = ws.sql("SELECT indicator_id, runnable, skip_reason FROM indicator_plan").fetchall()
        return {r[0]: (bool(r[1]), r[2] or "") for r in rows}
    finally:
        log.setLevel(level)
        ws.close()


_STAND_IN_VALUES = {"VARCHAR": "'x'", "DOUBLE": "1.0", "BOOLEAN": "true", "DATE": "DATE '2000-01-01'",
                    "TIMESTAMP": "TIMESTAMP '2000-01-01 00:00:00'"}


def _stand_in(ws: Any, table: str, contract: tuple[Any, ...], present: set[str]) -> None:
    """A one-row table with every contract column: a value where the file has the column, else NULL."""
    cols = ", ".join(
        f"CAST({_STAND_IN_VALUES[c.dtype] if c.name in present else 'NULL'} AS {c.dtype}) AS {c.name}"
        for c in contract)
    ws.sql(f"CREATE OR REPLACE TABLE {table} AS SELECT {cols}")


def _source_columns(src: Any, csv_cfg: dict[str, Any]) -> list[str]:
    """Column names of one input source without reading its rows."""
    if src.kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(src.path).names)
    if src.kind == "memory":
        return list(src.data.column_names)
    with open(src.path, encoding=csv_cfg.get("encoding") or "utf-8", newline="") as fh:
        header = fh.readline()
    delimiter = csv_cfg.get("delimiter")
    if not delimiter:
        try:
            delimiter = csv.Sniffer().sniff(header, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    return [c.strip() for c in next(csv.reader([header], delimiter=delimiter), [])]


@indicators.command("show")
@click.argument("indicator_id")
@guarded
def indicators_show(indicator_id: str) -> None:
    """Print one indicator's documentation (by id or name)."""
    from followmoney import docs, registry

    click.echo(docs.indicator_page(registry.get(indicator_id)))


@indicators.command("docs")
@click.option("--out", type=click.Path(file_okay=False), default="docs/indicators", show_default=True)
@guarded
def indicators_docs(out: str) -> None:
    """Generate one Markdown page per indicator plus the catalogue index."""
    from followmoney import docs

    written = docs.write_docs(Path(out))
    click.echo(f"Wrote {len(written)} files to {out}")
