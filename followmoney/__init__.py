"""followmoney: financial investigations into human trafficking over bank transaction tables.

The public surface is small on purpose:

* `scan()` runs the 11-stage pipeline on transaction files or tables and returns a `ScanResult`;
* `simulate()` writes a synthetic world with planted trafficking scenarios and labels;
* `FollowMoneyError` is the base of every error raised on purpose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from followmoney.errors import FollowMoneyError

if TYPE_CHECKING:
    from followmoney.api import ScanResult

__all__ = ["FollowMoneyError", "ScanResult", "__version__", "scan", "simulate"]


def __getattr__(name: str) -> Any:
    # Imported lazily so `import followmoney` stays cheap and pulls no engine until it is used.
    if name in ("scan", "ScanResult"):
        from followmoney import api

        return getattr(api, name)
    if name == "simulate":
        from followmoney.simulate import simulate

        return simulate
    raise AttributeError(f"module 'followmoney' has no attribute {name!r}")
