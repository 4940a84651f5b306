"""Backtests against a hand-computed confusion matrix on a small labelled fixture."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import followmoney
from followmoney.backtest import backtest, read_dispositions, write_backtest
from followmoney.cli.main import main
from followmoney.errors import InputSchemaError


@pytest.fixture()
def run(small_csv: Path, tmp_path: Path):
    result = followmoney.scan(str(small_csv), out=tmp_path / "run")
    assert set(result.alerts["account_id"]) == {"S1", "M1"}
    labels = pl.DataFrame({
        "account_id": ["S1", "M1", "X9", "C1"],
        "scenario_id": ["structuring-0001", "pass_through-0001", "pass_through-0001", "lookalike-0001"],
        "typology": ["laundering_of_proceeds", "sexual_exploitation", "sexual_exploitation", "sexual_exploitation"],
        "role": ["controller", "mule", "mule", "look_alike"],
        "expected_alert": [True, True, True, False],
    })
    path = tmp_path / "labels.parquet"
    labels.write_parquet(path)
    return result, path


def _row(metrics: pl.DataFrame, level: str, group: str) -> dict:
    return metrics.filter((pl.col("level") == level) & (pl.col("group") == group)).row(0, named=True)


def test_confusion_matrix_by_hand(run):
    result, labels = run
    bt = backtest(result.out, labels, sweep=False)
    # alerts {S1, M1}; positives {S1, M1, X9}: tp 2, fp 0, fn 1.
    alerts = _row(bt.metrics, "account", "alerts")
    assert (alerts["tp"], alerts["fp"], alerts["fn"]) == (2, 0, 1)
    assert alerts["precision"] == 1.0 and alerts["recall"] == pytest.approx(2 / 3)
    assert alerts["f1"] == pytest.approx(0.8)
    # FLW01 hits only M1: tp 1, fn 2.
    flw = _row(bt.metrics, "indicator", "FLW01")
    assert (flw["tp"], flw["fp"], flw["fn"]) == (1, 0, 2)
    mule = _row(bt.metrics, "role", "mule")
    assert (mule["tp"], mule["fn"]) == (1, 1)
    # Accounts in the scan: S1, M1, BOSS, C1, SHOP and the payers P1, P8, P15, P22.
    assert bt.alert_rate == pytest.approx(2 / 9)
    (scenario,) = bt.scenarios.filter(pl.col("scenario_id") == "pass_through-0001").iter_rows(named=True)
    assert scenario["accounts"] == 2 and scenario["found"] is False


def test_dispositions_override_labels(run, tmp_path: Path):
    result, labels = run
    disp = tmp_path / "dispositions.csv"
    disp.write_text("account_id,disposition,date,analyst\nS1,false_positive,2024-05-01,ana\n"
                    "C1,confirmed,2024-05-02,ben\n", encoding="utf-8")
    bt = backtest(result.out, labels, disp, sweep=False)
    # positives {M1, X9, C1}; alerts {S1, M1}: tp 1, fp 1, fn 2.
    alerts = _row(bt.metrics, "account", "alerts")
    assert (alerts["tp"], alerts["fp"], alerts["fn"]) == (1, 1, 2)
    assert alerts["precision"] == 0.5 and alerts["recall"] == pytest.approx(1 / 3)
    assert set(bt.reviewed["account_id"]) == {"S1"}


def test_bad_disposition_is_named(tmp_path: Path):
    disp = tmp_path / "d.csv"
    disp.write_text("account_id,disposition,date,analyst\nS1,maybe,2024-05-01,ana\n", encoding="utf-8")
    with pytest.raises(InputSchemaError, match="line 2"):
        read_dispositions(disp)


def test_sweep_suggests_values_and_writes_a_report(run):
    result, labels = run
    bt = backtest(result.out, labels, target_precision=0.9)
    swept = bt.sweep.filter(pl.col("indicator_id") == "CSH01")
    assert set(swept["param"]) == {"threshold", "margin", "window_days", "min_count"}
    current = swept.filter(pl.col("is_current"))
    assert current.height == 4 and set(current["tp"]) == {1}
    # Raising min_count to 4 or 5: S1 made three deposits, so it is lost.
    high = swept.filter((pl.col("param") == "min_count") & (pl.col("value") >= 4))
    assert high.height and set(high["tp"]) == {0}
    suggestion = bt.suggestions.filter((pl.col("indicator_id") == "CSH01") & (pl.col("param") == "min_count")).row(0, named=True)
    assert suggestion["suggested"] == 3.0, "ties keep the current value"
    paths = write_backtest(bt, result.out)
    page = paths["html"].read_text()
    assert "Threshold suggestions" in page
    assert page.count("data:image/png;base64,") == bt.sweep["indicator_id"].n_unique()


def test_cli_backtest(run):
    result, labels = run
    out = CliRunner().invoke(main, ["backtest", str(result.out), "--labels", str(labels), "--no-sweep"],
                             terminal_width=200)
    assert out.exit_code == 0, out.output
    assert "Account level" in out.output and (result.out / "backtest.html").exists()
