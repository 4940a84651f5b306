"""Backtesting a finished scan against labels and analysts' dispositions.

Truth is per account: an account is positive when the labels say `expected_alert` (the simulator's
`labels.parquet`, or a bank's own confirmed cases in the same shape) or a disposition says
`confirmed`; a `false_positive` disposition makes it negative whatever the labels say. Every other
account of the scan is negative.

Measured, at account level:

* `alerts`: the scan's alerts against the truth (precision, recall, F1, alert rate);
* per indicator: the accounts it hit;
* per typology and per role: positives of that typology (role) found by an alert, and look-alikes of
  it wrongly alerted (`fp`), so precision there reads "how do the look-alikes of this typology fare";

and at cluster level, for every planted scenario instance, whether one cluster holds at least half
of its non-look-alike accounts, and for every cluster whether at least half of its members belong to
one planted scenario (purity).

The threshold sweep re-runs each indicator alone on the scan's workspace (read-only) with each
numeric parameter moved over a grid around its value, and suggests, per parameter, the value with
the highest recall whose precision meets the target.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from followmoney import registry
from followmoney.engines.duckdb import DuckDBEngine
from followmoney.errors import InputSchemaError, SchemaProblem
from followmoney.params import Interval
from followmoney.workspace import Workspace

SWEEP_FACTORS = (0.5, 0.7, 0.85, 1.0, 1.15, 1.3, 1.5)
DISPOSITIONS = ("confirmed", "false_positive")


@dataclass
class BacktestResult:
    """Everything a backtest measured.

    Attributes:
        metrics: one row per (level, group): flagged, tp, fp, fn, precision, recall, f1.
        scenarios: planted scenario instances and whether a cluster found them.
        cluster_purity: per cluster, the share of members from its main planted scenario.
        alert_rate: alerted accounts / accounts in the scan.
        sweep: one row per (indicator, parameter, value) with its account-level metrics.
        suggestions: per (indicator, parameter), the suggested value for the target precision.
        reviewed: alerts that already carry a disposition.
    """

    metrics: pl.DataFrame
    scenarios: pl.DataFrame
    cluster_purity: pl.DataFrame
    alert_rate: float
    sweep: pl.DataFrame
    suggestions: pl.DataFrame
    reviewed: pl.DataFrame
    target_precision: float = 0.8
    paths: dict[str, Path] = field(default_factory=dict)


def _scores(flagged: set[str], positives: set[str], negatives_hit: set[str] | None = None) -> dict[str, Any]:
    tp = len(flagged & positives)
    fp = len(flagged - positives) if negatives_hit is None else len(negatives_hit)
    fn = len(positives - flagged)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else (0.0 if precision is not None and recall is not None else None)
    return {"flagged": len(flagged), "tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def read_dispositions(path: str | Path) -> pl.DataFrame:
    """Read a dispositions file: account_id, disposition (confirmed / false_positive), date, analyst.

    Raises:
        InputSchemaError: a missing column or an unknown disposition, naming the file and the rows.
    """
    path = Path(path)
    frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path, infer_schema_length=0)
    missing = [c for c in ("account_id", "disposition", "date", "analyst") if c not in frame.columns]
    if missing:
        raise InputSchemaError([SchemaProblem(str(path), c, "missing_column", "a dispositions column", tuple(frame.columns))
                                for c in missing])
    frame = frame.with_columns(pl.col("disposition").str.strip_chars().str.to_lowercase())
    bad = frame.with_row_index("row", offset=2).filter(~pl.col("disposition").is_in(DISPOSITIONS))
    if bad.height:
        raise InputSchemaError([SchemaProblem(str(path), "disposition", "unknown_disposition",
                                              f"one of {', '.join(DISPOSITIONS)} (line {r['row']})", (str(r['disposition']),))
                                for r in bad.head(5).iter_rows(named=True)])
    return frame


def _truth(labels: pl.DataFrame, dispositions: pl.DataFrame | None) -> set[str]:
    positives = set(labels.filter(pl.col("expected_alert"))["account_id"])
    if dispositions is not None:
        # The latest disposition of an account wins.
        latest = dispositions.sort("date").unique(subset=["account_id"], keep="last")
        positives |= set(latest.filter(pl.col("disposition") == "confirmed")["account_id"])
        positives -= set(latest.filter(pl.col("disposition") == "false_positive")["account_id"])
    return positives


def _sweep(ws: Workspace, plan: list[tuple[str, dict[str, Any]]], positives: set[str], accounts: dict[int, str],
           progress: Callable[[int], None] | None) -> pl.DataFrame:
    engine = DuckDBEngine(ws)
    rows = []
    for ind_id, params in plan:
        cls = registry.get(ind_id)
        for p in cls.params:
            if not isinstance(p.constraint, Interval):
                continue
            # Integer parameters (counts, days) move by whole steps: round each scaled value.
            scale = (lambda v: int(round(v))) if p.constraint.kind is int else float
            values = sorted({scale(params[p.name] * f) for f in SWEEP_FACTORS})
            for value in (v for v in values if p.constraint.check(v)):
                trial = {**params, p.name: value}
                if cls.kernel is not None:
                    table = engine.run_kernel_indicators([(cls, trial)])[cls.id]
                else:
                    table = engine.run_sql_indicator(cls, trial)
                flagged = {accounts[k] for k in set(table.column("account_key").to_pylist())}
                rows.append({"indicator_id": ind_id, "param": p.name, "value": float(value),
                             "is_current": value == params[p.name], **_scores(flagged, positives)})
            if progress:
                progress(1)
    schema = {"indicator_id": pl.String, "param": pl.String, "value": pl.Float64, "is_current": pl.Boolean,
              "flagged": pl.Int64, "tp": pl.Int64, "fp": pl.Int64, "fn": pl.Int64, "precision": pl.Float64,
              "recall": pl.Float64, "f1": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def _suggest(sweep: pl.DataFrame, target: float) -> pl.DataFrame:
    rows = []
    for (ind, param), group in sweep.group_by(["indicator_id", "param"], maintain_order=True):
        current = group.filter(pl.col("is_current"))
        now = current["value"][0] if current.height else group["value"].median()
        # Equal recall and F1: stay as close to the current value as possible.
        ok = (group.filter(pl.col("precision") >= target)
              .with_columns((pl.col("value") - now).abs().alias("distance"))
              .sort(["recall", "f1", "distance"], descending=[True, True, False], nulls_last=True))
        best = ok.row(0, named=True) if ok.height else None
        rows.append({"indicator_id": ind, "param": param,
                     "current": current["value"][0] if current.height else None,
                     "suggested": best["value"] if best else None,
                     "precision": best["precision"] if best else None, "recall": best["recall"] if best else None,
                     "note": "" if best else f"no value reaches precision {target:.2f}"})
    return pl.DataFrame(rows, schema={"indicator_id": pl.String, "param": pl.String, "current": pl.Float64,
                                      "suggested": pl.Float64, "precision": pl.Float64, "recall": pl.Float64,
                                      "note": pl.String})


def backtest(run_dir: str | Path, labels: str | Path, dispositions: str | Path | None = None,
             target_precision: float = 0.8, sweep: bool = True,
             progress: Callable[[int], None] | None = None) -> BacktestResult:
    """Measure a finished scan in `run_dir` against labels (and dispositions).

    Args:
        run_dir: the scan's output folder (it holds `workspace.duckdb`).
        labels: labels file (Parquet or CSV) with account_id and expected_alert; scenario_id, typology
            and role are used when present.
        dispositions: optional analysts' dispositions (see `read_dispositions`).
        target_precision: precision the threshold suggestions must meet.
        sweep: run the threshold sweep (re-runs every indicator several times).
        progress: called with 1 after each swept parameter.

    Raises:
        InputSchemaError: a missing workspace, labels file or column.
    """
    run_dir = Path(run_dir)
    ws_path = run_dir / "workspace.duckdb"
    if not ws_path.exists():
        raise InputSchemaError([SchemaProblem(str(run_dir), "-", "not_a_scan", "a scan output folder with workspace.duckdb")])
    labels_path = Path(labels)
    lab = pl.read_parquet(labels_path) if labels_path.suffix == ".parquet" else pl.read_csv(labels_path)
    for col in ("account_id", "expected_alert"):
        if col not in lab.columns:
            raise InputSchemaError([SchemaProblem(str(labels_path), col, "missing_column", "a labels column", tuple(lab.columns))])
    for col in ("scenario_id", "typology", "role"):
        if col not in lab.columns:
            lab = lab.with_columns(pl.lit(None, pl.String).alias(col))
    disp = read_dispositions(dispositions) if dispositions else None
    positives = _truth(lab, disp)
    ws = Workspace(ws_path, read_only=True)
    try:
        accounts = dict(ws.sql("SELECT account_key, account_id FROM accounts").fetchall())
        alerted = {r[0] for r in ws.sql("SELECT account_id FROM alerts").fetchall()}
        hits = {}
        for ind, acct in ws.sql("SELECT DISTINCT indicator_id, account_id FROM hits").fetchall():
            hits.setdefault(ind, set()).add(acct)
        plan = [(i, json.loads(p)) for i, p in ws.sql(
            "SELECT indicator_id, params FROM indicator_plan WHERE runnable ORDER BY indicator_id").fetchall()]
        clusters = pl.from_arrow(ws.arrow("SELECT cluster_id, account_id FROM clusters"))
        swept = _sweep(ws, plan, positives, accounts, progress) if sweep else _sweep(ws, [], positives, accounts, None)
    finally:
        ws.close()

    rows = [{"level": "account", "group": "alerts", **_scores(alerted, positives)}]
    for ind, _ in plan:
        rows.append({"level": "indicator", "group": ind, **_scores(hits.get(ind, set()), positives)})
    for level in ("typology", "role"):
        for (value,), group in lab.filter(pl.col(level).is_not_null()).group_by([level], maintain_order=True):
            members = set(group["account_id"])
            pos = members & positives
            wrongly = (members - positives) & alerted
            rows.append({"level": level, "group": value, **_scores(alerted & members, pos, wrongly)})
    metrics = pl.DataFrame(rows).sort(["level", "group"])

    planted = lab.filter(pl.col("scenario_id").is_not_null() & (pl.col("role") != "look_alike"))
    scen_rows = []
    for (sid,), group in planted.group_by(["scenario_id"], maintain_order=True):
        members = set(group["account_id"])
        best = (clusters.filter(pl.col("account_id").is_in(members)).group_by("cluster_id").len()
                .sort(["len", "cluster_id"], descending=[True, False]))
        covered = best["len"][0] if best.height else 0
        # A one-account scenario is an alert, not a network: cluster recovery does not apply.
        found = None if len(members) < 2 else covered * 2 >= len(members) and covered >= 2
        scen_rows.append({"scenario_id": sid, "accounts": len(members), "in_best_cluster": covered, "found": found})
    scenarios = pl.DataFrame(scen_rows, schema={"scenario_id": pl.String, "accounts": pl.Int64,
                                                "in_best_cluster": pl.Int64, "found": pl.Boolean}).sort("scenario_id")
    member_scenario = dict(zip(planted["account_id"], planted["scenario_id"], strict=True))
    purity_rows = []
    for (cid,), group in clusters.group_by(["cluster_id"], maintain_order=True):
        sids = [member_scenario.get(a) for a in group["account_id"]]
        top = max((sids.count(s) for s in set(sids) if s), default=0)
        purity_rows.append({"cluster_id": cid, "members": len(sids), "purity": top / len(sids)})
    purity = pl.DataFrame(purity_rows, schema={"cluster_id": pl.String, "members": pl.Int64, "purity": pl.Float64})
    reviewed = (disp.join(pl.DataFrame({"account_id": sorted(alerted)}), on="account_id") if disp is not None
                else pl.DataFrame(schema={"account_id": pl.String}))
    return BacktestResult(metrics, scenarios, purity.sort("cluster_id"), len(alerted) / max(1, len(accounts)), swept,
                          _suggest(swept, target_precision), reviewed, target_precision)


def pr_chart(sweep: pl.DataFrame, indicator_id: str) -> tuple[str, dict[str, list[tuple[float, float]]]]:
    """Precision-recall points of one indicator's sweep, one line per parameter; (data URI, data)."""
    from followmoney.outputs.charts import _png, plt

    data: dict[str, list[tuple[float, float]]] = {}
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for (param,), group in sweep.filter(pl.col("indicator_id") == indicator_id).group_by(["param"], maintain_order=True):
        pts = [(r["recall"] or 0.0, r["precision"] or 0.0) for r in group.sort("value").iter_rows(named=True)]
        data[param] = pts
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=param)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(f"{indicator_id}: threshold sweep")
    ax.legend(fontsize=7)
    return _png(fig), data


