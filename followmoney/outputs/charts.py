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


def flow_chart(flows: list[dict[str, Any]], title: str, max_nodes_per_column: int = 8,
               min_share: float = 0.02) -> tuple[str, dict[str, Any]]:
    """A Sankey-style flow diagram of attributed amounts, one column per hop.

    Args:
        flows: rows with `hop`, `from_account`, `to_account`, `end_kind` and `attributed`
            (as in `trace_flows`).
        title: chart title.
        max_nodes_per_column: nodes beyond the largest ones of a column are folded into one "other" node.
        min_share: nodes with less than this share of their column are folded too (their labels would overlap).

    Returns:
        (data URI, the plotted data: node totals per column and the bands drawn).
    """
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    # Column of a node: the hop at which money leaves it (origins at 0), end points one further right.
    bands: dict[tuple[int, str, str], float] = {}
    for f in flows:
        hop = int(f["hop"])
        dst = f["to_account"] if not f.get("end_kind") else f"{f['to_account']} [{f['end_kind']}]"
        key = (hop, f["from_account"], dst)
        bands[key] = bands.get(key, 0.0) + float(f["attributed"])
    columns: dict[int, dict[str, float]] = {}
    for (hop, src, dst), amount in sorted(bands.items()):
        columns.setdefault(hop - 1, {}).setdefault(src, 0.0)
        columns[hop - 1][src] += amount
        columns.setdefault(hop, {}).setdefault(dst, 0.0)
        columns[hop][dst] += amount
    folded: dict[tuple[int, str], str] = {}
    for col, nodes in columns.items():
        total = sum(nodes.values()) or 1.0
        keep = [n for n in sorted(nodes, key=lambda n: (-nodes[n], n))[:max_nodes_per_column]
                if nodes[n] >= min_share * total]
        for n in nodes:
            folded[(col, n)] = n if n in keep else "other"
    merged: dict[tuple[int, str, str], float] = {}
    for (hop, src, dst), amount in bands.items():
        key = (hop, folded[(hop - 1, src)], folded[(hop, dst)])
        merged[key] = merged.get(key, 0.0) + amount
    outs: dict[tuple[int, str], float] = {}
    ins: dict[tuple[int, str], float] = {}
    for (hop, src, dst), amount in merged.items():
        outs[(hop - 1, src)] = outs.get((hop - 1, src), 0.0) + amount
        ins[(hop, dst)] = ins.get((hop, dst), 0.0) + amount
    # A node that both receives and sends is as tall as the larger of the two.
    totals: dict[int, dict[str, float]] = {}
    for col, node in sorted(set(outs) | set(ins)):
        totals.setdefault(col, {})[node] = max(outs.get((col, node), 0.0), ins.get((col, node), 0.0))
    n_cols = max(totals) + 1 if totals else 1
    fig, ax = plt.subplots(figsize=(3.2 * n_cols + 1, 4.8))
    ax.set_title(title)
    ax.axis("off")
    if not totals:
        ax.text(0.5, 0.5, "no traced money", ha="center", va="center")
        return _png(fig), {"columns": {}, "bands": []}
    scale = 1.0 / max(sum(v.values()) for v in totals.values())
    gap = 0.02
    pos: dict[tuple[int, str], list[float]] = {}
    for col in sorted(totals):
        y = 1.0
        for node in sorted(totals[col], key=lambda n: (-totals[col][n], n)):
            h = totals[col][node] * scale * (1 - gap * len(totals[col]))
            pos[(col, node)] = [y - h, y, y, y]  # bottom, top, next out-slot, next in-slot
            ax.add_patch(plt.Rectangle((col, y - h), 0.08, h, color="#2b6cb0"))
            ax.text(col + 0.1, y - h / 2, f"{node}\n{totals[col][node]:,.0f}", va="center", fontsize=7)
            y -= h + gap
    drawn = []
    for (hop, src, dst), amount in sorted(merged.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1], kv[0][2])):
        h = amount * scale * (1 - gap * len(totals[hop - 1]))
        s, d = pos[(hop - 1, src)], pos[(hop, dst)]
        y0, y1 = s[2], d[3]
        s[2] -= h
        d[3] -= h
        x0, x1 = hop - 1 + 0.08, hop
        verts = [(x0, y0), ((x0 + x1) / 2, y0), ((x0 + x1) / 2, y1), (x1, y1), (x1, y1 - h),
                 ((x0 + x1) / 2, y1 - h), ((x0 + x1) / 2, y0 - h), (x0, y0 - h), (x0, y0)]
        codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.LINETO,
                 MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.CLOSEPOLY]
        ax.add_patch(PathPatch(MplPath(verts, codes), facecolor="#90cdf4", edgecolor="none", alpha=0.6))
        drawn.append({"hop": hop, "from": src, "to": dst, "amount": round(amount, 2)})
    ax.set_xlim(-0.1, n_cols - 1 + 0.9)
    ax.set_ylim(-0.05, 1.05)
    return _png(fig), {"columns": {c: {k: round(v, 2) for k, v in sorted(n.items())} for c, n in totals.items()},
                       "bands": drawn}


def timeline(points: list[tuple[Any, float, str]], title: str) -> tuple[str, dict[str, int]]:
    """Transactions over time: one dot per transaction, signed amount on a log-like axis, coloured by kind.

    Args:
        points: (time, signed amount, kind) per transaction.
        title: chart title.

    Returns:
        (data URI, number of points per kind).
    """
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    kinds = sorted({k for _, _, k in points})
    palette = ["#2b6cb0", "#c05621", "#2f855a", "#b83280", "#6b46c1", "#718096", "#d69e2e", "#e53e3e"]
    counts = {}
    for i, kind in enumerate(kinds):
        sel = [(t, a) for t, a, k in points if k == kind]
        counts[kind] = len(sel)
        ax.scatter([t for t, _ in sel], [a for _, a in sel], s=9, label=kind, color=palette[i % len(palette)])
    ax.axhline(0, color="#a0aec0", linewidth=0.6)
    ax.set_yscale("symlog", linthresh=100)
    ax.set_title(title)
    ax.set_ylabel("amount (in + / out -)")
    if kinds:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.autofmt_xdate()
    return _png(fig), counts


def city_timeline(rows: list[tuple[Any, str]], title: str) -> tuple[str, dict[str, int]]:
    """Where card, ATM and cash events happened over time: one row per city.

    Args:
        rows: (time, city) per event.
        title: chart title.

    Returns:
        (data URI, events per city).
    """
    cities = sorted({c for _, c in rows})
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * max(2, len(cities)) + 1.0))
    index = {c: i for i, c in enumerate(cities)}
    ax.scatter([t for t, _ in rows], [index[c] for _, c in rows], s=9, color="#6b46c1")
    ax.set_yticks(range(len(cities)), cities)
    ax.set_title(title)
    fig.autofmt_xdate()
    counts: dict[str, int] = {}
    for _, c in rows:
        counts[c] = counts.get(c, 0) + 1
    return _png(fig), counts
