"""The command line: help, exit codes, error messages without tracebacks, and the demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from followmoney.cli.main import main


@pytest.fixture()
def cli():
    return CliRunner()


@pytest.mark.parametrize("command", [[], ["scan"], ["steps"], ["indicators"], ["indicators", "show"], ["simulate"],
                                     ["demo"], ["indicators", "docs"]])
def test_help(cli, command):
    result = cli.invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_scan_prints_a_summary_and_exits_zero(cli, small_csv: Path, tmp_path: Path):
    result = cli.invoke(main, ["scan", str(small_csv), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Top alerts" in result.output and "S1" in result.output and "M1" in result.output
    assert (tmp_path / "out" / "alerts.csv").exists()


def test_fail_on_alerts_exits_one(cli, small_csv: Path, tmp_path: Path):
    result = cli.invoke(main, ["scan", str(small_csv), "--out", str(tmp_path / "o"), "--fail-on-alerts"])
    assert result.exit_code == 1


def test_default_output_folder_is_beside_the_input(cli, small_csv: Path):
    result = cli.invoke(main, ["scan", str(small_csv)])
    assert result.exit_code == 0, result.output
    assert (small_csv.parent / "txns-followmoney" / "manifest.json").exists()


def test_bad_parameter_is_exit_two_with_all_problems(cli, small_csv: Path, tmp_path: Path):
    result = cli.invoke(main, ["scan", str(small_csv), "--out", str(tmp_path / "o"), "--set", "CSH01.margin=1.5",
                               "--set", "FLW01.min_ratio=0", "--set", "CSH01.treshold=1"])
    assert result.exit_code == 2
    assert "The 'margin' parameter of CSH01 must be a float in the range (0, 1). Got 1.5 instead." in result.output
    assert "The 'min_ratio' parameter of FLW01 must be a float in the range (0, 1]. Got 0.0 instead." in result.output
    assert "Did you mean 'threshold'?" in result.output
    assert "Traceback" not in result.output


def test_missing_file_is_exit_two(cli, tmp_path: Path):
    result = cli.invoke(main, ["scan", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "nope.csv" in result.output and "not_found" in result.output
    assert "Traceback" not in result.output


def test_unknown_indicator_selection_is_exit_two(cli, small_csv: Path, tmp_path: Path):
    result = cli.invoke(main, ["scan", str(small_csv), "--out", str(tmp_path / "o"), "-i", "XYZ99"])
    assert result.exit_code == 2
    assert "No indicator matches 'XYZ99'" in result.output


def test_steps_lists_the_eleven_stages(cli):
    result = cli.invoke(main, ["steps"], terminal_width=200)
    assert result.exit_code == 0
    for name in ("scope", "collect", "share", "indicators", "detect", "score", "link", "trace", "assets", "report",
                 "feedback"):
        assert name in result.output


def test_indicators_list_and_show(cli):
    listing = cli.invoke(main, ["indicators"], terminal_width=200)
    assert "CSH01" in listing.output and "FLW01" in listing.output
    page = cli.invoke(main, ["indicators", "show", "rapid_pass_through"])
    assert page.exit_code == 0 and "## Why it matters" in page.output
    missing = cli.invoke(main, ["indicators", "show", "NOPE01"])
    assert missing.exit_code == 2


def test_demo_runs_end_to_end(cli, tmp_path: Path):
    result = cli.invoke(main, ["demo", "--out", str(tmp_path / "demo"), "--accounts", "400", "--days", "60"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "scan" / "report.html").exists()
    assert "Against the planted labels" in result.output


def test_demo_explains_one_indicator(cli, tmp_path: Path):
    result = cli.invoke(main, ["demo", "FLW01", "--out", str(tmp_path / "d")], terminal_width=160)
    assert result.exit_code == 0, result.output
    assert "three_inflows_forwarded_within_hours: fires on M1" in result.output
    assert "only_two_events: does not fire" in result.output
    assert (tmp_path / "d" / "FLW01_three_inflows_forwarded_within_hours.png").stat().st_size > 0
