"""The scoring contract: one rule that turns hits into alerts, defined here and nowhere else.

The rule, applied to each **account** and to each **customer** (all accounts of one `party_id`:
FinCEN asks for relationship-level review, so money spread over several accounts is judged as
one):

1. per indicator, its strongest hit (highest score, then earliest window) stands for it; hits
   are considered within a span of `scoring.span_days` days (default 90) ending at each hit's
   window end, and the best span counts;
2. per family, `s_f` is the highest score among its indicators in the span, weighted by the
   family weight `w_f` (profile `scoring.weights`, default 1) and, when the holder is young and
   the account new, by the `young_new_account_risk` modifier (below);
3. the combined score is the noisy-or `1 - prod_f (1 - min(1, w_f * s_f))`: independent families
   reinforce each other, a second hit in the same family adds nothing, and the score stays in
   [0, 1];
4. it alerts when a decisive indicator fired (class attribute, or the profile's
   `scoring.decisive` list), or when, within one span, the combined score reaches
   `scoring.alert_threshold` (default 0.5) **and** at least `scoring.min_families` distinct
   families fired (default 3). A customer that qualifies alerts each of its accounts that has
   hits, with the customer's score when it is higher than the account's own.

**Why these defaults** (calibrated on the simulator, see `followmoney.simulate`): the reference
says no single flag should alert and proposes "alert when >= 3 distinct categories fire within 90
days". Weak text/merchant indicators score 0.25-0.45, so three families at their minimum
combine to `1 - 0.75^3 = 0.58`, above 0.5, while two families at their maximum (0.45) combine to
0.70 but still do not alert: the family count, not the score, is what keeps a travelling
salesperson (lodging and rides, one family) or a migrant sending money home (one family) from
alerting. On the shared simulated world the background never reaches three families and every
planted exploitation account reaches at least three.

**young_new_account_risk** (FINTRAC 2021, FinCEN 2020: victims skew young and their accounts are
often newly opened and controlled by others) is a modifier, never a hit: when the holder is
between 18 and `scoring.young_max_age` (default 25) and the account was opened less than
`scoring.young_account_days` (default 180) before the span's last hit, every family score is
multiplied by `scoring.young_factor` (default 1.25, the reference's value). It can lift a
combination over the score threshold but never adds a family, so it cannot alert on its own.
Gender is never an input.

**Front-line observations**: when the workspace holds a table `observations(account_id, ts, code)`
(teller observations of the behavioural indicators, family B), each distinct code counts as a
hit of the `behavioural` family with score 0.25 at its time.

The `alert_reason` states the combined score, the rule that made it alert (threshold and family
count, decisive indicator, or customer level), the modifier when applied, and each indicator's
strongest hit in words. The role hypothesis is the role hint with the largest total score among
the indicators that fired (null when none carries a hint); the table `alert_roles` lists the hits
that support it, and a possible victim is marked so that it is not named as the subject of a
report (FinCEN 2020). The table `customer_scores` holds the relationship-level result of every
customer with hits on two or more accounts. Scores are rounded to 1e-6 so that engines agree.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pyarrow as pa

from followmoney import registry
from followmoney.schema import ALERTS
from followmoney.workspace import Workspace

OBSERVATION_SCORE = 0.25
"""Score of one behavioural observation code: as weak as the weakest transaction indicator."""


@dataclass(frozen=True)
class Rule:
    """The scoring settings, resolved from the profile's `scoring` section."""

    threshold: float = 0.5
    min_families: int = 3
    span_days: int = 90
    young_factor: float = 1.25
    young_max_age: int = 25
    young_account_days: int = 180

    @classmethod
    def from_settings(cls, scoring: dict[str, Any]) -> Rule:
        """Read the rule from a profile's `scoring` mapping; absent keys keep their defaults."""
        d = cls()
        return cls(threshold=float(scoring.get("alert_threshold", d.threshold)),
                   min_families=int(scoring.get("min_families", d.min_families)),
                   span_days=int(scoring.get("span_days", d.span_days)),
                   young_factor=float(scoring.get("young_factor", d.young_factor)),
                   young_max_age=int(scoring.get("young_max_age", d.young_max_age)),
                   young_account_days=int(scoring.get("young_account_days", d.young_account_days)))


