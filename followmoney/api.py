"""The library API: what the CLI calls and what banks import into their own pipelines."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from followmoney.pipeline.runner import run_pipeline
from followmoney.pipeline.stage import ScanOptions
from followmoney.progress import Progress

log = logging.getLogger("followmoney")

OUTPUT_FILES = ("alerts.parquet", "alerts.csv", "hits.parquet", "clusters.parquet", "quarantine.parquet",
                "manifest.json", "report.html", "cases", "str", "exports", "workspace.duckdb")


@dataclass
class ScanResult:
    """What a scan produced.

    Attributes:
        out: the output folder.
        workspace: the DuckDB workspace file.
        manifest: the run manifest (also in `out/manifest.json`).
        alerts: alerted accounts, ranked (polars).
        hits: every hit with evidence (polars).
        clusters: suspect cluster members (polars).
        paths: output files and folders that exist, by name.
    """

    out: Path
    workspace: Path
    manifest: dict[str, Any]
    alerts: pl.DataFrame = field(repr=False)
    hits: pl.DataFrame = field(repr=False)
    clusters: pl.DataFrame = field(repr=False)
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def n_alerts(self) -> int:
        """Number of alerted accounts."""
        return self.alerts.height

    def summary(self) -> str:
        """A short plain-text summary for people."""
        rec = self.manifest["reconciliation"]
        lines = [
            f"Transactions read {rec['read']:,}: loaded {rec['loaded']:,}, quarantined {rec['quarantined']:,}"
            + ("" if rec["balanced"] else "  (DOES NOT RECONCILE)"),
            f"Hits {self.hits.height:,}; alerts {self.n_alerts:,}; clusters {self.clusters['cluster_id'].n_unique() if self.clusters.height else 0:,}",
        ]
        for s in self.manifest["skipped_indicators"]:
            lines.append(f"Skipped {s['indicator_id']}: {s['reason']}")
        lines.append(f"Output: {self.out}")
        return "\n".join(lines)


def default_out(source: Any) -> Path:
    """The default output folder: `<input name>-followmoney` beside the first input file or folder."""
    first = source[0] if isinstance(source, list | tuple) and source else source
    if isinstance(first, str | Path) and not any(ch in str(first) for ch in "*?["):
        p = Path(first)
        return p.with_name(f"{p.stem if p.is_file() else p.name}-followmoney")
    return Path("followmoney-out")


def _frame(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = $t", {"t": table}).fetchall()[0][0]
    return pl.from_arrow(con.sql(f"SELECT * FROM {table}").to_arrow_table()) if exists else pl.DataFrame()


def scan(
    source: Any = None,
    parties: Any = None,
    profile: str | Path | dict[str, Any] | None = None,
    out: str | Path | None = None,
    *,
    jurisdiction: str | None = None,
    indicators: list[str] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    workspace: str | Path | None = None,
    from_stage: str | None = None,
    to_stage: str | None = None,
    watchlist: str | Path | None = None,
    labels: str | Path | None = None,
    since: str | None = None,
    until: str | None = None,
    seed: int = 0,
    memory_limit: str | None = None,
    threads: int | None = None,
    progress: bool = False,
    trace_rule: str = "proportional",
    trace_depth: int = 2,
    goaml_schema: str | Path | None = None,
    pseudonymise: bool = False,
    pseudonym_key_file: str | Path | None = None,
    engine: str = "duckdb",
    spark: Any = None,
    spark_master: str | None = None,
) -> ScanResult:
    """Scan transactions for THB financial red flags and write alerts, cases and a report.

    Args:
        source: transactions: a path, folder or glob (CSV or Parquet), a list of them, or an in-memory
            table (pyarrow Table, polars DataFrame, pandas DataFrame or DuckDB relation). Not needed when
            resuming from a stage after `collect`.
        parties: optional KYC table(s), same forms as `source`.
        profile: YAML profile path or mapping (column mapping, codes, formats, thresholds).
        out: output folder; defaults to `<input>-followmoney` beside the input.
        jurisdiction: built-in jurisdiction profile: US, CA, EU or UK.
        indicators: ids, names, families or typologies to run; all when None.
        overrides: parameter overrides, e.g. {"CSH01": {"threshold": 15000}}.
        workspace: DuckDB workspace file to create or reuse; defaults to `out/workspace.duckdb`.
        from_stage: resume from this stage on a saved workspace.
        to_stage: stop after this stage.
        watchlist: partner intelligence to match (stage `share`).
        labels: ground truth for evaluation (stage `feedback`).
        since: first day of the scope period, ISO date.
        until: last day of the scope period, ISO date.
        seed: recorded in the manifest.
        memory_limit: DuckDB memory limit such as "8GB"; defaults to a third of the machine
            (`followmoney.workspace.default_memory_limit`); beyond it DuckDB spills to disk.
        threads: DuckDB threads; defaults to all cores.
        progress: show progress bars on stderr.
        trace_rule: how stage `trace` attributes money in mixed accounts: "proportional" or "fifo".
        trace_depth: payments stage `trace` follows from each case's accounts.
        goaml_schema: an FIU's goAML XSD to validate the STR drafts against (errors go to the manifest).
        pseudonymise: replace identifiers by keyed hashes at `collect`, so no raw identifier reaches the
            workspace or any output; the key comes from FOLLOWMONEY_PSEUDONYM_KEY or `pseudonym_key_file`.
        pseudonym_key_file: file holding the pseudonymisation key.
        engine: "duckdb" (default) or "spark" (needs `followmoney[spark]`). With "spark", ingest
            (`collect`), `detect` and `link`'s flow aggregation run on Spark; the other stages run in
            the DuckDB workspace on reduced tables, reading case slices of txns/postings through
            views over the run's Parquet files (docs/spark.md).
        spark: a SparkSession to run on; the active session, or a new one, when None.
        spark_master: master URL for a new session, e.g. "local[4]" or "spark://host:7077".

    Returns:
        A `ScanResult` with alerts, hits and clusters as polars DataFrames and the paths written.

    Raises:
        FollowMoneyError: bad input, profile, parameters or stage selection; the message says what to fix.
    """
    sources = [] if source is None else list(source) if isinstance(source, list | tuple) else [source]
    party_list = None if parties is None else list(parties) if isinstance(parties, list | tuple) else [parties]
    options = ScanOptions(sources=sources, parties=party_list, profile=profile, jurisdiction=jurisdiction,
                          indicators=indicators, overrides=overrides or {}, watchlist=watchlist, labels=labels,
                          seed=seed, memory_limit=memory_limit, threads=threads, since=since, until=until,
                          trace_rule=trace_rule, trace_depth=trace_depth, goaml_schema=goaml_schema,
                          pseudonymise=pseudonymise, pseudonym_key_file=pseudonym_key_file,
                          engine=engine, spark=spark, spark_master=spark_master)
    if out is None:
        out = Path(workspace).parent if workspace and from_stage else default_out(source)
    record = run_pipeline(options, out, workspace, from_stage, to_stage, Progress(progress))
    con = duckdb.connect(str(record.workspace), read_only=True)
    try:
        alerts, hits, clusters = (_frame(con, t) for t in ("alerts", "hits", "clusters"))
    finally:
        con.close()
    paths = {name: record.out / name for name in OUTPUT_FILES if (record.out / name).exists()}
    paths["workspace.duckdb"] = record.workspace
    return ScanResult(record.out, record.workspace, record.manifest, alerts, hits, clusters, paths)


def demo(out: str | Path = "followmoney-demo", accounts: int = 1500, days: int = 180, seed: int = 7,
         progress: bool = False) -> tuple[Any, ScanResult]:
    """Simulate a small world with planted scenarios and scan it end to end, as trainers show it.

    A partner's watchlist is simulated too: the phone numbers of the planted controllers, as a
    public-private partnership would share numbers seen in escort ads, so stage `share` has
    intelligence to match; and the simulator's list of identifiers scraped from sex ads
    (`lists/ad_identifiers.csv`) is passed as the profile's `ad_identifiers` list, so EXT01 runs.

    Returns:
        (the simulation result, the scan result).
    """
    from followmoney.simulate import simulate

    out = Path(out)
    world = simulate(out / "data", accounts=accounts, days=days, seed=seed)
    labels = pl.read_parquet(world.paths["labels"])
    controllers = labels.filter((pl.col("role") == "controller") & pl.col("scenario_id").str.contains(r"^pass_through-"))
    phones = (pl.read_parquet(world.paths["parties"])
              .join(controllers.select("account_id"), on="account_id")
              .select(pl.lit("phone").alias("kind"), pl.col("phone").alias("value"),
                      pl.lit("partner: numbers seen in escort ads (simulated)").alias("source"),
                      pl.lit("THB investigation").alias("purpose"))
              .unique().sort("value"))
    watchlist = out / "data" / "watchlist.csv"
    phones.write_csv(watchlist)
    # The simulator also writes the phones and e-mails found in (simulated) scraped sex ads; as the
    # profile's `ad_identifiers` list they let EXT01 match customers against them.
    profile = {"lists": {"ad_identifiers": str(world.paths["ad_identifiers"])}}
    result = scan(str(world.paths["transactions"]), parties=str(world.paths["parties"]), profile=profile,
                  out=out / "scan", watchlist=watchlist, labels=world.paths["labels"], seed=seed, progress=progress)
    return world, result
