"""`followmoney explain`: why an alert exists, from a saved workspace."""

from __future__ import annotations

import json

import click

from followmoney.cli.common import console, guarded
from followmoney.cli.trace import open_workspace


@click.command(epilog="\b\nExamples:\n  followmoney explain ACC-0042 --workspace out/workspace.duckdb\n"
                      "  followmoney explain 1 --workspace out/workspace.duckdb    # the alert ranked first")
@click.argument("alert")
@click.option("--workspace", type=click.Path(dir_okay=False), help="Workspace of a scan  [default: ./workspace.duckdb]")
@click.option("--evidence", type=int, default=10, show_default=True, help="Evidence transactions shown per hit.")
@guarded
def explain(alert: str, workspace: str | None, evidence: int) -> None:
    """Print why ALERT exists: its score and reason, each hit with its parameters, facts and evidence
    transactions, and the case it belongs to. ALERT is an account id or an alert rank (`3` or `#3`)."""
    from rich.table import Table

    from followmoney.errors import PipelineError
    from followmoney.outputs.cases import list_cases

    ws = open_workspace(workspace)
    try:
        row = ws.sql("SELECT account_id, score, rank, alert_reason, role_hypothesis, indicators, first_ts, last_ts "
                     "FROM alerts WHERE account_id = $a", {"a": alert}).fetchone()
        rank = alert.lstrip("#")
        if row is None and rank.isdigit():
            row = ws.sql("SELECT account_id, score, rank, alert_reason, role_hypothesis, indicators, first_ts, last_ts "
                         "FROM alerts WHERE rank = $r", {"r": int(rank)}).fetchone()
        if row is None:
            raise PipelineError(f"{alert!r} is not alerted in this workspace (give an alerted account id or a rank).")
        acct, score, rnk, reason, role, indicators, first, last = row
        out = console()
        out.print(f"Alert #{rnk}: account {acct}, score {score:.3f}, role hypothesis {role or 'undetermined'}",
                  markup=False)
        out.print(f"Active {first} .. {last}", markup=False)
        out.print(f"Why: {reason}", markup=False)
        hits = ws.sql("""SELECT indicator_id, window_start, window_end, value, score, params, details, evidence_txn_ids
                         FROM hits WHERE account_id = $a ORDER BY indicator_id, window_start""", {"a": acct}).fetchall()
        for ind, ws_, we, value, hscore, params, details, ev in hits:
            table = Table(title=f"{ind}: window {ws_} .. {we}, value {value:,.2f}, severity {hscore:.2f}")
            for col in ("txn", "time", "amount", "from", "to", "channel"):
                table.add_column(col)
            for t in ws.sql("""SELECT txn_id, ts, round(amount_rc, 2), payer_account, beneficiary_account, channel
                               FROM txns WHERE txn_id IN (SELECT unnest($t)) ORDER BY ts, txn_idx LIMIT $n""",
                            {"t": list(ev), "n": evidence}).fetchall():
                table.add_row(*("" if c is None else str(c) for c in t))
            out.print(table)
            out.print(f"  parameters: {json.dumps(json.loads(params), sort_keys=True)}", markup=False)
            out.print(f"  facts: {json.dumps(json.loads(details), sort_keys=True)}", markup=False)
            if len(ev) > evidence:
                out.print(f"  ... {len(ev) - evidence} more evidence transaction(s) in hits.parquet", markup=False)
        case = next((c for c in list_cases(ws) if acct in c.members), None)
        if case is not None:
            others = ", ".join(f"{a} ({r or 'role undetermined'})" for a, r in sorted(case.members.items()) if a != acct)
            out.print(f"Case {case.case_id} ({case.kind}): cases/{case.case_id}.json"
                      + (f"; with {others}" if others else ""), markup=False)
        if indicators and not hits:
            out.print("No hits are stored for this alert (resumed workspace?).", markup=False)
    finally:
        ws.close()
