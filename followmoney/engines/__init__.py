"""Execution engines. DuckDB is the embedded default; Spark comes with the `spark` extra."""
