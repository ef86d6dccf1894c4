"""RFM + ABC with polars (Python, lazy API), on clientele's definitions.

Usage: python rfm_polars.py LOG OUT.parquet

Same output and definitions as rfm_duckdb.py (see its docstring): integer micro-unit sums,
purchase lines (amount >= 0) for recency and frequency, as_of = day after the latest purchase
date, scores by the exact qcut-of-ranks rule with ties broken by customer_id, ABC by customer
share 5/15/80 with ceil bounds. Prints {"inner_seconds": ...} on stdout.
"""
import json
import sys
import time

import polars as pl


def scan(path):
    if path.endswith(".parquet") or path.endswith("/"):
        return pl.scan_parquet(path)
    return pl.scan_csv(path, try_parse_dates=True)


def bins(rank, n, count=5):
    """1 + #{k : 5 (r - 1) > k (n - 1)}: pandas.qcut over ranks 1..n, in exact integers."""
    above = [(count * (rank - 1) > k * (n - 1)).cast(pl.UInt8) for k in range(1, count)]
    return pl.lit(1, pl.UInt8) + pl.sum_horizontal(above).cast(pl.UInt8)


def main():
    log, out = sys.argv[1:3]
    start = time.perf_counter()
    purchase = pl.col("micros") >= 0
    customers = (
        scan(log)
        .with_columns(
            micros=(pl.col("amount") * 1e6).round().cast(pl.Int64),
            day=pl.col("order_date").cast(pl.Date),
        )
        .group_by("customer_id")
        .agg(
            last_day=pl.col("day").filter(purchase).max(),
            frequency=pl.col("order_id").filter(purchase).n_unique(),
            micros=pl.col("micros").sum(),
        )
        .filter(pl.col("frequency") > 0)
        .sort("customer_id")  # rank "ordinal" then breaks ties by customer id
        .with_columns(
            recency_days=(pl.col("last_day").max() + pl.duration(days=1) - pl.col("last_day")).dt.total_days(),
            n=pl.len().cast(pl.Int64),
        )
        .with_columns(
            rr=pl.col("recency_days").rank("ordinal").cast(pl.Int64),
            fr=pl.col("frequency").rank("ordinal").cast(pl.Int64),
            mr=pl.col("micros").rank("ordinal").cast(pl.Int64),
            vp=pl.col("micros").rank("ordinal", descending=True).cast(pl.Int64),
        )
        .with_columns(
            r_score=pl.lit(6, pl.UInt8) - bins(pl.col("rr"), pl.col("n")),
            f_score=bins(pl.col("fr"), pl.col("n")),
            m_score=bins(pl.col("mr"), pl.col("n")),
            abc_class=pl.when(pl.col("vp") <= (pl.col("n") * 500 + 9999) // 10000)
            .then(pl.lit("A"))
            .when(pl.col("vp") <= (pl.col("n") * 2000 + 9999) // 10000)
            .then(pl.lit("B"))
            .otherwise(pl.lit("C")),
        )
        .select(
            "customer_id",
            "recency_days",
            "frequency",
            monetary=pl.col("micros") / 1e6,
            r_score="r_score",
            f_score="f_score",
            m_score="m_score",
            rfm_cell=pl.concat_str(["r_score", "f_score", "m_score"]),
            abc_class="abc_class",
        )
    )
    customers.collect().write_parquet(out)
    print(json.dumps({"inner_seconds": round(time.perf_counter() - start, 3)}))


main()
