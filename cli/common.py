"""Helpers shared by the command modules: error handling, option parsing, summary tables."""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any

import click

from followmoney.errors import FollowMoneyError

STAGE_NAMES = ("scope", "collect", "share", "indicators", "detect", "score", "link", "trace", "assets", "report",
               "feedback")


def console() -> Any:
    """A rich console on stdout."""
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


def print_summary(result: Any) -> None:
    """The stage table, the top alerts and the reconciliation line after a scan."""
    from rich.table import Table

    out = console()
    table = Table(title="Stages", show_lines=False)
    for col, justify in (("step", "right"), ("stage", "left"), ("seconds", "right"), ("produced (rows)", "left")):
        table.add_column(col, justify=justify)
    for s in result.manifest["stages"]:
        table.add_row(str(s["step"]), s["name"], f"{s['seconds']:.2f}",
                      ", ".join(f"{k} {v:,}" for k, v in s["produced"].items()))
    out.print(table)
    if result.n_alerts:
        top = Table(title=f"Top alerts (of {result.n_alerts:,})")
        for col in ("rank", "account", "score", "indicators", "role"):
            top.add_column(col)
        for r in result.alerts.sort("rank").head(10).iter_rows(named=True):
            top.add_row(str(r["rank"]), r["account_id"], f"{r['score']:.2f}", ", ".join(r["indicators"]),
                        r["role_hypothesis"] or "-")
        out.print(top)
    out.print(result.summary(), markup=False)


