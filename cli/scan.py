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
@click.option("--memory-limit", help="DuckDB memory limit, e.g. 8GB  [default: a third of the machine]")
@click.option("--threads", type=int, help="DuckDB threads  [default: all cores]")
@click.option("--progress/--no-progress", default=None, help="Progress bars  [default: on when stderr is a terminal]")
@click.option("--fail-on-alerts", is_flag=True, help="Exit with code 1 when any account alerts.")
@click.option("--trace-rule", type=click.Choice(["proportional", "fifo"]), default="proportional", show_default=True,
              help="How stage trace attributes money in mixed accounts.")
@click.option("--trace-depth", type=click.IntRange(1, 6), default=2, show_default=True, help="Payments stage trace follows.")
@click.option("--goaml-schema", type=click.Path(exists=True, dir_okay=False),
              help="Your FIU's goAML XSD: the STR drafts are validated against it.")
@click.option("--pseudonymise", is_flag=True,
              help="Replace identifiers by keyed hashes at collect; key from FOLLOWMONEY_PSEUDONYM_KEY or --pseudonym-key-file.")
@click.option("--pseudonym-key-file", type=click.Path(exists=True, dir_okay=False),
              help="File holding the pseudonymisation key (never pass the key itself on the command line).")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="Where ingest, detect and flow aggregation run; spark needs `pip install followmoney[spark]` and Java 17.")
@click.option("--spark-master", metavar="URL", help="Spark master for --engine spark, e.g. local[4] or spark://host:7077  [default: local[*]]")
@guarded
def scan(source: tuple[str, ...], parties: tuple[str, ...], profile: str | None, jurisdiction: str | None,
         out: str | None, workspace: str | None, from_stage: str | None, to_stage: str | None,
         indicators: tuple[str, ...], overrides: tuple[str, ...], watchlist: str | None, labels: str | None,
         since: str | None, until: str | None, memory_limit: str | None, threads: int | None,
         progress: bool | None, fail_on_alerts: bool, trace_rule: str = "proportional", trace_depth: int = 2,
         goaml_schema: str | None = None, pseudonymise: bool = False, pseudonym_key_file: str | None = None,
         engine: str = "duckdb", spark_master: str | None = None) -> None:
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
                      progress=sys.stderr.isatty() if progress is None else progress,
                      trace_rule=trace_rule, trace_depth=trace_depth, goaml_schema=goaml_schema,
                      pseudonymise=pseudonymise or bool(pseudonym_key_file), pseudonym_key_file=pseudonym_key_file,
                      engine=engine, spark_master=spark_master)
    print_summary(result)
    if fail_on_alerts and result.n_alerts:
        sys.exit(1)
