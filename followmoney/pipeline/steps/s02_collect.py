"""Stage `collect` (step 2: identify stakeholders and the data each holds).

Ingests every source into the case workspace: column mapping, validation, quarantine with
reasons, file hashes and per-file counts (read = loaded + quarantined), then the tables derived
once for everyone: integer-keyed accounts, postings and identifiers.
"""

from __future__ import annotations

from followmoney.errors import InputSchemaError, SchemaProblem
from followmoney.ingest.derive import build_accounts, build_identifiers, build_postings
from followmoney.ingest.parties import load_parties
from followmoney.ingest.read import expand_sources
from followmoney.ingest.transactions import load_transactions
from followmoney.pipeline.stage import Context, Stage
from followmoney.profile import Profile


def _run(ctx: Context) -> dict[str, int]:
    if ctx.options.engine == "spark" and not ctx.options.pseudonymise:
        # Ingest on Spark (pseudonymisation rewrites workspace tables, so it stays on DuckDB).
        from followmoney.engines.handoff import collect_on_spark

        return collect_on_spark(ctx)
    settings = ctx.settings
    profile = Profile(settings)
    sources = expand_sources(ctx.options.sources, "transactions")
    if not sources:
        raise InputSchemaError([SchemaProblem("-", "-", "no_input", "at least one transactions file")])
    with ctx.progress.task("collect: reading transactions", total=len(sources)) as advance:
        counts = load_transactions(ctx.ws, sources, profile, progress=advance)
    party_sources = expand_sources(ctx.options.parties, "parties")
    party_counts = load_parties(ctx.ws, party_sources, profile) if party_sources else []
    if not party_sources:
        ctx.ws.sql("DROP TABLE IF EXISTS parties")
    ctx.ws.set_meta("inputs", {"transactions": [c.as_dict() for c in counts],
                               "parties": [c.as_dict() for c in party_counts]})
    if ctx.options.pseudonymise:
        # Before anything is derived, so no raw identifier reaches a derived table or an output.
        from followmoney.pseudonymise import pseudonymise_collected

        ctx.notes.setdefault("collect", {})["pseudonymisation"] = pseudonymise_collected(
            ctx.ws, ctx.options.pseudonym_key_file)
    with ctx.progress.task("collect: deriving accounts and postings", total=3) as advance:
        n_accounts = build_accounts(ctx.ws)
        advance(1)
        n_postings = build_postings(ctx.ws, settings["timezone"])
        advance(1)
        n_ids = build_identifiers(ctx.ws)
        advance(1)
    produced = {"txns": ctx.ws.count("txns"), "quarantine": ctx.ws.count("quarantine"), "accounts": n_accounts,
                "postings": n_postings, "identifiers": n_ids}
    if party_sources:
        produced["parties"] = ctx.ws.count("parties")
    return produced


STAGE = Stage(
    name="collect",
    step=2,
    theme="identify stakeholders and the data each holds",
    summary="ingest, map, validate and quarantine; derive accounts, postings, identifiers",
    needs=("scope",),
    produces=("txns", "quarantine", "accounts", "postings", "identifiers", "parties"),
    run=_run,
)
