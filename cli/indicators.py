"""`followmoney indicators`: the catalogue, one indicator's docs, and docs generation."""

from __future__ import annotations

from pathlib import Path

import click

from followmoney.cli.common import console, guarded


@click.group(invoke_without_command=True)
@click.pass_context
def indicators(ctx: click.Context) -> None:
    """List the indicator catalogue (subcommands: show, docs)."""
    if ctx.invoked_subcommand is None:
        from rich.table import Table

        from followmoney import registry

        table = Table(title=f"Indicator catalogue {registry.catalogue_version()}")
        for col in ("id", "name", "family", "implementation", "sources", "title"):
            table.add_column(col)
        for cls in registry.all():
            table.add_row(cls.id, cls.name, cls.family, "kernel" if cls.kernel is not None else "sql",
                          ", ".join(cls.sources), cls.title)
        console().print(table)


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
