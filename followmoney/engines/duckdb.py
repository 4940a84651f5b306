"""The DuckDB engine: runs SQL indicators in the workspace and streams postings through the kernels.

Kernel indicators share one ordered read of postings: a single `ORDER BY account_key, ts_s,
txn_idx` query is fetched as Arrow record batches, regrouped so no account is split, and each
bucket goes through every kernel. That is one scan and one sort for the whole kernel catalogue,
with memory bounded by the bucket size (DuckDB spills the sort when postings exceed memory).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from followmoney.errors import EngineError
from followmoney.indicator import Indicator
from followmoney.kernels.adapter import BASE_COLUMNS, RAW_HIT_SCHEMA, run_kernels, split_at_accounts
from followmoney.workspace import Workspace

log = logging.getLogger(__name__)

Plan = list[tuple[type[Indicator], dict[str, Any]]]


class DuckDBEngine:
    """Run indicators against a DuckDB workspace.

    Args:
        ws: the workspace holding `postings`, `accounts` and `txns`.
        bucket_rows: postings fetched per Arrow batch (default: env FOLLOWMONEY_BUCKET_ROWS or 2^21);
            buckets hold whole accounts, so one bucket may exceed it by one account's rows.
    """

    name = "duckdb"

    def __init__(self, ws: Workspace, bucket_rows: int | None = None):
        self.ws = ws
        # FOLLOWMONEY_BUCKET_ROWS trades memory for fewer hand-offs; tests shrink it to split accounts.
        self.bucket_rows = bucket_rows or int(os.environ.get("FOLLOWMONEY_BUCKET_ROWS", 1 << 21))

    def run_sql_indicator(self, cls: type[Indicator], params: dict[str, Any]) -> pa.Table:
        """Run one SQL indicator; columns beyond the raw hit contract become the `details` JSON."""
        assert cls.sql is not None
        try:
            self.ws.sql(f"CREATE OR REPLACE TEMP TABLE __fm_sqlhits AS {cls.sql}", params)
            cols = self.ws.columns("__fm_sqlhits")
            extra = [c for c in cols if c not in RAW_HIT_SCHEMA.names]
            details = ("CAST(to_json(struct_pack(" + ", ".join(f'"{c}" := "{c}"' for c in extra) + ")) AS VARCHAR)"
                       if extra else "'{}'")
            table = self.ws.arrow(
                f"""SELECT CAST(account_key AS INTEGER) AS account_key, CAST(window_start AS TIMESTAMP) AS window_start,
                       CAST(window_end AS TIMESTAMP) AS window_end, CAST(value AS DOUBLE) AS value,
                       CAST(evidence AS BIGINT[]) AS evidence, {details} AS details
                FROM __fm_sqlhits ORDER BY account_key, window_start"""
            )
        except EngineError:
            raise
        except Exception as err:  # noqa: BLE001 - wrapped with the indicator and SQL for the user
            raise EngineError(f"DuckDB failed: {err}", indicator=cls.id, sql=cls.sql) from err
        finally:
            self.ws.sql("DROP TABLE IF EXISTS __fm_sqlhits")
        return table

    def run_kernel_indicators(self, plan: Plan, progress: Callable[[int], None] | None = None) -> dict[str, pa.Table]:
        """Stream postings once through every kernel indicator of `plan`."""
        if not plan:
            return {}
        columns = list(BASE_COLUMNS)
        for cls, _ in plan:
            columns += [c for c in cls.kernel_inputs if c not in columns]
        query = f"SELECT {', '.join(columns)} FROM postings ORDER BY account_key, ts_s, txn_idx"
        parts: dict[str, list[pa.Table]] = {cls.id: [] for cls, _ in plan}
        # A relation's reader streams; a cursor keeps the main connection free while it is read.
        cursor = self.ws.con.cursor()
        try:
            with cursor.sql(query).to_arrow_reader(batch_size=self.bucket_rows) as reader:
                for bucket in split_at_accounts(reader):
                    try:
                        for ind_id, hits in run_kernels(bucket, plan).items():
                            parts[ind_id].append(hits)
                    except Exception as err:  # noqa: BLE001
                        raise EngineError(f"kernel failed: {err}", indicator=",".join(parts)) from err
                    if progress:
                        progress(bucket.num_rows)
        finally:
            cursor.close()
        return {k: pa.concat_tables(v) if v else RAW_HIT_SCHEMA.empty_table() for k, v in parts.items()}

    def detect(self, plan: Plan, progress: Callable[[int], None] | None = None,
               timings: dict[str, float] | None = None) -> int:
        """Run every indicator of `plan` and write the decoded `hits` table; returns its row count."""
        import time

        raw: list[pa.Table] = []
        kernel_plan = [(c, p) for c, p in plan if c.kernel is not None]
        t0 = time.perf_counter()
        kernel_hits = self.run_kernel_indicators(kernel_plan, progress)
        if timings is not None and kernel_plan:
            timings["kernels (one shared pass)"] = time.perf_counter() - t0
        for cls, params in plan:
            t0 = time.perf_counter()
            if cls.kernel is not None:
                table = kernel_hits[cls.id].append_column("details", pa.array(["{}"] * kernel_hits[cls.id].num_rows,
                                                                             pa.string()))
            else:
                table = self.run_sql_indicator(cls, params)
                if timings is not None:
                    timings[cls.id] = time.perf_counter() - t0
            value = table.column("value").to_numpy()
            score = np.round(np.asarray(cls.severity(value, params), dtype=np.float64), 6)
            n = table.num_rows
            table = table.append_column("indicator_id", pa.array([cls.id] * n, pa.string()))
            table = table.append_column("score", pa.array(score, pa.float64()))
            table = table.append_column("params", pa.array([json.dumps(params, sort_keys=True)] * n, pa.string()))
            raw.append(table)
            log.info("indicator %s: %d hits", cls.id, n)
        return write_hits(self.ws, raw)


def write_hits(ws: Workspace, raw: list[pa.Table]) -> int:
    """Decode raw hits (integer keys) into the `hits` contract table, deterministically ordered."""
    ws.sql("""CREATE OR REPLACE TABLE hits (indicator_id VARCHAR, account_id VARCHAR, window_start TIMESTAMP,
              window_end TIMESTAMP, value DOUBLE, score DOUBLE, evidence_txn_ids VARCHAR[], params VARCHAR,
              details VARCHAR)""")
    columns = ["indicator_id", "account_key", "window_start", "window_end", "value", "score", "evidence", "params",
               "details"]
    tables = [t.select(columns) for t in raw if t.num_rows]
    if not tables:
        return 0
    combined = pa.concat_tables(tables)
    # Number hits in Python: a window-free key that every join below can rely on.
    combined = combined.append_column("hit_no", pa.array(np.arange(combined.num_rows, dtype=np.int64)))
    ws.register("__fm_rawhits", combined)
    try:
        ws.sql(
            """INSERT INTO hits
            WITH numbered AS (SELECT * FROM __fm_rawhits),
            ev AS (
                SELECT n.hit_no, list(t.txn_id ORDER BY e.pos) AS evidence_txn_ids
                FROM (SELECT hit_no, unnest(evidence) AS txn_idx, generate_subscripts(evidence, 1) AS pos
                      FROM numbered) AS e
                JOIN numbered AS n ON n.hit_no = e.hit_no
                JOIN txns AS t ON t.txn_idx = e.txn_idx
                GROUP BY n.hit_no
            )
            SELECT n.indicator_id, a.account_id, n.window_start, n.window_end, n.value, n.score,
                   coalesce(ev.evidence_txn_ids, []), n.params, n.details
            FROM numbered AS n JOIN accounts AS a ON a.account_key = n.account_key
            LEFT JOIN ev ON ev.hit_no = n.hit_no
            ORDER BY n.indicator_id, a.account_id, n.window_start, n.window_end"""
        )
    finally:
        ws.con.unregister("__fm_rawhits")
    return ws.count("hits")
