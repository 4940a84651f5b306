"""Trainers' view of one indicator: its docs, its worked cases, the transactions that fire it, a chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from followmoney import docs
from followmoney.indicator import Indicator
from followmoney.testing import load_cases, run_case


def case_chart(cls: type[Indicator], case: Any, hits: list[dict[str, Any]], path: Path) -> dict[str, Any]:
    """Timeline of a case's transactions, evidence highlighted; returns the plotted data.

    Credits are drawn above the axis and debits below, per account, so a trainer sees the shape
    the rule looks for (deposits piling up, money leaving right after it arrives).
    """
    from datetime import datetime

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    evidence = {t for h in hits for t in h["evidence_txn_ids"]}
    rows = case.rows.to_pylist()
    accounts = sorted({h["account_id"] for h in hits})
    fig, ax = plt.subplots(figsize=(7, 3.2))
    data: dict[str, Any] = {"accounts": accounts, "points": []}
    for r in rows:
        for acct in accounts:
            if acct not in (r["payer_account"], r["beneficiary_account"]):
                continue
            sign = 1 if r["beneficiary_account"] == acct else -1
            ts = datetime.fromisoformat(str(r["ts"]))
            hit = r["txn_id"] in evidence
            ax.bar(ts, sign * float(r["amount"]), width=0.15, color="#c05621" if hit else "#a0aec0")
            data["points"].append((r["txn_id"], acct, sign * float(r["amount"]), hit))
    ax.axhline(0, color="#4a5568", linewidth=0.8)
    ax.set_title(f"{cls.id} {case.name}: credits up, debits down; evidence in orange")
    ax.set_ylabel("amount")
    fig.autofmt_xdate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return data


def explain_indicator(cls: type[Indicator], out: Path) -> dict[str, Any]:
    """Run every case of an indicator and chart the positive ones into `out`.

    Returns:
        {"page": the indicator's docs page, "cases": [(name, expected, hits)], "charts": [paths]}.
    """
    results, charts = [], []
    for case in load_cases(cls):
        hits = run_case(case, cls)
        results.append({"name": case.name, "description": case.description, "expected": list(case.expect_hits),
                        "hits": hits})
        if hits:
            path = out / f"{cls.id}_{case.name}.png"
            case_chart(cls, case, hits, path)
            charts.append(path)
    return {"page": docs.indicator_page(cls), "cases": results, "charts": charts}
