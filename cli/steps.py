"""`followmoney steps`: the stages and the steps of the guide they serve."""

from __future__ import annotations

import click

from followmoney.cli.common import console


@click.command()
def steps() -> None:
    """List the 11 stages in run order with the step of the guide each serves."""
    from rich.table import Table

    from followmoney.pipeline.steps import STAGES

    table = Table(title="followmoney stages (the 11 steps of a financial investigation into trafficking)")
    for col in ("step", "stage", "theme of the step", "what the stage does", "needs", "produces"):
        table.add_column(col)
    for s in STAGES:
        table.add_row(str(s.step), s.name, s.theme, s.summary, ", ".join(s.needs) or "-", ", ".join(s.produces))
    console().print(table)
