"""Cluster quality against simulator labels: recall per typology, purity, background share.

Used by the tests and the benchmark to check the issue's bar: recall >= 0.9 of planted members per
network scenario, clusters >= 0.8 pure, at most 1 % of background accounts in any cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class ClusterQuality:
    """Quality of a set of clusters measured against labels.

    Attributes:
        recall: per scenario (the part of `scenario_id` before the instance number), the share of
            its planted members (every labelled role but `look_alike`) that sit in a cluster.
        purity: per cluster, the share of its members that belong to its most common scenario
            instance (background accounts count as their own instance each).
        background_share: background (unlabelled) accounts in any cluster / all background accounts.
        lookalikes_in_clusters: look-alike accounts that ended up in a cluster.
    """

    recall: dict[str, float]
    purity: dict[str, float]
    background_share: float
    lookalikes_in_clusters: int


def cluster_quality(clusters: pl.DataFrame, labels: pl.DataFrame, n_accounts: int,
                    scenarios: tuple[str, ...]) -> ClusterQuality:
    """Measure `clusters` (contract CLUSTERS) against `labels` (contract LABELS) for `scenarios`."""
    labels = labels.with_columns(pl.col("scenario_id").str.extract(r"^([a-z_]+)").alias("scenario"))
    planted = labels.filter(pl.col("scenario").is_in(scenarios) & (pl.col("role") != "look_alike")
                            & ~pl.col("scenario_id").str.contains("lookalike"))
    members = set(clusters["account_id"])
    recall = {}
    for (name,), group in planted.group_by(["scenario"], maintain_order=True):
        accounts = set(group["account_id"])
        recall[name] = len(accounts & members) / len(accounts)
    instance = dict(zip(labels["account_id"], labels["scenario_id"], strict=False))
    purity = {}
    for (cid,), group in clusters.group_by(["cluster_id"], maintain_order=True):
        tags = [instance.get(a, f"background:{a}") for a in group["account_id"]]
        purity[cid] = max(tags.count(t) for t in set(tags)) / len(tags)
    labelled = set(labels["account_id"])
    background = max(n_accounts - len(labelled), 1)
    lookalikes = set(labels.filter(pl.col("role") == "look_alike")["account_id"])
    return ClusterQuality(recall, purity, len(members - labelled) / background, len(members & lookalikes))
