"""Stage `share` (step 3: build partnerships and legal gateways for sharing information).

Brings in intelligence shared by partners: a watchlist of identifiers (phones from escort-ad
scrapes, e-mails, addresses, devices, IPs) or accounts reported by other institutions, and
matches it against the case's accounts and identifiers.

Watchlist format (CSV or Parquet): `kind` (account, phone, email, address, device, ip),
`value`, optional `source` (who shared it) and `purpose`.
"""

from __future__ import annotations

from followmoney.errors import InputSchemaError, SchemaProblem
from followmoney.ingest.read import expand_sources, read_raw
from followmoney.pipeline.stage import Context, Stage

_KINDS = ("account", "phone", "email", "address", "device", "ip")

# The same light normalisation as the identifiers table, so a shared value meets its twin.
_NORMAL = """CASE kind WHEN 'phone' THEN regexp_replace(value, '[^0-9+]', '', 'g')
                       WHEN 'email' THEN lower(trim(value))
                       WHEN 'address' THEN lower(regexp_replace(trim(value), '\\s+', ' ', 'g'))
                       ELSE trim(value) END"""


def _run(ctx: Context) -> dict[str, int]:
    ws = ctx.ws
    ws.sql("CREATE OR REPLACE TABLE intel (kind VARCHAR, value VARCHAR, source VARCHAR, purpose VARCHAR)")
    path = ctx.options.watchlist or ctx.settings.get("watchlist")
    if path:
        (src,) = expand_sources([path], "watchlist")
        read_raw(ws, src, "__fm_intel_raw", {"header": True})
        cols = set(ws.columns("__fm_intel_raw"))
        if not {"kind", "value"} <= cols:
            raise InputSchemaError([SchemaProblem(src.name, "kind/value", "missing_column",
                                                  "columns 'kind' and 'value'", tuple(sorted(cols - {'__row'})))])
        source = "CAST(source AS VARCHAR)" if "source" in cols else "'watchlist'"
        purpose = "CAST(purpose AS VARCHAR)" if "purpose" in cols else "NULL"
        ws.sql(f"""INSERT INTO intel
                   SELECT kind, {_NORMAL} AS value, src, purpose FROM (
                     SELECT lower(trim(CAST(kind AS VARCHAR))) AS kind, CAST(value AS VARCHAR) AS value,
                            {source} AS src, {purpose} AS purpose FROM __fm_intel_raw)
                   WHERE kind IN ({', '.join(repr(k) for k in _KINDS)}) AND value IS NOT NULL""")
        ws.drop("__fm_intel_raw")
    ws.sql("""CREATE OR REPLACE TABLE intel_matches AS
              SELECT DISTINCT a.account_id, i.kind, i.value, i.source
              FROM intel AS i JOIN accounts AS a ON i.kind = 'account' AND a.account_id = i.value
              UNION
              SELECT DISTINCT d.account_id, i.kind, i.value, i.source
              FROM intel AS i JOIN identifiers AS d ON d.kind = i.kind AND d.value = i.value
              ORDER BY account_id, kind, value""")
    return {"intel": ws.count("intel"), "intel_matches": ws.count("intel_matches")}


STAGE = Stage(
    name="share",
    step=3,
    theme="build partnerships and legal gateways for sharing information",
    summary="load partner intelligence (watchlists) and match it to accounts and identifiers",
    needs=("accounts", "identifiers"),
    produces=("intel", "intel_matches"),
    run=_run,
)
