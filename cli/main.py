"""The `followmoney` command: a thin click layer over `followmoney.api`.

Each command (or group) lives in its own module of this package and is added to the group here.
Exit codes: 0 the command ran; 1 alerts were found and `--fail-on-alerts` was given; 2 bad input,
profile, parameters or usage (the message says what to fix, without a traceback); 3 an internal
error (the message says how to get the traceback for a bug report).
"""

from __future__ import annotations

import logging
import sys

import click

from followmoney.cli.backtest import backtest
from followmoney.cli.common import guarded, parse_overrides  # noqa: F401 - re-exported for plug-in commands
from followmoney.cli.explain import explain
from followmoney.cli.indicators import indicators
from followmoney.cli.scan import scan
from followmoney.cli.simulate import demo, simulate
from followmoney.cli.steps import steps
from followmoney.cli.trace import trace


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


for command in (scan, steps, indicators, simulate, demo, backtest, trace, explain):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
