"""Shared fixtures: one simulated world (~3*10^5 transactions) scanned once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")

# Under CI the property tests replay the same examples every run: a red build must be reproducible.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

WORLD = {"accounts": 1700, "days": 180, "seed": 11}
"""The shared test dataset; a seed no test tunes against is used by the slow 10^6 runs."""


def require(condition: bool, reason: str) -> None:
    """Skip when a system dependency is missing, but fail under CI, where everything must be installed."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"missing system dependency under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory):
    """The simulated world: transactions, parties, labels, label_txns."""
    from followmoney.simulate import simulate

    return simulate(tmp_path_factory.mktemp("world"), **WORLD)


@pytest.fixture(scope="session")
def scanned(world, tmp_path_factory: pytest.TempPathFactory):
    """The world scanned end to end, with its labels for the feedback stage."""
    import followmoney

    out = tmp_path_factory.mktemp("scan") / "out"
    return followmoney.scan(str(world.paths["transactions"]), parties=str(world.paths["parties"]), out=out,
                            profile=world_profile(world), labels=str(world.paths["labels"]), seed=WORLD["seed"])


def world_profile(world) -> dict:
    """Scan profile for a simulated world: its scraped-ads identifier list, so EXT01 runs on it."""
    return {"lists": {"ad_identifiers": str(world.paths["ad_identifiers"])}}


@pytest.fixture()
def small_csv(tmp_path: Path) -> Path:
    """A small hand-made file with one structuring account and one pass-through account."""
    rows = ["txn_id,ts,amount,currency,payer_account,beneficiary_account,channel"]
    n = 0

    def add(ts: str, amount: float, payer: str, ben: str, channel: str) -> None:
        nonlocal n
        n += 1
        rows.append(f"t{n},{ts},{amount},USD,{payer},{ben},{channel}")

    for day, amount in ((1, 9500), (2, 9800), (4, 9100)):
        add(f"2024-01-0{day}T10:00:00", amount, "", "S1", "cash")
    for day in (1, 8, 15, 22):
        add(f"2024-02-{day:02d}T09:00:00", 2000, f"P{day}", "M1", "p2p")
        add(f"2024-02-{day:02d}T13:00:00", 1950, "M1", "BOSS", "p2p")
    for i in range(200):
        add(f"2024-03-{1 + i % 28:02d}T{8 + i % 10:02d}:00:00", 10 + i % 90, "C1", "SHOP", "card")
    path = tmp_path / "txns.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
