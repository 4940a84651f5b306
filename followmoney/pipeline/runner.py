"""Run the stages in order, check what each needs, time it, and write the run manifest.

A full run builds its workspace under a temporary name and renames it when every stage has
finished; a run that starts from a later stage works on the saved workspace in place. Each run
writes `manifest.json`: input hashes and reconciliation, versions, parameters, catalogue version,
seed, and for each stage its timing and the artefacts it produced with their row counts.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from followmoney.errors import PipelineError
from followmoney.outputs.files import PARTIAL, write_text
from followmoney.pipeline.stage import Context, ScanOptions, Stage
from followmoney.pipeline.steps import STAGES
from followmoney.progress import Progress
from followmoney.workspace import Workspace

_DEPENDENCIES = ("duckdb", "numba", "numpy", "polars", "pyarrow", "networkx", "sqlglot", "matplotlib", "click")


@dataclass(frozen=True)
class RunRecord:
    """What a pipeline run did: where it wrote and the manifest it wrote."""

    out: Path
    workspace: Path
    manifest: dict[str, Any]


def stage_names() -> list[str]:
    """Stage names in run order."""
    return [s.name for s in STAGES]


def select_stages(from_stage: str | None, to_stage: str | None) -> list[Stage]:
    """The stages from `from_stage` to `to_stage`, inclusive, in order."""
    names = stage_names()
    for given in (from_stage, to_stage):
        if given is not None and given not in names:
            raise PipelineError(f"Unknown stage {given!r}; stages in order: {', '.join(names)}.")
    lo = names.index(from_stage) if from_stage else 0
    hi = names.index(to_stage) if to_stage else len(names) - 1
    if lo > hi:
        raise PipelineError(f"--from-stage {from_stage} comes after --to-stage {to_stage}; order: {', '.join(names)}.")
    return list(STAGES[lo: hi + 1])


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("followmoney", *_DEPENDENCIES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _options_record(options: ScanOptions) -> dict[str, Any]:
    def show(x: Any) -> Any:
        return str(x) if isinstance(x, str | Path) else f"<{type(x).__name__}>"

    return {
        "sources": [show(s) for s in options.sources],
        "parties": [show(s) for s in options.parties or []],
        "profile": show(options.profile) if options.profile is not None else None,
        "jurisdiction": options.jurisdiction, "indicators": options.indicators, "overrides": options.overrides,
        "watchlist": show(options.watchlist) if options.watchlist else None,
        "labels": show(options.labels) if options.labels else None,
        "since": options.since, "until": options.until, "memory_limit": options.memory_limit, "threads": options.threads,
    }


def run_pipeline(options: ScanOptions, out: str | Path, workspace: str | Path | None = None,
                 from_stage: str | None = None, to_stage: str | None = None,
                 progress: Progress | None = None) -> RunRecord:
    """Run stages `from_stage`..`to_stage` and write the manifest.

    Args:
        options: what to scan and how.
        out: output folder (created if needed).
        workspace: DuckDB workspace file; defaults to `out/workspace.duckdb`.
        from_stage: first stage to run; needs a saved workspace when it is not `scope`.
        to_stage: last stage to run.
        progress: progress display; silent by default.

    Raises:
        PipelineError: unknown stage, wrong order, or a stage's inputs missing from the workspace.
        FollowMoneyError: whatever a stage raises for bad input or parameters.
    """
    stages = select_stages(from_stage, to_stage)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    final = Path(workspace) if workspace else out / "workspace.duckdb"
    fresh = stages[0].name == "scope"
    if fresh:
        work = final.with_name(final.name + PARTIAL)
        for stale in (work, work.with_name(work.name + ".wal")):
            stale.unlink(missing_ok=True)
    else:
        if not final.exists():
            raise PipelineError(f"--from-stage {stages[0].name} needs a saved workspace; {final} does not exist. "
                                "Run a full scan first, or pass --workspace.")
        work = final
    ws = Workspace(work, memory_limit=options.memory_limit, threads=options.threads)
    ctx = Context(ws=ws, options=options, out=out, progress=progress or Progress(False))
    started = datetime.now(UTC)
    try:
        records = {r["name"]: r for r in ws.get_meta("stages", [])} if not fresh else {}
        for stage in stages:
            table_needs = [n for n in stage.needs if not ws.has(n)]
            if table_needs:
                raise PipelineError(f"Stage {stage.name} needs {', '.join(table_needs)}, which the workspace does not "
                                    f"have; run the stages that produce them first ({', '.join(stage_names())}).")
            t0 = time.perf_counter()
            ctx.log.info("stage %s (step %d) started", stage.name, stage.step)
            produced = stage.run(ctx)
            seconds = time.perf_counter() - t0
            ctx.log.info("stage %s finished in %.2fs", stage.name, seconds)
            records[stage.name] = {"step": stage.step, "name": stage.name, "theme": stage.theme,
                                   "summary": stage.summary, "needs": list(stage.needs),
                                   "seconds": round(seconds, 3), "produced": produced,
                                   "notes": ctx.notes.get(stage.name, {}), "run": started.isoformat()}
            ws.set_meta("stages", [records[s] for s in stage_names() if s in records])
        manifest = build_manifest(ctx, [records[s] for s in stage_names() if s in records], started)
        write_text(out / "manifest.json", json.dumps(manifest, indent=2, default=str))
    finally:
        if ctx.spark_plane is not None:
            # Imported here: only a Spark run has a plane, and a DuckDB run must not import pyspark.
            from followmoney.engines.handoff import close_plane

            close_plane(ctx)
        ws.close()
    if work != final:
        os.replace(work, final)
    return RunRecord(out, final, manifest)


def build_manifest(ctx: Context, stages: list[dict[str, Any]], started: datetime) -> dict[str, Any]:
    """Everything needed to reproduce and audit the run."""
    ws = ctx.ws
    inputs = ws.get_meta("inputs", {})
    tx = inputs.get("transactions", [])
    read = sum(f["read"] for f in tx)
    loaded = sum(f["loaded"] for f in tx)
    quarantined = sum(f["quarantined"] for f in tx)
    params = {}
    skipped = []
    if ws.has("indicator_plan"):
        for ind, p, runnable, reason in ws.sql(
                "SELECT indicator_id, params, runnable, skip_reason FROM indicator_plan ORDER BY 1").fetchall():
            params[ind] = json.loads(p)
            if not runnable:
                skipped.append({"indicator_id": ind, "reason": reason})
    tables = ("scope", "txns", "quarantine", "parties", "accounts", "postings", "identifiers", "intel",
              "intel_matches", "indicator_plan", "hits", "alerts", "clusters", "cluster_edges", "trace_flows",
              "assets", "feedback")
    from followmoney.registry import catalogue_version

    return {
        "followmoney_version": _versions()["followmoney"],
        "catalogue_version": catalogue_version(),
        "started_at": started.isoformat(),
        "seed": ctx.options.seed,
        "options": _options_record(ctx.options),
        "profile": {"sources": ws.get_meta("profile_sources"), "sha256": ws.get_meta("profile_digest"),
                    "settings": ws.get_meta("profile")},
        "inputs": inputs,
        "reconciliation": {"read": read, "loaded": loaded, "quarantined": quarantined,
                           "balanced": read == loaded + quarantined},
        "versions": _versions(),
        "parameters": params,
        "skipped_indicators": skipped,
        "stages": stages,
        "row_counts": {t: ws.count(t) for t in tables if ws.has(t)},
        "total_seconds": round(sum(s["seconds"] for s in stages), 3),
    }
