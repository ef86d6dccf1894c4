"""Decode probe: polars reads the log's four columns into memory, nothing else.

Usage: python decode_polars.py LOG OUT.parquet

No group-by, no output (OUT is not written): the time any tool needs at least to get the values
out of the file with polars' Parquet (or CSV) decoder. Prints {"inner_seconds": ..., "rows": ...}
on stdout.
"""
import json
import sys
import time

import polars as pl

log = sys.argv[1]
start = time.perf_counter()
columns = ["customer_id", "order_id", "order_date", "amount"]
if log.endswith(".parquet"):
    frame = pl.read_parquet(log, columns=columns)
else:
    frame = pl.read_csv(log, columns=columns, try_parse_dates=True)
print(json.dumps({"inner_seconds": round(time.perf_counter() - start, 3), "rows": frame.height}))
