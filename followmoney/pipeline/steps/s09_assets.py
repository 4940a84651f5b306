"""Stage `assets` (step 9: freeze, seize and confiscate; compensate victims).

Where each case's money went, for asset tracing and for compensating victims:

* `assets`: every payment out of a case account by category (cash out, property, vehicle, luxury,
  crypto, gambling, prepaid, foreign remittance by country, external account, other spending,
  payments inside the case), with the detail an investigator asks for next (merchant group and
  counterparty name, or the destination country), plus each account's balance left at the end of
  the period (credits minus debits seen, never below zero: the data cannot see opening balances);
* `case_proceeds`: the estimated proceeds of each case, stated with its basis: money received by
  the case's accounts from outside the case (payers outside it and cash paid in) over the period;
* `candidate_victims`: members with the role `victim` or `mule` and the amounts taken from them
  (what they paid on to the other members of the case), a starting point for compensation.
"""

from __future__ import annotations

import polars as pl

from followmoney.outputs.cases import VICTIM_ROLES, list_cases
from followmoney.pipeline.stage import Context, Stage
from followmoney.tracing import ASSET_GROUPS

_CATEGORY = """
CASE
  WHEN p.cp_inside THEN 'inside_case'
  WHEN p.channel = 'crypto' OR p.merchant_group = 'crypto_quasi_cash' THEN 'crypto'
  WHEN p.counterparty_key IS NULL AND p.channel IN ('cash', 'atm') THEN 'cash_out'
  {groups}
  WHEN {foreign} THEN 'foreign_remittance'
  WHEN p.channel = 'card' THEN 'card_spending'
  WHEN p.counterparty_key IS NOT NULL AND NOT coalesce(p.cp_customer, false) THEN 'external_account'
  WHEN p.counterparty_key IS NOT NULL THEN 'customer_account'
  ELSE 'other_spending'
END"""

ASSET_SCHEMA = {"case_id": pl.String, "account_id": pl.String, "category": pl.String, "detail": pl.String,
                "amount": pl.Float64, "n_txns": pl.Int64}
PROCEEDS_SCHEMA = {"case_id": pl.String, "estimated_proceeds": pl.Float64, "from_outside": pl.Float64,
                   "cash_in": pl.Float64, "n_payers": pl.Int64, "basis": pl.String}
VICTIM_SCHEMA = {"case_id": pl.String, "account_id": pl.String, "role": pl.String, "received": pl.Float64,
                 "taken": pl.Float64, "n_txns": pl.Int64}

BASIS = ("money received by the case's accounts from outside the case (other payers and cash paid in) over "
         "the period; transfers between the case's own accounts are not counted twice")


def _home_country(ctx: Context, cols: list[str]) -> str | None:
    if "counterparty_country" not in cols:
        return None
    row = ctx.ws.sql("""SELECT counterparty_country FROM postings WHERE counterparty_country IS NOT NULL
                        GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""").fetchone()
    return row[0] if row else None


