"""Stage `assets` (step 9: freeze, seize and confiscate; compensate victims).

Where the subjects' money went, by category of end point: cash taken out, crypto, luxury goods,
property and lodging, money transfer services, accounts of other customers, accounts outside
the bank, and other spending. These totals are the starting point for estimating proceeds and
for asset tracing; the categories come from the channel and the merchant group.
"""

from __future__ import annotations

from followmoney.pipeline.stage import Context, Stage

_SQL = """
CREATE OR REPLACE TABLE assets AS
WITH subjects AS (
    SELECT account_key, account_id FROM accounts
    WHERE account_id IN (SELECT account_id FROM alerts UNION SELECT account_id FROM clusters)
),
outs AS (
    SELECT s.account_id AS subject_account, -p.amount AS amount,
           CASE
             WHEN p.channel = 'crypto' OR p.merchant_group = 'crypto_quasi_cash' THEN 'crypto'
             WHEN p.counterparty_key IS NULL AND p.channel IN ('cash', 'atm') THEN 'cash_out'
             WHEN p.merchant_group IN ('jewellery', 'car_dealer', 'medical_cosmetic', 'nightlife') THEN 'luxury'
             WHEN p.merchant_group IN ('property_rental', 'lodging') THEN 'property_and_lodging'
             WHEN p.merchant_group IN ('money_transfer', 'stored_value') THEN 'money_transfer_and_prepaid'
             WHEN p.counterparty_key IS NOT NULL AND c.is_customer THEN 'customer_account'
             WHEN p.counterparty_key IS NOT NULL THEN 'external_account'
             ELSE 'other_spending'
           END AS category
    FROM postings AS p JOIN subjects AS s ON s.account_key = p.account_key
    LEFT JOIN accounts AS c ON c.account_key = p.counterparty_key
    WHERE p.amount < 0
)
SELECT subject_account, category, round(sum(amount), 2) AS amount, count(*) AS n_txns
FROM outs GROUP BY ALL ORDER BY subject_account, category
"""


def _run(ctx: Context) -> dict[str, int]:
    ctx.ws.sql(_SQL)
    return {"assets": ctx.ws.count("assets")}


STAGE = Stage(
    name="assets",
    step=9,
    theme="freeze, seize and confiscate; compensate victims",
    summary="total where subjects' money went: cash-out, crypto, luxury, property, accounts",
    needs=("alerts", "clusters", "postings", "accounts"),
    produces=("assets",),
    run=_run,
)
