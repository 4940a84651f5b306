"""Name lists (ad sites, payment processors, inmate-call vendors, ...) shared by text indicators.

Defaults ship in `followmoney/data/lists/<name>.csv` (columns `value`, optional `tag`); the
profile's `lists` section extends or replaces any of them, or adds new ones:

    lists:
      ad_sites: {path: extra_sites.csv}                 # extend (the default mode)
      recruitment_agencies: {path: ours.csv, mode: replace}
      escort_phones: ads_scrape.csv                     # a new list, e.g. for X-type indicators

Values are trimmed and lower-cased so indicators match them against normalised names.
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from followmoney.errors import ProfileError
from followmoney.workspace import Workspace


def _rows(name: str, text: str, origin: str) -> list[tuple[str, str, str | None]]:
    reader = csv.DictReader(io.StringIO(text))
    if "value" not in (reader.fieldnames or []):
        raise ProfileError(f"List {name!r} ({origin}) needs a 'value' column; found {reader.fieldnames}.")
    return [(name, r["value"].strip().lower(), (r.get("tag") or "").strip() or None)
            for r in reader if (r.get("value") or "").strip()]


def default_lists() -> dict[str, list[tuple[str, str, str | None]]]:
    """The lists shipped with followmoney, by name."""
    folder = resources.files("followmoney.data").joinpath("lists")
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".csv"):
            name = entry.name[:-4]
            out[name] = _rows(name, entry.read_text(encoding="utf-8"), f"built-in {entry.name}")
    return out


def load_lists(ws: Workspace, settings: dict[str, Any]) -> int:
    """Write the `lists(list_name, value, tag)` table from the defaults and the profile."""
    lists = default_lists()
    for name, spec in (settings.get("lists") or {}).items():
        spec = {"path": spec} if isinstance(spec, str) else dict(spec or {})
        mode = spec.get("mode", "extend")
        if mode not in ("extend", "replace") or not spec.get("path"):
            raise ProfileError(f"lists.{name} needs a path and a mode of 'extend' or 'replace'; got {spec}.")
        try:
            text = Path(spec["path"]).read_text(encoding="utf-8")
        except OSError as err:
            raise ProfileError(f"Cannot read list {name!r} from {spec['path']}: {err.strerror}.") from None
        rows = _rows(name, text, spec["path"])
        lists[name] = rows if mode == "replace" else lists.get(name, []) + rows
    flat = sorted({row for rows in lists.values() for row in rows}, key=lambda r: (r[0], r[1], r[2] or ""))
    return ws.put("lists", pa.table({"list_name": pa.array([r[0] for r in flat], pa.string()),
                                     "value": pa.array([r[1] for r in flat], pa.string()),
                                     "tag": pa.array([r[2] for r in flat], pa.string())}))
