"""Floor probe: the per-customer group-by alone, with polars (Python, lazy).

Usage: python floor_polars.py LOG OUT.parquet

Per customer: max(order_date), n_unique(order_id), sum(amount), written to Parquet. No purchase
or return distinction, no as-of date, no scores, no ABC, float sums: the naive lower bound of
any RFM job on this log. Prints {"inner_seconds": ...} on stdout.
"""
import json
import sys
import time

import polars as pl

log, out = sys.argv[1:3]
start = time.perf_counter()
lf = pl.scan_parquet(log) if log.endswith(".parquet") else pl.scan_csv(log, try_parse_dates=True)
lf.group_by("customer_id").agg(
    last=pl.col("order_date").max(),
    orders=pl.col("order_id").n_unique(),
    amount=pl.col("amount").sum(),
).collect().write_parquet(out)
print(json.dumps({"inner_seconds": round(time.perf_counter() - start, 3)}))
