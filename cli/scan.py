"""`followmoney scan`: the 11-stage pipeline on transaction files."""

from __future__ import annotations

import sys

import click

from followmoney.cli.common import STAGE_NAMES, guarded, parse_overrides, print_summary

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


@click.command(epilog=_SCAN_EPILOG)
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
    print_summary(result)
    if fail_on_alerts and result.n_alerts:
        sys.exit(1)
