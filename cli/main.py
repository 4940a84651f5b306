"""The `followmoney` command: a thin click layer over `followmoney.api`.

Exit codes: 0 the command ran; 1 alerts were found and `--fail-on-alerts` was given; 2 bad input,
profile, parameters or usage (the message says what to fix, without a traceback); 3 an internal
error (the message says how to get the traceback for a bug report).
"""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from followmoney.errors import FollowMoneyError

STAGE_NAMES = ("scope", "collect", "share", "indicators", "detect", "score", "link", "trace", "assets", "report",
               "feedback")


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=False, highlight=False)


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn followmoney errors into a clear message and exit code 2; never show a traceback as the message."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FollowMoneyError as err:
            click.echo(f"Error: {err}", err=True)
            sys.exit(err.exit_code)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as err:  # noqa: BLE001 - last resort: a bug, reported as one
            if logging.getLogger("followmoney").isEnabledFor(logging.DEBUG):
                traceback.print_exc()
            click.echo(f"Internal error: {type(err).__name__}: {err}\nThis is a bug in followmoney; rerun with "
                       "--debug for the traceback and report it.", err=True)
            sys.exit(3)

    return wrapper


def parse_overrides(items: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Parse `ID.param=value` pairs; values are read as YAML scalars (numbers, booleans, text)."""
    import yaml

    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        ind, dot, param = key.partition(".")
        if not sep or not dot or not ind or not param:
            raise click.BadParameter(f"{item!r} is not ID.PARAM=VALUE, e.g. CSH01.threshold=15000", param_hint="--set")
        out.setdefault(ind, {})[param] = yaml.safe_load(value)
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="followmoney")
@click.option("-v", "--verbose", is_flag=True, help="Log each stage to stderr (no customer data is logged).")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def main(verbose: bool, debug: bool) -> None:
    """Follow the money: find the financial traces of human trafficking in bank transactions.

    Start with `followmoney demo` to simulate a small world with planted trafficking scenarios,
    scan it and open the report; then `followmoney scan YOUR_FILES` on real data.
    """
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _print_summary(result: Any) -> None:
    from rich.table import Table

    console = _console()
    table = Table(title="Stages", show_lines=False)
    for col, justify in (("step", "right"), ("stage", "left"), ("seconds", "right"), ("produced (rows)", "left")):
        table.add_column(col, justify=justify)
    for s in result.manifest["stages"]:
        table.add_row(str(s["step"]), s["name"], f"{s['seconds']:.2f}",
                      ", ".join(f"{k} {v:,}" for k, v in s["produced"].items()))
    console.print(table)
    if result.n_alerts:
        top = Table(title=f"Top alerts (of {result.n_alerts:,})")
        for col in ("rank", "account", "score", "indicators", "role"):
            top.add_column(col)
        for r in result.alerts.sort("rank").head(10).iter_rows(named=True):
            top.add_row(str(r["rank"]), r["account_id"], f"{r['score']:.2f}", ", ".join(r["indicators"]),
                        r["role_hypothesis"] or "-")
        console.print(top)
    console.print(result.summary(), markup=False)


_SCAN_EPILOG = """\b
Examples:
  followmoney scan txns.parquet
  followmoney scan exports/ --parties kyc.csv --profile bank.yml --jurisdiction CA
  followmoney scan txns.csv --set CSH01.threshold=15000 -i cash
  followmoney scan --workspace out/workspace.duckdb --from-stage score

\b
Exit codes: 0 ran; 1 alerts found with --fail-on-alerts; 2 bad input, profile or
parameters (the message says what to fix); 3 internal error.
"""


@main.command(epilog=_SCAN_EPILOG)
@click.argument("source", nargs=-1, type=click.Path())
@click.option("--parties", multiple=True, type=click.Path(), help="KYC parties file(s): CSV or Parquet.")
@click.option("--profile", type=click.Path(exists=True, dir_okay=False), help="YAML profile: column mapping, codes, formats, thresholds.")
@click.option("--jurisdiction", type=click.Choice(["US", "CA", "EU", "UK"], case_sensitive=False), help="Built-in thresholds, currency and time zone.")
@click.option("--out", type=click.Path(file_okay=False), help="Output folder  [default: <input>-followmoney beside the input]")
@click.option("--workspace", type=click.Path(dir_okay=False), help="DuckDB case workspace to create or reuse  [default: OUT/workspace.duckdb]")
@click.option("--from-stage", type=click.Choice(STAGE_NAMES), help="Resume from this stage on a saved workspace.")
@click.option("--to-stage", type=click.Choice(STAGE_NAMES), help="Stop after this stage.")
@click.option("-i", "--indicators", multiple=True, help="Ids, names, families or typologies to run (default: all).")
@click.option("--set", "overrides", multiple=True, metavar="ID.PARAM=VALUE", help="Override a parameter, e.g. CSH01.threshold=15000.")
@click.option("--watchlist", type=click.Path(exists=True, dir_okay=False), help="Partner intelligence: identifiers or accounts to match.")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False), help="Ground truth to evaluate against (stage feedback).")
@click.option("--since", help="First day of the scope period (YYYY-MM-DD).")
@click.option("--until", help="Last day of the scope period (YYYY-MM-DD).")
@click.option("--memory-limit", help="DuckDB memory limit, e.g. 8GB  [default: half the machine]")
@click.option("--threads", type=int, help="DuckDB threads  [default: all cores]")
@click.option("--progress/--no-progress", default=None, help="Progress bars  [default: on when stderr is a terminal]")
@click.option("--fail-on-alerts", is_flag=True, help="Exit with code 1 when any account alerts.")
@guarded
def scan(source: tuple[str, ...], parties: tuple[str, ...], profile: str | None, jurisdiction: str | None,
         out: str | None, workspace: str | None, from_stage: str | None, to_stage: str | None,
         indicators: tuple[str, ...], overrides: tuple[str, ...], watchlist: str | None, labels: str | None,
         since: str | None, until: str | None, memory_limit: str | None, threads: int | None,
         progress: bool | None, fail_on_alerts: bool) -> None:
    """Run the 11-stage pipeline on SOURCE (CSV/Parquet files, folders or globs) and write alerts,
    hits, clusters, case files, STR drafts, exports, the HTML report and a run manifest."""
    from followmoney import api

    if not source and (from_stage in (None, "scope", "collect")):
        raise click.UsageError("SOURCE is required unless you resume with --from-stage after collect.")
    result = api.scan(list(source), parties=list(parties) or None, profile=profile, out=out,
                      jurisdiction=jurisdiction, indicators=list(indicators) or None,
                      overrides=parse_overrides(overrides), workspace=workspace, from_stage=from_stage,
                      to_stage=to_stage, watchlist=watchlist, labels=labels, since=since, until=until,
                      memory_limit=memory_limit, threads=threads,
                      progress=sys.stderr.isatty() if progress is None else progress)
    _print_summary(result)
    if fail_on_alerts and result.n_alerts:
        sys.exit(1)


@main.command()
def steps() -> None:
    """List the 11 stages in run order with the step of the guide each serves."""
    from rich.table import Table

    from followmoney.pipeline.steps import STAGES

    table = Table(title="followmoney stages (the 11 steps of a financial investigation into trafficking)")
    for col in ("step", "stage", "theme of the step", "what the stage does", "needs", "produces"):
        table.add_column(col)
    for s in STAGES:
        table.add_row(str(s.step), s.name, s.theme, s.summary, ", ".join(s.needs) or "-", ", ".join(s.produces))
    _console().print(table)


@main.group(invoke_without_command=True)
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
        _console().print(table)


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


@main.command()
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


@main.command()
@click.option("--out", type=click.Path(file_okay=False), default="followmoney-demo", show_default=True)
@click.option("--accounts", default=1500, show_default=True, help="Size of the simulated population.")
@click.option("--days", default=120, show_default=True)
@click.option("--seed", default=7, show_default=True)
@guarded
def demo(out: str, accounts: int, days: int, seed: int) -> None:
    """Simulate a small world with planted scenarios, scan it end to end and write the report."""
    from followmoney import api

    world, result = api.demo(out, accounts=accounts, days=days, seed=seed, progress=sys.stderr.isatty())
    click.echo(f"Simulated {world.counts['transactions']:,} transactions for {accounts:,} accounts in "
               f"{world.paths['transactions'].parent}")
    _print_summary(result)
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


if __name__ == "__main__":  # pragma: no cover
    main()
