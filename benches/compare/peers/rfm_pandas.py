"""RFM + ABC with pandas (groupby + qcut), on clientele's definitions.

Usage: python rfm_pandas.py LOG OUT.parquet [--natural]

Same output and definitions as rfm_duckdb.py (see its docstring). The scores are the textbook
pandas idiom, pd.qcut(x.rank(method="first"), 5), on customers sorted by id; amounts are summed
as integer micro-units so that equal totals tie.

--natural uses the idioms an analyst would usually write instead: monetary = float
sum(amount) (ties then break differently), and ABC by cumulative customer share
`(p / n) <= 0.05` (a floor, where clientele's bound is a ceil). Not timed; it measures how far
those idioms are from the definitions. Prints {"inner_seconds": ...} on stdout.
"""
import json
import sys
import time

import numpy as np
import pandas as pd


def read(path):
    if path.endswith(".parquet") or path.endswith("/"):
        return pd.read_parquet(path)
    return pd.read_csv(path, parse_dates=["order_date"])


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    natural = "--natural" in sys.argv[1:]
    log, out = args
    start = time.perf_counter()
    tx = read(log)
    if natural:
        tx["micros"] = tx["amount"]
    else:
        tx["micros"] = np.round(tx["amount"].to_numpy() * 1e6).astype(np.int64)
    tx["day"] = tx["order_date"].dt.normalize()
    buys = tx[tx["micros"] >= 0]
    c = buys.groupby("customer_id").agg(last_day=("day", "max"), frequency=("order_id", "nunique"))
    c = c.join(tx.groupby("customer_id")["micros"].sum()).sort_index().reset_index()
    as_of = c["last_day"].max() + pd.Timedelta(days=1)
    c["recency_days"] = (as_of - c["last_day"]).dt.days.astype(np.int64)
    c["monetary"] = c["micros"] if natural else c["micros"] / 1e6
    c["r_score"] = pd.qcut(c["recency_days"].rank(method="first"), 5, labels=[5, 4, 3, 2, 1]).astype(np.uint8)
    c["f_score"] = pd.qcut(c["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(np.uint8)
    c["m_score"] = pd.qcut(c["micros"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(np.uint8)
    c["rfm_cell"] = c["r_score"].astype(str) + c["f_score"].astype(str) + c["m_score"].astype(str)
    n = len(c)
    order = c.sort_values(["micros", "customer_id"], ascending=[False, True], kind="stable").index
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(1, n + 1)
    if natural:
        share = position / n
        c["abc_class"] = np.where(share <= 0.05, "A", np.where(share <= 0.20, "B", "C"))
    else:
        a, b = -(-n * 500 // 10000), -(-n * 2000 // 10000)
        c["abc_class"] = np.where(position <= a, "A", np.where(position <= b, "B", "C"))
    cols = ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
            "rfm_cell", "abc_class"]
    c[cols].to_parquet(out, index=False)
    print(json.dumps({"inner_seconds": round(time.perf_counter() - start, 3)}))


main()