def _run(ctx: Context) -> dict[str, int]:
    ws = ctx.ws
    cols = ws.columns("postings")
    home = _home_country(ctx, cols)
    groups = "\n  ".join(f"WHEN p.merchant_group = '{g}' THEN '{c}'" for g, c in sorted(ASSET_GROUPS.items())
                         if c not in ("crypto",))
    foreign = f"p.country IS NOT NULL AND p.country <> '{home}'" if home else "false"
    detail_country = "p.counterparty_country" if "counterparty_country" in cols else "CAST(NULL AS VARCHAR)"
    detail_name = "p.counterparty_name" if "counterparty_name" in cols else "CAST(NULL AS VARCHAR)"
    category = _CATEGORY.format(groups=groups, foreign=foreign)
    members = [{"case_id": c.case_id, "account_id": a, "role": r} for c in list_cases(ws) for a, r in sorted(c.members.items())]
    ws.put("__fm_members", pl.DataFrame(members, schema={"case_id": pl.String, "account_id": pl.String,
                                                         "role": pl.String}).to_arrow())
    # One statement per table over every case at once: member legs, with the counterparty's membership.
    ws.sql(f"""CREATE OR REPLACE TEMP TABLE __fm_legs AS
               SELECT m.case_id, m.account_id, m.role, p.amount, p.channel, p.merchant_group, p.counterparty_key,
                      {detail_country} AS country, {detail_name} AS cp_name, c.account_id AS cp_account,
                      c.is_customer AS cp_customer, o.role AS cp_role, o.account_id IS NOT NULL AS cp_inside
               FROM __fm_members AS m JOIN accounts AS k ON k.account_id = m.account_id
               JOIN postings AS p ON p.account_key = k.account_key
               LEFT JOIN accounts AS c ON c.account_key = p.counterparty_key
               LEFT JOIN __fm_members AS o ON o.case_id = m.case_id AND o.account_id = c.account_id""")
    assets = ws.sql(f"""
        WITH outs AS (SELECT *, -amount AS out_amount, {category} AS category FROM __fm_legs AS p WHERE amount < 0)
        SELECT case_id, account_id, category,
               CASE WHEN category = 'foreign_remittance' THEN 'country ' || country
                    WHEN category = 'inside_case' THEN 'to ' || cp_account
                    WHEN merchant_group IS NOT NULL THEN merchant_group || coalesce(': ' || cp_name, '')
                    ELSE cp_name END AS detail,
               round(sum(out_amount), 2), count(*)
        FROM outs GROUP BY ALL
        UNION ALL
        SELECT case_id, account_id, 'balance_left', 'credits minus debits seen', round(sum(amount), 2), count(*)
        FROM __fm_legs GROUP BY ALL HAVING sum(amount) > 0.005
        ORDER BY 1, 2, 3, 4 NULLS FIRST""").fetchall()
    assets = [dict(zip(ASSET_SCHEMA, r, strict=True)) for r in assets]
    proceeds = [dict(zip(PROCEEDS_SCHEMA, (*r, BASIS), strict=True)) for r in ws.sql("""
        SELECT case_id, round(coalesce(sum(amount), 0), 2), round(coalesce(sum(amount), 0), 2),
               round(coalesce(sum(amount) FILTER (WHERE counterparty_key IS NULL), 0), 2), count(DISTINCT counterparty_key)
        FROM __fm_legs WHERE amount > 0 AND NOT cp_inside GROUP BY 1 ORDER BY 1""").fetchall()]
    seen = {p["case_id"] for p in proceeds}
    proceeds += [dict(zip(PROCEEDS_SCHEMA, (c, 0.0, 0.0, 0.0, 0, BASIS), strict=True))
                 for c in sorted({m["case_id"] for m in members} - seen)]
    proceeds.sort(key=lambda p: p["case_id"])
    roles = ", ".join(f"'{r}'" for r in VICTIM_ROLES)
    victims = [dict(zip(VICTIM_SCHEMA, r, strict=True)) for r in ws.sql(f"""
        SELECT case_id, account_id, role, round(coalesce(sum(amount) FILTER (WHERE amount > 0), 0), 2),
               round(coalesce(-sum(amount) FILTER (WHERE amount < 0 AND cp_inside AND coalesce(cp_role, '') NOT IN ({roles})), 0), 2),
               count(*) FILTER (WHERE amount < 0 AND cp_inside AND coalesce(cp_role, '') NOT IN ({roles}))
        FROM __fm_legs WHERE role IN ({roles}) GROUP BY ALL ORDER BY 1, 2""").fetchall()]
    for t in ("__fm_legs", "__fm_members"):
        ws.sql(f"DROP TABLE IF EXISTS {t}")
    ws.put("assets", pl.DataFrame(assets, schema=ASSET_SCHEMA).to_arrow())
    ws.put("case_proceeds", pl.DataFrame(proceeds, schema=PROCEEDS_SCHEMA).to_arrow())
    ws.put("candidate_victims", pl.DataFrame(victims, schema=VICTIM_SCHEMA).to_arrow())
    ctx.notes["assets"] = {"home_country": home}
    return {t: ws.count(t) for t in ("assets", "case_proceeds", "candidate_victims")}


STAGE = Stage(
    name="assets",
    step=9,
    theme="freeze, seize and confiscate; compensate victims",
    summary="where each case's money went, balances left, estimated proceeds and candidate victims",
    needs=("alerts", "clusters", "postings", "accounts"),
    produces=("assets", "case_proceeds", "candidate_victims"),
    run=_run,
)
