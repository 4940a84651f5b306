"""What a stage is and what it is given.

A stage is one module in `followmoney/pipeline/steps/` with a `STAGE` object: its name, the step
of the guide it serves, the workspace artefacts it needs and produces, and a `run(ctx)` function
that does the work and returns the row count of each artefact it produced. Everything a later
stage needs is kept in the workspace, so any stage can resume from a saved workspace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from followmoney.progress import Progress
from followmoney.workspace import Workspace


@dataclass(frozen=True)
class Stage:
    """One pipeline stage.

    Attributes:
        name: stage name used by `--from-stage` and `--to-stage`.
        step: number of the guide's step it serves (1-11).
        theme: the step's theme, in our words (never a quotation of the guide).
        summary: what the stage does with the data, one line.
        needs: workspace tables that must exist before it runs.
        produces: workspace tables or output files it creates.
        run: the work; returns {artefact: row count}.
    """

    name: str
    step: int
    theme: str
    summary: str
    needs: tuple[str, ...]
    produces: tuple[str, ...]
    run: Callable[[Context], dict[str, int]]


@dataclass
class ScanOptions:
    """Everything a scan was asked to do; recorded in the manifest.

    Attributes:
        sources: transaction inputs (paths, folders, globs or in-memory tables).
        parties: KYC inputs, optional.
        profile: path or mapping of a profile.
        jurisdiction: built-in jurisdiction code.
        indicators: selection patterns (ids, names, families, typologies); None for all.
        overrides: parameter overrides, {indicator id: {param: value}}.
        watchlist: partner intelligence file (identifiers or accounts), optional.
        labels: labels file for evaluation in `feedback`, optional.
        seed: recorded in the manifest; every stage is deterministic for the same input and seed.
        memory_limit: DuckDB memory limit.
        threads: DuckDB threads.
        since: first day of the scope period (inclusive), optional.
        until: last day of the scope period (inclusive), optional.
        trace_rule: how `trace` attributes mixed funds: `proportional` or `fifo`.
        trace_depth: payments `trace` follows from a case's accounts.
        goaml_schema: XSD the goAML STR drafts are validated against; None for the bundled reference path.
        pseudonymise: replace identifiers by keyed hashes at `collect` (key from the environment or a file).
        pseudonym_key_file: file holding the pseudonymisation key, instead of FOLLOWMONEY_PSEUDONYM_KEY.
        engine: "duckdb" (default) or "spark": where `collect`, `detect` and `link`'s flow
            aggregation run (docs/spark.md).
        spark: a SparkSession for the Spark engine; built from `spark_master` when None.
        spark_master: Spark master URL used when no session is given (default local[*]).
    """

    sources: list[Any] = field(default_factory=list)
    parties: list[Any] | None = None
    profile: Any = None
    jurisdiction: str | None = None
    indicators: list[str] | None = None
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    watchlist: str | Path | None = None
    labels: str | Path | None = None
    seed: int = 0
    memory_limit: str | None = None
    threads: int | None = None
    since: str | None = None
    until: str | None = None
    trace_rule: str = "proportional"
    trace_depth: int = 2
    goaml_schema: str | Path | None = None
    pseudonymise: bool = False
    pseudonym_key_file: str | Path | None = None
    engine: str = "duckdb"
    spark: Any = None
    spark_master: str | None = None


@dataclass
class Context:
    """What every stage receives.

    Attributes:
        ws: the case workspace.
        options: the scan options.
        out: the output folder; files are written under temporary names and renamed when complete.
        progress: progress display (silent in library use unless asked for).
        log: the pipeline logger; never logs identifiers or amounts of individual customers.
        notes: stage-specific facts for the manifest (e.g. skipped indicators), by stage name.
        inputs: per-file reconciliation written by `collect`.
        spark_plane: the run's Spark data plane (`engines.spark_plane.SparkPlane`) when `collect` ran
            on Spark: the big tables as Spark DataFrames, for `detect` and `link`; None otherwise.
    """

    ws: Workspace
    options: ScanOptions
    out: Path
    progress: Progress
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("followmoney"))
    notes: dict[str, Any] = field(default_factory=dict)
    spark_plane: Any = None

    @property
    def settings(self) -> dict[str, Any]:
        """The resolved profile stored by `scope`."""
        settings = self.ws.get_meta("profile")
        if settings is None:
            from followmoney.errors import PipelineError

            raise PipelineError("The workspace has no resolved profile: run the scope stage first.")
        return settings
