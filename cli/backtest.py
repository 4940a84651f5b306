"""`followmoney backtest`: measure a finished scan against labels and dispositions."""

from __future__ import annotations

import click

from followmoney.cli.common import console, guarded


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--labels", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Labels: account_id, expected_alert (+ scenario_id, typology, role), e.g. the simulator's.")
@click.option("--dispositions", type=click.Path(exists=True, dir_okay=False),
              help="Analysts' dispositions: account_id, disposition (confirmed/false_positive), date, analyst.")
@click.option("--target-precision", default=0.8, show_default=True, type=click.FloatRange(0, 1),
              help="Precision the threshold suggestions must meet.")
@click.option("--sweep/--no-sweep", default=True, show_default=True, help="Re-run indicators over a parameter grid.")
@guarded
def backtest(run_dir: str, labels: str, dispositions: str | None, target_precision: float, sweep: bool) -> None:
    """Precision, recall and F1 per indicator, typology and role, cluster recovery, and a threshold
    sweep with suggested values, for the scan in RUN_DIR; writes RUN_DIR/backtest.html."""
    from rich.table import Table

    from followmoney.backtest import backtest as run
    from followmoney.backtest import write_backtest

    result = run(run_dir, labels, dispositions, target_precision=target_precision, sweep=sweep)
    paths = write_backtest(result, run_dir)
    out = console()
    for title, frame in (("Account level", result.metrics), ("Planted scenarios", result.scenarios),
                         ("Threshold suggestions", result.suggestions)):
        if frame.height == 0:
            continue
        table = Table(title=title)
        for col in frame.columns:
            table.add_column(col)
        for row in frame.iter_rows():
            table.add_row(*("" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
        out.print(table)
    click.echo(f"Alert rate {result.alert_rate:.4%}. Report: {paths['html']}")
