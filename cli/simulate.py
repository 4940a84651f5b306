"""`followmoney simulate` and `followmoney demo`: synthetic worlds for trainers and tests."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from followmoney.cli.common import guarded, print_summary


@click.command()
@click.option("--accounts", default=2000, show_default=True, help="Customer accounts in the background population.")
@click.option("--days", default=180, show_default=True, help="Length of the simulated period.")
@click.option("--seed", default=7, show_default=True, help="Random seed: the same seed gives the same bytes.")
@click.option("--start", default="2024-01-01", show_default=True, help="First simulated day.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="YAML overriding simulator defaults.")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for the generated files.")
@guarded
def simulate(accounts: int, days: int, seed: int, start: str, config: str | None, out: str) -> None:
    """Simulate a bank's transactions with planted trafficking scenarios and labels."""
    from followmoney.simulate import simulate as run

    result = run(out, accounts=accounts, days=days, seed=seed, start=start, config=config)
    for name, path in result.paths.items():
        click.echo(f"{name:<13} {result.counts[name]:>12,} rows  {path}")


@click.command()
@click.argument("indicator_id", required=False)
@click.option("--out", type=click.Path(file_okay=False), default="followmoney-demo", show_default=True)
@click.option("--accounts", default=1500, show_default=True, help="Size of the simulated population.")
@click.option("--days", default=180, show_default=True,
              help="Length of the simulated period; some scenarios need 150 days of history.")
@click.option("--seed", default=7, show_default=True)
@guarded
def demo(indicator_id: str | None, out: str, accounts: int, days: int, seed: int) -> None:
    """Simulate a small world with planted scenarios, scan it end to end and write the report.

    With INDICATOR_ID (e.g. CSH01), explain that one indicator instead: its documentation, its worked
    cases run live, the transactions that make it fire, and a chart of each firing case in OUT.
    """
    from followmoney import api

    if indicator_id:
        _explain(indicator_id, Path(out))
        return

    world, result = api.demo(out, accounts=accounts, days=days, seed=seed, progress=sys.stderr.isatty())
    click.echo(f"Simulated {world.counts['transactions']:,} transactions for {accounts:,} accounts in "
               f"{world.paths['transactions'].parent}")
    print_summary(result)
    import duckdb

    con = duckdb.connect(str(result.workspace), read_only=True)
    try:
        rows = con.execute("SELECT indicator_id, accounts_flagged, true_positives, precision, recall FROM feedback "
                           "ORDER BY indicator_id").fetchall()
        matches = con.execute("SELECT count(*) FROM intel_matches").fetchall()[0][0]
    finally:
        con.close()
    click.echo(f"\nPartner watchlist: {matches} account(s) matched.")
    click.echo("\nAgainst the planted labels (account level):")
    for ind, flagged, tp, prec, rec in rows:
        click.echo(f"  {ind:<9} flagged {flagged:>5}  true positives {tp:>5}  precision {prec if prec is not None else 0:.2f}"
                   f"  recall {rec if rec is not None else 0:.2f}")
    click.echo(f"\nOpen the report: {result.out / 'report.html'}")


def _explain(indicator_id: str, out: Path) -> None:
    from rich.markdown import Markdown

    from followmoney import registry
    from followmoney.cli.common import console
    from followmoney.training import explain_indicator

    cls = registry.get(indicator_id)
    shown = explain_indicator(cls, out)
    screen = console()
    screen.print(Markdown(shown["page"].split("## Implementation")[0]))
    screen.print("[bold]Worked cases, run now[/bold]")
    for case in shown["cases"]:
        fired = sorted({h["account_id"] for h in case["hits"]})
        verdict = "fires on " + ", ".join(fired) if fired else "does not fire"
        screen.print(f"- {case['name']}: {verdict} (expected: {', '.join(case['expected']) or 'no hit'})", markup=False)
        for h in case["hits"]:
            screen.print(f"    evidence {', '.join(h['evidence_txn_ids'])}; value {h['value']:g}, score {h['score']:.2f}",
                         markup=False)
    for path in shown["charts"]:
        click.echo(f"Chart: {path}")
