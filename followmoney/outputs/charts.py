"""Charts for the report, drawn with matplotlib (Agg) and embedded as PNG data URIs.

Each chart function returns the data it drew along with the image, so tests assert on the data
rather than on pixels.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def bar_chart(labels: list[str], values: list[float], title: str, xlabel: str) -> tuple[str, dict[str, float]]:
    """Horizontal bar chart; returns (data URI, the plotted data)."""
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * max(2, len(labels)) + 0.8))
    ax.barh(labels[::-1], values[::-1], color="#2b6cb0")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    return _png(fig), dict(zip(labels, values, strict=True))


def histogram(values: list[float], title: str, xlabel: str, bins: int = 20) -> tuple[str, list[int]]:
    """Histogram over [0, 1]; returns (data URI, counts per bin)."""
    fig, ax = plt.subplots(figsize=(6.5, 2.8))
    counts, _, _ = ax.hist(values, bins=bins, range=(0, 1), color="#c05621")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("alerts")
    return _png(fig), [int(c) for c in counts]
