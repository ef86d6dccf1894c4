"""Floor probe: the per-customer group-by alone, with DuckDB.

Usage: python floor_duckdb.py LOG OUT.parquet

Per customer: max(order_date), count(DISTINCT order_id), sum(amount), written to Parquet. No
purchase or return distinction, no as-of date, no scores, no ABC, float sums: the naive lower
bound of any RFM job on this log. Prints {"inner_seconds": ...} on stdout.
"""
import json
import sys
import time

import duckdb

log, out = sys.argv[1:3]
start = time.perf_counter()
src = f"read_parquet('{log}')" if log.endswith(".parquet") else f"read_csv('{log}')"
duckdb.connect().execute(
    f"COPY (SELECT customer_id, max(order_date) AS last, count(DISTINCT order_id) AS orders, "
    f"sum(amount) AS amount FROM {src} GROUP BY customer_id) TO '{out}' (FORMAT parquet)"
)
print(json.dumps({"inner_seconds": round(time.perf_counter() - start, 3)}))