@dataclass
class Verdict:
    """The outcome of the rule for one account or customer."""

    score: float
    families: dict[str, float]
    best: list[dict[str, Any]]
    decisive: list[str]
    qualifies: bool
    young: bool = False
    hits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def alerts(self) -> bool:
        """Whether the rule alerts."""
        return bool(self.decisive) or self.qualifies


def combine(family_scores: dict[str, float], weights: dict[str, float], factor: float = 1.0) -> float:
    """Noisy-or of weighted family scores (each times `factor`, capped at 1), rounded to 1e-6."""
    keep = 1.0
    for family, s in family_scores.items():
        keep *= 1.0 - min(1.0, factor * weights.get(family, 1.0) * s)
    return round(1.0 - keep, 6)


def _strongest(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per indicator its strongest hit: highest score, then earliest window."""
    best: dict[str, dict[str, Any]] = {}
    for h in sorted(hits, key=lambda h: (h["indicator_id"], -h["score"], h["window_start"])):
        best.setdefault(h["indicator_id"], h)
    return list(best.values())


def judge(hits: list[dict[str, Any]], rule: Rule, young_until: datetime | None = None) -> Verdict:
    """Apply the rule to one account's (or customer's) hits.

    Args:
        hits: dicts with `indicator_id`, `family`, `score`, `weight`, `decisive`, `window_start`,
            `window_end`.
        rule: the scoring settings.
        young_until: when the holder is young, the last time at which the account still counts as
            new; the modifier applies to a span whose last hit ends before it.

    Returns:
        The verdict of the best span: the one that alerts with the highest score, or else the
        highest-scoring one.
    """
    decisive = sorted({h["indicator_id"] for h in hits if h["decisive"]})
    span = timedelta(days=rule.span_days)
    best_key: tuple[bool, float, int] | None = None
    verdict: Verdict | None = None
    for anchor in sorted({h["window_end"] for h in hits}):
        inside = [h for h in hits if anchor - span <= h["window_end"] <= anchor]
        strongest = _strongest(inside)
        fam: dict[str, float] = defaultdict(float)
        weights: dict[str, float] = {}
        for h in strongest:
            fam[h["family"]] = max(fam[h["family"]], h["score"])
            weights[h["family"]] = h["weight"]
        young = young_until is not None and anchor <= young_until
        score = combine(fam, weights, rule.young_factor if young else 1.0)
        qualifies = score >= rule.threshold and len(fam) >= rule.min_families
        key = (qualifies, score, len(fam))
        if best_key is None or key > best_key:
            best_key = key
            verdict = Verdict(score, dict(fam), strongest, decisive, qualifies, young, inside)
    assert verdict is not None, "judge needs at least one hit"
    if decisive and not verdict.qualifies:
        # A decisive indicator alerts whatever the span: report every indicator of the account.
        verdict.best = _strongest(hits)
        verdict.hits = hits
    return verdict


def _young_until(ws: Workspace, rule: Rule) -> dict[str, datetime]:
    """Per account with a young holder, the last moment the account counts as new."""
    if not ws.has("parties"):
        return {}
    cols = set(ws.columns("parties"))
    if not {"birth_date", "opened_at"} <= cols:
        return {}
    rows = ws.sql(
        """SELECT account_id, min(CAST(opened_at AS TIMESTAMP)) AS opened,
                  date_diff('day', max(CAST(birth_date AS DATE)), min(CAST(opened_at AS DATE))) / 365.25 AS age
           FROM parties WHERE birth_date IS NOT NULL AND opened_at IS NOT NULL GROUP BY account_id""").fetchall()
    out = {}
    for account, opened, age in rows:
        # Young at opening (18 to young_max_age); the account counts as new young_account_days long.
        if 18 <= age < rule.young_max_age + 1:
            out[account] = opened + timedelta(days=rule.young_account_days)
    return out


def _observation_hits(ws: Workspace) -> list[dict[str, Any]]:
    """Front-line observations as behavioural hits (one per account and code, at its first time)."""
    if not ws.has("observations"):
        return []
    rows = ws.sql("""SELECT account_id, 'OBS:' || code, min(ts) FROM observations
                     WHERE account_id IS NOT NULL AND code IS NOT NULL GROUP BY account_id, code""").fetchall()
    return [{"account_id": a, "indicator_id": code, "family": "behavioural", "score": OBSERVATION_SCORE,
             "weight": 1.0, "decisive": False, "role_hint": None, "value": 1.0, "params": "{}",
             "window_start": ts, "window_end": ts, "evidence_txn_ids": []} for a, code, ts in rows]


def _explain(h: dict[str, Any]) -> str:
    if h["indicator_id"].startswith("OBS:"):
        return f"{h['indicator_id']} front-line observation (score {h['score']:.2f})"
    cls = registry.get(h["indicator_id"])
    return f"{cls.explain(h['value'], json.loads(h['params']))} (score {h['score']:.2f})"


def _role(best: list[dict[str, Any]]) -> tuple[str | None, list[str], float]:
    roles: dict[str, float] = defaultdict(float)
    support: dict[str, list[str]] = defaultdict(list)
    for h in best:
        if h["role_hint"]:
            roles[h["role_hint"]] += h["score"]
            support[h["role_hint"]].append(h["indicator_id"])
    if not roles:
        return None, [], 0.0
    role = max(sorted(roles), key=lambda k: roles[k])
    return role, sorted(support[role]), round(roles[role], 6)


def _reason(v: Verdict, rule: Rule, customer: str | None, own: list[dict[str, Any]]) -> str:
    why = []
    if v.qualifies:
        scope = f"customer {customer}: " if customer else ""
        why.append(f"{scope}combined score {v.score:.2f} >= threshold {rule.threshold:.2f} with {len(v.families)} "
                   f"families (>= {rule.min_families}) within {rule.span_days} days")
    else:
        why.append(f"combined score {v.score:.2f} with {len(v.families)} families (threshold {rule.threshold:.2f}, "
                   f">= {rule.min_families} families)")
    if v.decisive:
        why.append("decisive: " + ", ".join(v.decisive))
    if v.young:
        why.append(f"young_new_account_risk: family scores x{rule.young_factor:g} (holder aged 18-{rule.young_max_age}, "
                   f"account opened < {rule.young_account_days} days earlier)")
    # Every indicator of the account is explained (the `indicators` column lists them all), not only
    # those of the span that decided.
    return "; ".join(why) + ". " + "; ".join(_explain(h) for h in _strongest(own))


def score_alerts(ws: Workspace, scoring: dict[str, Any]) -> int:
    """Write `alerts`, `alert_roles`, `customer_scores` and `account_scores` from `hits` and `indicator_plan`.

    Returns:
        The number of alerts.
    """
    rule = Rule.from_settings(scoring)
    frame = pl.from_arrow(ws.arrow(
        """SELECT h.account_id, h.indicator_id, h.score, h.value, h.window_start, h.window_end, h.params,
                  h.evidence_txn_ids, p.family, p.decisive, p.role_hint, p.weight
           FROM hits AS h JOIN indicator_plan AS p USING (indicator_id)
           ORDER BY h.account_id, h.indicator_id, h.score DESC, h.window_start"""))
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in frame.iter_rows(named=True):
        by_account[r["account_id"]].append(r)
    for r in _observation_hits(ws):
        by_account[r["account_id"]].append(r)
    parties = dict(ws.sql("SELECT account_id, party_id FROM accounts WHERE party_id IS NOT NULL").fetchall())
    young = _young_until(ws, rule)

    verdicts = {a: judge(h, rule, young.get(a)) for a, h in sorted(by_account.items())}

    # Relationship level: pool the hits of every account of a customer with hits on two or more.
    members: dict[str, list[str]] = defaultdict(list)
    for a in verdicts:
        if parties.get(a):
            members[parties[a]].append(a)
    customer_rows = []
    by_customer: dict[str, Verdict] = {}
    for party, accts in sorted(members.items()):
        if len(accts) < 2:
            continue
        pooled = [h for a in accts for h in by_account[a]]
        # The modifier applies to the relationship when it applies to any of its accounts.
        until = max((young[a] for a in accts if a in young), default=None)
        v = judge(pooled, rule, until)
        by_customer[party] = v
        customer_rows.append((party, len(accts), v.score, sorted(v.families), v.qualifies or bool(v.decisive)))

    rows: list[dict[str, Any]] = []
    role_rows = []
    score_rows = []
    for account, v in verdicts.items():
        party = parties.get(account)
        cv = by_customer.get(party) if party else None
        # The customer's verdict speaks for the account when it alerts and the account's own does not
        # (or scores lower): money spread over several accounts is judged as one relationship.
        chosen = cv if cv is not None and cv.qualifies and (not v.alerts or cv.score > v.score) else v
        alerted = v.alerts or (cv is not None and cv.qualifies)
        score_rows.append((account, chosen.score, alerted))
        if not alerted:
            continue
        own = by_account[account]
        role, support, support_score = _role(_strongest(own))
        evidence = {t for h in own for t in h["evidence_txn_ids"]}
        reason = _reason(chosen, rule, party if chosen is cv else None, own)
        if role == "victim":
            reason += ". Possible victim or nominee: do not name as the subject of a report without review"
        rows.append({
            "account_id": account, "party_id": party, "score": chosen.score, "rank": 0,
            "alert_reason": reason,
            "families": sorted({h["family"] for h in own}), "indicators": sorted({h["indicator_id"] for h in own}),
            "first_ts": min(h["window_start"] for h in own), "last_ts": max(h["window_end"] for h in own),
            "n_evidence": len(evidence), "role_hypothesis": role,
        })
        if role:
            role_rows.append((account, role, support, support_score))
    rows.sort(key=lambda r: (-r["score"], r["account_id"]))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    schema = {"account_id": pl.String, "party_id": pl.String, "score": pl.Float64, "rank": pl.Int64,
              "alert_reason": pl.String, "families": pl.List(pl.String), "indicators": pl.List(pl.String),
              "first_ts": pl.Datetime("us"), "last_ts": pl.Datetime("us"), "n_evidence": pl.Int64,
              "role_hypothesis": pl.String}
    ws.put("alert_roles", pa.table({
        "account_id": pa.array([r[0] for r in role_rows], pa.string()),
        "role_hypothesis": pa.array([r[1] for r in role_rows], pa.string()),
        "supporting_indicators": pa.array([r[2] for r in role_rows], pa.list_(pa.string())),
        "support_score": pa.array([r[3] for r in role_rows], pa.float64())}))
    ws.put("customer_scores", pa.table({
        "party_id": pa.array([r[0] for r in customer_rows], pa.string()),
        "n_accounts": pa.array([r[1] for r in customer_rows], pa.int64()),
        "score": pa.array([r[2] for r in customer_rows], pa.float64()),
        "families": pa.array([r[3] for r in customer_rows], pa.list_(pa.string())),
        "alerted": pa.array([r[4] for r in customer_rows], pa.bool_())}))
    # Every account with a hit, alerted or not: what a threshold sweep or a percentile check of
    # planted against background accounts needs (accounts without hits score 0).
    ws.put("account_scores", pa.table({
        "account_id": pa.array([r[0] for r in score_rows], pa.string()),
        "score": pa.array([r[1] for r in score_rows], pa.float64()),
        "alerted": pa.array([r[2] for r in score_rows], pa.bool_())}))
    frame = pl.DataFrame(rows, schema=schema).select([c.name for c in ALERTS])
    return ws.put("alerts", frame.to_arrow())