def write_backtest(result: BacktestResult, run_dir: str | Path) -> dict[str, Path]:
    """Write `backtest.html` (tables and precision-recall charts) and `backtest/*.parquet` into the run."""
    from followmoney.outputs.files import write_text
    from followmoney.outputs.report import _CSS, _table, esc

    run_dir = Path(run_dir)
    folder = run_dir / "backtest"
    folder.mkdir(exist_ok=True)
    paths = {}
    for name in ("metrics", "scenarios", "cluster_purity", "sweep", "suggestions"):
        path = folder / f"{name}.parquet"
        getattr(result, name).write_parquet(path)
        paths[name] = path

    def rows(frame: pl.DataFrame) -> list[list[Any]]:
        return [[f"{v:.3f}" if isinstance(v, float) else v for v in r] for r in frame.iter_rows()]

    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>followmoney backtest</title>"
             f"<style>{_CSS}</style></head><body><h1>Backtest</h1>",
             f"<p>Alert rate {result.alert_rate:.4%}. Target precision for suggestions {result.target_precision:.2f}.</p>",
             "<h2>Account level</h2>", _table(result.metrics.columns, rows(result.metrics)),
             "<h2>Cluster level</h2>", _table(result.scenarios.columns, rows(result.scenarios)),
             _table(result.cluster_purity.columns, rows(result.cluster_purity)),
             "<h2>Threshold suggestions</h2>", _table(result.suggestions.columns, rows(result.suggestions))]
    for ind in sorted(set(result.sweep["indicator_id"])):
        uri, _ = pr_chart(result.sweep, ind)
        parts.append(f"<img alt='{esc(ind)} precision-recall' src='{uri}'>")
    if result.reviewed.height:
        parts += ["<h2>Alerts already reviewed</h2>", _table(result.reviewed.columns, rows(result.reviewed))]
    parts.append("</body></html>")
    paths["html"] = write_text(run_dir / "backtest.html", "".join(parts))
    result.paths = paths
    return paths
