"""`followmoney trace`: follow one account's money through a saved workspace."""

from __future__ import annotations

import base64
from pathlib import Path

import click

from followmoney.cli.common import console, guarded


def open_workspace(workspace: str | None):  # noqa: ANN201 - returns followmoney.workspace.Workspace
    """The workspace to read: the one given, or ./workspace.duckdb."""
    from followmoney.errors import PipelineError
    from followmoney.workspace import Workspace

    path = Path(workspace) if workspace else Path("workspace.duckdb")
    if not path.exists():
        raise PipelineError(f"No workspace at {path}: pass --workspace OUT/workspace.duckdb of a finished scan.")
    return Workspace(path)


@click.command(epilog="\b\nExample:\n  followmoney trace ACC-0042 --workspace out/workspace.duckdb --depth 3 --rule fifo")
@click.argument("account")
@click.option("--workspace", type=click.Path(dir_okay=False), help="Workspace of a scan  [default: ./workspace.duckdb]")
@click.option("--depth", type=click.IntRange(1, 6), default=2, show_default=True, help="Payments to follow.")
@click.option("--direction", type=click.Choice(["down", "up", "both"]), default="down", show_default=True,
              help="down: where the money went; up: where it came from.")
@click.option("--rule", type=click.Choice(["proportional", "fifo"]), default="proportional", show_default=True,
              help="How money in a mixed account is attributed.")
@click.option("--since", help="First day to replay (YYYY-MM-DD).")
@click.option("--until", help="Last day to replay (YYYY-MM-DD).")
@click.option("--chart", type=click.Path(dir_okay=False), help="Write the flow chart (PNG) here.")
@guarded
def trace(account: str, workspace: str | None, depth: int, direction: str, rule: str, since: str | None,
          until: str | None, chart: str | None) -> None:
    """Trace ACCOUNT's money, time-respecting, with amounts attributed by RULE; print the end points."""
    from rich.table import Table

    from followmoney.errors import PipelineError
    from followmoney.outputs.charts import flow_chart
    from followmoney.tracing import aggregate_flows, trace_workspace

    ws = open_workspace(workspace)
    try:
        if not ws.sql("SELECT count(*) FROM accounts WHERE account_id = $a", {"a": account}).fetchone()[0]:
            raise PipelineError(f"Account {account!r} is not in the workspace.")
        out = console()
        for d in (("down", "up") if direction == "both" else (direction,)):
            result = trace_workspace(ws, [account], d, rule, depth, since, until)
            totals = result.end_totals()
            grand = sum(totals.values()) or 1.0
            title = (f"Where {account}'s money went" if d == "down" else f"Where {account}'s money came from") + \
                f" ({rule}, depth {depth})"
            table = Table(title=title)
            for col, justify in (("origin" if d == "up" else "end point", "left"), ("kind", "left"),
                                 ("attributed", "right"), ("share", "right")):
                table.add_column(col, justify=justify)
            for (origin, end, kind), amount in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])):
                table.add_row(origin if d == "up" else end, kind, f"{amount:,.2f}", f"{amount / grand:.1%}")
            table.add_row("total", "", f"{sum(totals.values()):,.2f}", "", style="bold")
            out.print(table)
            if chart:
                target = Path(chart) if direction != "both" else Path(chart).with_stem(f"{Path(chart).stem}-{d}")
                uri, _ = flow_chart(aggregate_flows(result), title)
                target.write_bytes(base64.b64decode(uri.split(",", 1)[1]))
                out.print(f"Flow chart: {target}", markup=False)
    finally:
        ws.close()
