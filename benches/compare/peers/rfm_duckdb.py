"""RFM + ABC with DuckDB SQL, on clientele's definitions (docs/definitions.md).

Usage: python rfm_duckdb.py LOG OUT.parquet [--natural]

LOG is a Parquet or CSV transaction log with customer_id, order_id, order_date, amount (as
`clientele generate` writes). Writes one row per customer, sorted by customer_id:
customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_cell, abc_class.

Definitions (the same as `clientele segment --binning rank`, ABC by customer share 5/15/80):
- amounts are summed as integer micro-units (round(amount * 1e6)), so equal totals are equal;
- a purchase line has amount >= 0; customers without one are dropped (no recency);
- recency_days = as_of - date(last purchase), as_of = day after the latest purchase date;
- frequency = distinct order ids among purchase lines; monetary = net sum of all lines;
- scores: rank r = 1..n by value, ties by customer_id ascending; bin = 1 + #{k in 1..4 :
  5(r-1) > k(n-1)}, the exact integer form of pandas.qcut(x.rank(method="first"), 5);
  r_score = 6 - bin (most recent = 5), f_score and m_score = bin;
- ABC: position p = 1..n by monetary descending, ties by customer_id ascending;
  A if p <= ceil(5% n), B if p <= ceil(20% n), else C.

--natural swaps in the idioms an analyst would usually write instead: NTILE(5) for the scores
and a floating-point SUM(amount) for monetary (ties then break differently). It exists to
measure how far those idioms are from the definitions; it is not timed.

Prints {"inner_seconds": ...} (time after imports) on stdout.
"""
import json
import sys
import time

import duckdb


def source(path):
    if path.endswith(".parquet") or path.endswith("/"):
        return f"read_parquet('{path}')"
    return f"read_csv('{path}')"


def bins_expr(rank, n, bins=5):
    # 1 + #{k : 5 (r - 1) > k (n - 1)}: the cut points of qcut over ranks 1..n, exactly.
    terms = " + ".join(f"CAST({bins} * ({rank} - 1) > {k} * ({n} - 1) AS INTEGER)" for k in range(1, bins))
    return f"(1 + {terms})"


def query(log, natural):
    money = "amount" if natural else "CAST(round(amount * 1e6) AS BIGINT)"
    purchase = "amount >= 0" if natural else "micros >= 0"
    monetary = "micros" if natural else "micros / 1e6"
    if natural:
        r = "6 - NTILE(5) OVER (ORDER BY recency_days, customer_id)"
        f = "NTILE(5) OVER (ORDER BY frequency, customer_id)"
        m = "NTILE(5) OVER (ORDER BY micros, customer_id)"
    else:
        r = "6 - " + bins_expr("rr", "n")
        f = bins_expr("fr", "n")
        m = bins_expr("mr", "n")
    return f"""
    WITH tx AS (
        SELECT customer_id, order_id, CAST(order_date AS DATE) AS day, amount, {money} AS micros
        FROM {source(log)}
    ), agg AS (
        SELECT customer_id,
               max(day) FILTER (WHERE {purchase}) AS last_day,
               count(DISTINCT order_id) FILTER (WHERE {purchase}) AS frequency,
               sum(micros) AS micros
        FROM tx
        GROUP BY customer_id
        HAVING count(*) FILTER (WHERE {purchase}) > 0
    ), measures AS (
        SELECT customer_id, frequency, micros,
               date_diff('day', last_day, max(last_day) OVER () + 1) AS recency_days
        FROM agg
    ), ranked AS (
        SELECT *,
               count(*) OVER () AS n,
               row_number() OVER (ORDER BY recency_days, customer_id) AS rr,
               row_number() OVER (ORDER BY frequency, customer_id) AS fr,
               row_number() OVER (ORDER BY micros, customer_id) AS mr,
               row_number() OVER (ORDER BY micros DESC, customer_id) AS vp
        FROM measures
    ), scored AS (
        SELECT customer_id, recency_days, frequency, {monetary} AS monetary,
               {r} AS r_score, {f} AS f_score, {m} AS m_score,
               CASE WHEN vp <= (n * 500 + 9999) // 10000 THEN 'A'
                    WHEN vp <= (n * 2000 + 9999) // 10000 THEN 'B'
                    ELSE 'C' END AS abc_class
        FROM ranked
    )
    SELECT customer_id, recency_days, frequency, monetary,
           CAST(r_score AS UTINYINT) AS r_score, CAST(f_score AS UTINYINT) AS f_score,
           CAST(m_score AS UTINYINT) AS m_score,
           CAST(r_score AS VARCHAR) || CAST(f_score AS VARCHAR) || CAST(m_score AS VARCHAR) AS rfm_cell,
           abc_class
    FROM scored
    ORDER BY customer_id
    """


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    natural = "--natural" in sys.argv[1:]
    log, out = args
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"COPY ({query(log, natural)}) TO '{out}' (FORMAT parquet)")
    print(json.dumps({"inner_seconds": round(time.perf_counter() - start, 3)}))


main()
