"""Generated docs are fresh, and the layout installs inside the followmoney package."""

from __future__ import annotations

import importlib
from pathlib import Path

from setuptools import find_packages

from followmoney import docs, registry

ROOT = Path(__file__).resolve().parents[1]


def test_indicator_docs_are_generated_from_code_and_fresh():
    expected = docs.render_all()
    folder = ROOT / "docs" / "indicators"
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.md")}
    stale = sorted(name for name in set(expected) | set(on_disk) if expected.get(name) != on_disk.get(name))
    assert not stale, f"regenerate with `followmoney indicators docs`: {stale}"


def test_every_indicator_family_folder_is_a_package_that_installs():
    folders = sorted(p.name for p in (ROOT / "indicators").iterdir() if p.is_dir() and not p.name.startswith("__"))
    assert folders, "the catalogue has family folders"
    found = set(find_packages(str(ROOT / "indicators")))
    for name in folders:
        assert (ROOT / "indicators" / name / "__init__.py").exists(), f"indicators/{name} needs __init__.py"
        assert name in found
        importlib.import_module(f"followmoney.indicators.{name}")


def test_family_folders_match_indicator_families():
    for cls in registry.all():
        assert cls.__module__.split(".")[2] == cls.family


def test_wheel_installs_only_followmoney_with_its_data(tmp_path):
    """Build the real wheel: generic names must not reach site-packages, data and cases must ship."""
    import subprocess
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("followmoney-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"followmoney", wheel.name.split("-py")[0] + ".dist-info"}
    for needed in ("followmoney/data/iso4217.txt", "followmoney/data/mcc_groups.csv",
                   "followmoney/data/jurisdictions/US.yml", "followmoney/data/lists/README.md",
                   "followmoney/simulate/defaults.yml",
                   "followmoney/indicators/cash/CSH01_structuring_below_threshold.cases.yml",
                   "followmoney/cli/main.py"):
        assert needed in names
