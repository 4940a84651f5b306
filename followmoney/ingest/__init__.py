"""Lossless ingest: every input row is loaded or quarantined with a reason, and the counts reconcile.

`read` brings one source into the workspace as raw text, `transactions` and `parties` map and
validate it onto the canonical tables, `derive` builds the integer-keyed account dictionary,
postings and identifiers once for every later stage.
"""
