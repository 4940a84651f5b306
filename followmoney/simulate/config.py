"""Loading and merging of the simulator configuration.

The packaged ``defaults.yml`` holds every tunable number of the background
population and of each scenario.  A user file passed as ``config=`` is
deep-merged over it: mappings merge key by key, anything else (numbers,
lists, strings, ``null``) replaces the default.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

#: Location of the packaged defaults.
DEFAULTS_PATH = Path(__file__).with_name("defaults.yml")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Return a new mapping with ``override`` merged recursively over ``base``.

    Args:
        base: Default values; not modified.
        override: Values that win; nested mappings are merged, other values replace.

    Returns:
        A fresh dict (deep-copied, so callers may mutate it).
    """
    out: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Load the packaged defaults, optionally overridden by a YAML file.

    Args:
        path: Optional YAML file whose content is deep-merged over the defaults.

    Returns:
        The merged configuration with top-level keys ``background``,
        ``scenario_defaults`` and ``scenarios``.

    Raises:
        ValueError: If the override file does not contain a mapping.
    """
    with open(DEFAULTS_PATH, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    if path is not None:
        with open(path, encoding="utf-8") as fh:
            override = yaml.safe_load(fh) or {}
        if not isinstance(override, Mapping):
            raise ValueError(f"config file {path} must contain a YAML mapping")
        cfg = deep_merge(cfg, override)
    return cfg


def scenario_config(cfg: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Return the effective settings of one scenario.

    Scenarios without a section in the configuration fall back to
    ``scenario_defaults`` so that a newly added plug-in runs with sane counts.

    Args:
        cfg: Merged configuration from :func:`load_config`.
        name: Scenario name.

    Returns:
        ``scenario_defaults`` deep-merged with ``scenarios[name]``.
    """
    defaults = cfg.get("scenario_defaults", {}) or {}
    own = (cfg.get("scenarios", {}) or {}).get(name, {}) or {}
    return deep_merge(defaults, own)


def instance_count(scn_cfg: Mapping[str, Any], accounts: int) -> int:
    """Number of instances of a scenario to plant.

    An explicit integer ``instances`` wins (``0`` disables the scenario, as does
    ``enabled: false``); otherwise ``per_1000_accounts`` scales with the
    population size, floored at ``min_instances``.

    Args:
        scn_cfg: Effective scenario settings from :func:`scenario_config`.
        accounts: Number of background accounts.

    Returns:
        A non-negative instance count.
    """
    if not scn_cfg.get("enabled", True):
        return 0
    explicit = scn_cfg.get("instances")
    if explicit is not None:
        return max(0, int(explicit))
    scaled = round(float(scn_cfg.get("per_1000_accounts", 1.0)) * accounts / 1000.0)
    return max(int(scn_cfg.get("min_instances", 2)), int(scaled))
