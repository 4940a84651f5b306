"""Time-respecting tracing of funds with amounts attributed along paths.

The engine replays transactions in time order (`ts`, then the row key) and keeps, for every account
it traces through, a pool of money. Money in a pool is either *traced* (it carries a label: the path
of accounts it has travelled so far) or *untraced* (everything else, including money that was
already there before the period). When a traced account pays out, the payment is split between the
labels in its pool by a stated rule:

* `proportional`: every payment takes from each label in the share that label holds of the pool
  at that moment (the "pro rata" or "mixed funds" rule);
* `fifo`: a payment takes from the oldest money in the pool first (first in, first out).

A payment larger than the pool is completed from money the data cannot see (an opening balance or
an inflow outside the period); that part is untraced. A payment only carries money that arrived
before it, so the trace is time-respecting by construction.

Downstream (`direction="down"`), the subject's own payments are the start: each is wholly the
subject's money. A path ends at an *end point*: cash taken out, an account outside the bank
(external), an asset purchase (by merchant group), crypto, other spending, another subject account,
a hub (an account too busy to trace through), or the depth limit; traced money still sitting in
an account when the period ends is a `balance_left` end point. Attributed amounts are conserved:
the end points of a subject add up to its payments out.

Upstream (`direction="up"`), money entering the traced accounts from outside (cash paid in, an
external payer, an account beyond the depth) is labelled with where it entered, and the same replay
records what reaches the subject; the parts a payment into the subject cannot be traced for are
`unknown_funds`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

RULES = ("proportional", "fifo")
"""Attribution rules, by name."""

ASSET_GROUPS: dict[str, str] = {
    "jewellery": "luxury", "medical_cosmetic": "luxury", "nightlife": "luxury", "clothing": "luxury",
    "car_dealer": "vehicle", "car_rental": "vehicle",
    "property_rental": "property", "lodging": "property",
    "crypto_quasi_cash": "crypto", "gambling": "gambling",
    "money_transfer": "remittance", "stored_value": "prepaid",
}
"""Merchant groups that end a path as an asset or value-transfer end point, and their category."""

END_KINDS = ("cash_out", "external_account", "luxury", "vehicle", "property", "crypto", "gambling", "remittance",
             "prepaid", "spending", "subject", "hub", "depth_limit", "balance_left", "origin", "cash_in", "unknown_funds")
"""Every end point kind a trace can report."""

# Amounts below this are rounding noise of repeated proportional splits and are not carried on.
_EPS = 1e-9


@dataclass(frozen=True)
class Txn:
    """One transaction as the tracer sees it.

    Attributes:
        txn_id: transaction id.
        order: total order key (time first, then the row key); the replay sorts by it.
        ts: transaction time (any comparable value; kept for the output).
        amount: amount in the reporting currency, positive.
        payer: paying account, None for cash paid in.
        beneficiary: receiving account, None for cash out or a card purchase without an account.
        channel: canonical channel.
        merchant_group: merchant group of a card payment, if any.
        customer_beneficiary: whether the beneficiary is a customer of the bank (its account is visible).
        country: the beneficiary's country, if known.
    """

    txn_id: str
    order: tuple[Any, ...]
    ts: Any
    amount: float
    payer: str | None
    beneficiary: str | None
    channel: str
    merchant_group: str | None = None
    customer_beneficiary: bool = True
    country: str | None = None


@dataclass(frozen=True)
class Flow:
    """An attributed amount moving along one transaction.

    Attributes:
        txn_id: the transaction.
        ts: its time.
        path: the accounts the money travelled through, from the start of the trace to `to`.
        hop: number of payments along the path (1 for the subject's own payment).
        src: paying account.
        dst: receiving account or an end point label (`cash`, `merchant:<group>`).
        amount: attributed amount (the part of the transaction that is traced money).
        end: end point kind when the money stops here, else None (it goes on into `dst`'s pool).
    """

    txn_id: str
    ts: Any
    path: tuple[str, ...]
    hop: int
    src: str
    dst: str
    amount: float
    end: str | None


@dataclass
class TraceResult:
    """What a trace found.

    Attributes:
        direction: `down` or `up`.
        rule: attribution rule used.
        subjects: the accounts traced from (down) or to (up).
        flows: every attributed movement, in replay order.
        ends: end points: (path, kind, amount), the path ending at the end point.
    """

    direction: str
    rule: str
    subjects: tuple[str, ...]
    flows: list[Flow] = field(default_factory=list)
    ends: list[tuple[tuple[str, ...], str, float]] = field(default_factory=list)

    def end_totals(self) -> dict[tuple[str, str, str], float]:
        """Attributed amount per (origin, end point, end kind), rounded to cents."""
        out: dict[tuple[str, str, str], float] = {}
        for path, kind, amount in self.ends:
            key = (path[0], path[-1], kind)
            out[key] = out.get(key, 0.0) + amount
        return {k: round(v, 2) for k, v in sorted(out.items())}


class _Pool:
    """Money held by one traced account: labelled lots plus untraced money."""

    __slots__ = ("rule", "lots", "mix", "untraced")

    def __init__(self, rule: str):
        self.rule = rule
        self.lots: deque[list[Any]] = deque()  # fifo: [label or None, amount], oldest first
        self.mix: dict[tuple[str, ...], float] = {}  # proportional: label -> amount
        self.untraced = 0.0

    def add(self, label: tuple[str, ...] | None, amount: float) -> None:
        if amount <= _EPS:
            return
        if self.rule == "fifo":
            self.lots.append([label, amount])
        elif label is None:
            self.untraced += amount
        else:
            self.mix[label] = self.mix.get(label, 0.0) + amount

    def take(self, amount: float) -> list[tuple[tuple[str, ...], float]]:
        """Remove `amount`; return the labelled parts it carries (the rest is untraced)."""
        parts: list[tuple[tuple[str, ...], float]] = []
        if self.rule == "fifo":
            need = amount
            while need > _EPS and self.lots:
                lot = self.lots[0]
                used = min(need, lot[1])
                if lot[0] is not None:
                    parts.append((lot[0], used))
                lot[1] -= used
                need -= used
                if lot[1] <= _EPS:
                    self.lots.popleft()
            return parts
        traced = sum(self.mix.values())
        total = traced + self.untraced
        if total <= _EPS:
            return parts
        # A payment larger than the pool empties it; the excess is money the data cannot see.
        share = min(1.0, amount / total)
        for label in sorted(self.mix):
            part = self.mix[label] * share
            parts.append((label, part))
            left = self.mix[label] - part
            if left <= _EPS:
                del self.mix[label]
            else:
                self.mix[label] = left
        self.untraced -= self.untraced * share
        return parts

    def labelled(self) -> list[tuple[tuple[str, ...], float]]:
        """Traced money still in the pool."""
        if self.rule == "fifo":
            out: dict[tuple[str, ...], float] = {}
            for label, amount in self.lots:
                if label is not None:
                    out[label] = out.get(label, 0.0) + amount
            return sorted(out.items())
        return sorted(self.mix.items())


def end_kind(t: Txn) -> str | None:
    """The end point kind of a payment leaving a traced account, or None when it reaches a traceable account."""
    group = ASSET_GROUPS.get(t.merchant_group or "")
    if t.channel == "crypto":
        return "crypto"
    if group is not None:
        return group
    if t.channel == "card":
        # A card payment buys something; the merchant's account is not traced through.
        return "spending"
    if t.beneficiary is None:
        return "cash_out" if t.channel in ("cash", "atm") else "spending"
    if not t.customer_beneficiary:
        return "external_account"
    return None


def _dst(t: Txn) -> str:
    if t.beneficiary is not None:
        return t.beneficiary
    if t.merchant_group:
        return f"merchant:{t.merchant_group}"
    return "cash" if t.channel in ("cash", "atm") else f"{t.channel}:no account"


def trace(txns: Iterable[Txn], subjects: Sequence[str], direction: str = "down", rule: str = "proportional",
          depth: int = 2, hubs: Iterable[str] = ()) -> TraceResult:
    """Trace funds from (down) or to (up) `subjects` through `depth` payments.

    Args:
        txns: the transactions that may matter (at least every transaction touching an account within
            `depth` payments of a subject); order does not matter, the replay sorts them.
        subjects: subject accounts.
        direction: `down` (where the subjects' money went) or `up` (where it came from).
        rule: `proportional` or `fifo` (see the module docstring).
        depth: maximum number of payments along a path (>= 1).
        hubs: accounts never traced through (too busy for attribution to mean anything).

    Returns:
        The flows and end points; amounts are not rounded (round for display only).

    Raises:
        ValueError: unknown rule or direction, or depth < 1.
    """
    if rule not in RULES:
        raise ValueError(f"unknown attribution rule {rule!r}; use one of {', '.join(RULES)}")
    if direction not in ("down", "up"):
        raise ValueError(f"unknown direction {direction!r}; use down or up")
    if depth < 1:
        raise ValueError("depth must be at least 1")
    ordered = sorted(txns, key=lambda t: t.order)
    subject_set = set(subjects)
    hub_set = set(hubs) - subject_set
    result = TraceResult(direction, rule, tuple(sorted(subject_set)))
    if direction == "down":
        _down(ordered, subject_set, rule, depth, hub_set, result)
    else:
        _up(ordered, subject_set, rule, depth, hub_set, result)
    return result


def _down(ordered: list[Txn], subjects: set[str], rule: str, depth: int, hubs: set[str], result: TraceResult) -> None:
    pools: dict[str, _Pool] = {}
    for t in ordered:
        carried: list[tuple[tuple[str, ...], float]] = []
        if t.payer in subjects:
            # The subject's own payments are wholly its money: this is where the trace starts.
            carried = [((t.payer,), t.amount)]
        elif t.payer is not None and t.payer in pools:
            carried = pools[t.payer].take(t.amount)
        traced = sum(a for _, a in carried)
        if t.beneficiary is not None and t.beneficiary not in subjects and t.customer_beneficiary \
                and t.beneficiary not in hubs and end_kind(t) is None:
            pool = pools.get(t.beneficiary)
            if pool is None:
                pool = pools[t.beneficiary] = _Pool(rule)
            pool.add(None, t.amount - traced)
        if not carried:
            continue
        kind = end_kind(t)
        dst = _dst(t)
        for label, amount in carried:
            if amount <= _EPS:
                continue
            path = (*label, dst)
            hop = len(path) - 1
            end = kind
            if end is None:
                if dst in subjects:
                    end = "subject"
                elif dst in hubs:
                    end = "hub"
                elif hop >= depth:
                    end = "depth_limit"
            result.flows.append(Flow(t.txn_id, t.ts, path, hop, t.payer or "", dst, amount, end))
            if end is None:
                pools[dst].add(path, amount)
            else:
                result.ends.append((path, end, amount))
    for acct in sorted(pools):
        for label, amount in pools[acct].labelled():
            if amount > _EPS:
                result.ends.append((label, "balance_left", amount))


def _up(ordered: list[Txn], subjects: set[str], rule: str, depth: int, hubs: set[str], result: TraceResult) -> None:
    # Accounts within `depth - 1` payments upstream of a subject are traced through; money entering them
    # from anywhere else is labelled with its entry point.
    payers_of: dict[str, set[str]] = {}
    for t in ordered:
        if t.payer is not None and t.beneficiary is not None:
            payers_of.setdefault(t.beneficiary, set()).add(t.payer)
    traced: set[str] = set()
    frontier = set(subjects)
    for _ in range(depth - 1):
        frontier = {p for a in frontier for p in payers_of.get(a, ())} - traced - subjects - hubs
        traced |= frontier
    pools = {a: _Pool(rule) for a in traced}
    for t in ordered:
        src = t.payer if t.payer is not None else "cash"
        if t.payer in pools:
            carried = pools[t.payer].take(t.amount)
            origin_label = None
        else:
            carried = []
            origin_label = (src,)
        ben = t.beneficiary
        if ben in pools:
            if origin_label is not None:
                pools[ben].add(origin_label, t.amount)
            else:
                got = 0.0
                for label, amount in carried:
                    pools[ben].add((*label, ben), amount)
                    got += amount
                # The part of the payment its payer's pool could not explain enters here as untraced.
                pools[ben].add((f"unknown:{src}", src), t.amount - got)
        elif ben in subjects:
            parts = [(origin_label, t.amount)] if origin_label is not None else carried
            got = 0.0
            for label, amount in parts:
                if amount <= _EPS:
                    continue
                path = (*label, ben)
                kind = "unknown_funds" if path[0].startswith("unknown:") else "cash_in" if path[0] == "cash" \
                    else "origin"
                # Every leg of the path is reported (with the payment into the subject) so that flow
                # charts show the whole chain from the entry point.
                for i in range(len(path) - 1):
                    leg_end = kind if i == len(path) - 2 else None
                    result.flows.append(Flow(t.txn_id, t.ts, path[:i + 2], i + 1, path[i], path[i + 1], amount,
                                             leg_end))
                result.ends.append((path, kind, amount))
                got += amount
            if t.amount - got > _EPS:
                path = (f"unknown:{src}", src, ben)
                result.flows.append(Flow(t.txn_id, t.ts, path, 1, src, ben, t.amount - got, "unknown_funds"))
                result.ends.append((path, "unknown_funds", t.amount - got))


def _fill_case_table(ws: Any, table: str, rows: list[tuple[str, str]]) -> None:
    """A temporary (case_id, account_id) table, loaded through Arrow in one statement."""
    import pyarrow as pa

    data = pa.table({"case_id": pa.array([r[0] for r in rows], pa.string()),
                     "account_id": pa.array([r[1] for r in rows], pa.string())})
    ws.register("__fm_trace_in", data)
    try:
        ws.sql(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT DISTINCT case_id, account_id FROM __fm_trace_in")
    finally:
        ws.con.unregister("__fm_trace_in")


def load_txns_for_cases(ws: Any, cases: dict[str, Sequence[str]], direction: str = "down", depth: int = 2,
                        since: str | None = None, until: str | None = None,
                        hub_counterparties: int = 200) -> dict[str, tuple[list[Txn], set[str]]]:
    """The transactions the trace of each case needs, read from a workspace in a few set-based queries.

    Same result, case by case, as `load_txns` on that case's subjects alone; the reach of every case
    is expanded together (one join per hop for all cases), so the cost does not grow with the number
    of cases, and the transactions are read once and shared between the cases that touch them.

    Args:
        ws: the case workspace (needs `txns` and `accounts`; `mcc_groups` when present).
        cases: case id -> subject accounts.
        direction: `down` or `up`.
        depth: maximum payments along a path.
        since: first day (inclusive, ISO date) of transactions to replay.
        until: last day (inclusive, ISO date).
        hub_counterparties: an account with more distinct counterparties than this is a hub: the trace
            stops there, since attributing a payroll or a utility's money to one payer means nothing.

    Returns:
        case id -> (transactions touching every account within reach, in replay order; the hubs found).
    """
    if direction not in ("down", "up"):
        raise ValueError(f"unknown direction {direction!r}; use down or up")
    out: dict[str, tuple[list[Txn], set[str]]] = {cid: ([], set()) for cid in cases}
    pairs = [(cid, a) for cid, subjects in cases.items() for a in subjects]
    if not pairs:
        return out
    own, other = ("payer_account", "beneficiary_account") if direction == "down" else \
        ("beneficiary_account", "payer_account")
    # reach: accounts traced through per case (subjects first); hubs: where a case's trace stops.
    _fill_case_table(ws, "__fm_trace_subj", pairs)
    ws.sql("CREATE OR REPLACE TEMP TABLE __fm_trace_reach AS SELECT case_id, account_id FROM __fm_trace_subj")
    ws.sql("CREATE OR REPLACE TEMP TABLE __fm_trace_hubs (case_id VARCHAR, account_id VARCHAR)")
    ws.sql("CREATE OR REPLACE TEMP TABLE __fm_trace_front AS SELECT case_id, account_id FROM __fm_trace_subj")
    # Accounts within depth - 1 payments are traced through; their transactions reach the depth-th payment.
    for _ in range(depth - 1):
        ws.sql(f"""CREATE OR REPLACE TEMP TABLE __fm_trace_found AS
                   SELECT DISTINCT f.case_id, t.{other} AS account_id
                   FROM __fm_trace_front AS f JOIN txns AS t ON t.{own} = f.account_id
                   WHERE t.{other} IS NOT NULL""")
        # Busy is a property of the account over all its transactions, so it is computed once for all
        # cases. An account outside the bank shows only its payments to our customers: it is where
        # money enters the trace, never an account to trace through.
        ws.sql("""CREATE OR REPLACE TEMP TABLE __fm_trace_stop AS
                  WITH cand AS (SELECT DISTINCT account_id FROM __fm_trace_found),
                  legs AS (
                      SELECT t.payer_account AS account_id, t.beneficiary_account AS cp
                      FROM txns AS t SEMI JOIN cand ON cand.account_id = t.payer_account
                      UNION SELECT t.beneficiary_account, t.payer_account
                      FROM txns AS t SEMI JOIN cand ON cand.account_id = t.beneficiary_account)
                  SELECT account_id FROM legs WHERE cp IS NOT NULL
                  GROUP BY account_id HAVING count(DISTINCT cp) > $cap
                  UNION
                  SELECT a.account_id FROM accounts AS a SEMI JOIN cand ON cand.account_id = a.account_id
                  WHERE NOT a.is_customer""", {"cap": hub_counterparties})
        ws.sql("""INSERT INTO __fm_trace_hubs
                  SELECT f.case_id, f.account_id FROM __fm_trace_found AS f
                  SEMI JOIN __fm_trace_stop AS s ON s.account_id = f.account_id
                  ANTI JOIN __fm_trace_subj AS j ON j.case_id = f.case_id AND j.account_id = f.account_id
                  ANTI JOIN __fm_trace_hubs AS h ON h.case_id = f.case_id AND h.account_id = f.account_id""")
        ws.sql("""CREATE OR REPLACE TEMP TABLE __fm_trace_front AS
                  SELECT f.case_id, f.account_id FROM __fm_trace_found AS f
                  ANTI JOIN __fm_trace_reach AS r ON r.case_id = f.case_id AND r.account_id = f.account_id
                  ANTI JOIN __fm_trace_hubs AS h ON h.case_id = f.case_id AND h.account_id = f.account_id""")
        ws.sql("INSERT INTO __fm_trace_reach SELECT case_id, account_id FROM __fm_trace_front")
    for cid, acct in ws.sql("SELECT case_id, account_id FROM __fm_trace_hubs").fetchall():
        out[cid][1].add(acct)
    cols = set(ws.columns("txns"))
    mg = "mg.merchant_group" if "mcc" in cols and ws.has("mcc_groups") else "CAST(NULL AS VARCHAR)"
    join = "LEFT JOIN mcc_groups AS mg ON mg.mcc = t.mcc" if "mcc" in cols and ws.has("mcc_groups") else ""
    country = "t.beneficiary_country" if "beneficiary_country" in cols else "CAST(NULL AS VARCHAR)"
    where = ["true"]
    params: dict[str, Any] = {}
    if since:
        where.append("t.ts >= CAST($since AS DATE)")
        params["since"] = since
    if until:
        where.append("t.ts < CAST($until AS DATE) + INTERVAL 1 DAY")
        params["until"] = until
    # Which case needs which transaction: two equality joins (payer side, beneficiary side), not an OR.
    ws.sql(f"""CREATE OR REPLACE TEMP TABLE __fm_trace_need AS
               SELECT r.case_id, t.txn_idx FROM __fm_trace_reach AS r
               JOIN txns AS t ON t.payer_account = r.account_id WHERE {' AND '.join(where)}
               UNION
               SELECT r.case_id, t.txn_idx FROM __fm_trace_reach AS r
               JOIN txns AS t ON t.beneficiary_account = r.account_id WHERE {' AND '.join(where)}""", params)
    rows = ws.sql(f"""SELECT t.txn_id, t.ts, t.txn_idx, t.amount_rc, t.payer_account, t.beneficiary_account, t.channel,
                             {mg}, coalesce(b.is_customer, false), {country}
                      FROM txns AS t SEMI JOIN (SELECT DISTINCT txn_idx FROM __fm_trace_need) AS n
                           ON n.txn_idx = t.txn_idx
                      {join}
                      LEFT JOIN accounts AS b ON b.account_id = t.beneficiary_account
                      ORDER BY t.ts, t.txn_idx""").fetchall()
    # Each transaction is built once and shared by the cases that need it, in replay order (ts, txn_idx).
    by_idx = {r[2]: (pos, Txn(r[0], (r[1], r[2]), r[1], float(r[3]), r[4], r[5], r[6], r[7], bool(r[8]), r[9]))
              for pos, r in enumerate(rows)}
    for cid, idxs in ws.sql("SELECT case_id, list(txn_idx) FROM __fm_trace_need GROUP BY case_id").fetchall():
        out[cid][0].extend(t for _, t in sorted(by_idx[i] for i in idxs))
    for table in ("subj", "reach", "hubs", "front", "found", "stop", "need"):
        ws.sql(f"DROP TABLE IF EXISTS __fm_trace_{table}")
    return out


def load_txns(ws: Any, subjects: Sequence[str], direction: str = "down", depth: int = 2,
              since: str | None = None, until: str | None = None,
              hub_counterparties: int = 200) -> tuple[list[Txn], set[str]]:
    """The transactions a trace of `subjects` needs, read from a workspace.

    One case of `load_txns_for_cases` (see it for the arguments).

    Returns:
        (transactions touching every account within reach, the hubs found).
    """
    return load_txns_for_cases(ws, {"-": list(subjects)}, direction, depth, since, until, hub_counterparties)["-"]


def trace_workspace(ws: Any, subjects: Sequence[str], direction: str = "down", rule: str = "proportional",
                    depth: int = 2, since: str | None = None, until: str | None = None,
                    hub_counterparties: int = 200) -> TraceResult:
    """Trace `subjects` on a workspace: `load_txns` then `trace` (see both for the arguments)."""
    txns, hubs = load_txns(ws, subjects, direction, depth, since, until, hub_counterparties)
    return trace(txns, subjects, direction, rule, depth, hubs)


def trace_cases(ws: Any, cases: dict[str, Sequence[str]], direction: str = "down", rule: str = "proportional",
                depth: int = 2, since: str | None = None, until: str | None = None,
                hub_counterparties: int = 200) -> dict[str, TraceResult]:
    """Trace every case on a workspace: one set-based `load_txns_for_cases`, then `trace` per case.

    Each case's result is the same as `trace_workspace` on its subjects alone.
    """
    loaded = load_txns_for_cases(ws, cases, direction, depth, since, until, hub_counterparties)
    return {cid: trace(loaded[cid][0], cases[cid], direction, rule, depth, loaded[cid][1]) for cid in cases}


def aggregate_flows(result: TraceResult) -> list[dict[str, Any]]:
    """Flows summed per (origin, hop, from, to, end kind), for tables and flow charts."""
    agg: dict[tuple[str, int, str, str, str], list[Any]] = {}
    for f in result.flows:
        key = (f.path[0], f.hop, f.src, f.dst, f.end or "")
        cur = agg.get(key)
        if cur is None:
            agg[key] = [f.amount, 1, f.ts, f.ts, {f.txn_id}]
        else:
            cur[0] += f.amount
            cur[4].add(f.txn_id)
            cur[2] = min(cur[2], f.ts)
            cur[3] = max(cur[3], f.ts)
    return [{"origin": k[0], "hop": k[1], "from_account": k[2], "to_account": k[3], "end_kind": k[4] or None,
             "attributed": round(v[0], 2), "n_txns": len(v[4]), "first_ts": v[2], "last_ts": v[3]}
            for k, v in sorted(agg.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3], kv[0][4]))]
