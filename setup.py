"""Package discovery that pyproject.toml cannot express statically.

`indicators/` and `cli/` install as `followmoney.indicators` and `followmoney.cli`; their
sub-packages (one per indicator family) are found here so a new family folder needs no edit.
"""

from setuptools import find_packages, setup


def _mapped(prefix: str, where: str) -> list[str]:
    return [prefix] + [f"{prefix}.{name}" for name in find_packages(where)]


setup(
    packages=find_packages(include=["followmoney", "followmoney.*"])
    + _mapped("followmoney.indicators", "indicators")
    + _mapped("followmoney.cli", "cli"),
)
