"""Independent pandas computation of the cohort retention matrix on UCI Online Retail.

Usage: python cohorts_reference.py online_retail.csv.gz out.csv

Policy (clientele's defaults: returns netted, as-of the day after the latest transaction):
- rows without CustomerID are dropped (clientele: rejected, missing_customer_id);
- amount = Quantity * UnitPrice; a purchase line has amount >= 0;
- a customer's cohort is the period of its first purchase line; customers without one are
  dropped;
- offset = periods from the cohort's period to the row's (negative offsets, returns before the
  first purchase, count at 0);
- active = distinct customers with a purchase line in the cell; revenue = sum of all amounts.
Periods: pandas' W (weeks ending on Sunday, so starting on Monday), M and Q.
Writes period, cohort_start, customers, offset, active, revenue for every non-empty cell.
"""
import sys

import pandas as pd

src, out = sys.argv[1], sys.argv[2]
df = pd.read_csv(src, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"})
df = df[df["CustomerID"].notna()].copy()
df["amount"] = df["Quantity"] * df["UnitPrice"]
df["day"] = pd.to_datetime(df["InvoiceDate"]).dt.normalize()
first = df[df["amount"] >= 0].groupby("CustomerID")["day"].min().rename("first")
df = df.join(first, on="CustomerID", how="inner")

frames = []
for name, freq in [("week", "W"), ("month", "M"), ("quarter", "Q")]:
    cohort = df["first"].dt.to_period(freq)
    offset = (df["day"].dt.to_period(freq) - cohort).apply(lambda d: d.n).clip(lower=0)
    cells = pd.DataFrame(
        {"cohort": cohort, "offset": offset, "customer": df["CustomerID"], "amount": df["amount"],
         "purchase": df["amount"] >= 0}
    )
    revenue = cells.groupby(["cohort", "offset"])["amount"].sum().rename("revenue")
    active = (
        cells[cells["purchase"]].groupby(["cohort", "offset"])["customer"].nunique().rename("active")
    )
    sizes = first.dt.to_period(freq).value_counts().rename("customers")
    table = pd.concat([revenue, active], axis=1).fillna({"active": 0}).reset_index()
    table = table.join(sizes, on="cohort")
    table["cohort_start"] = table["cohort"].apply(lambda p: p.start_time.strftime("%Y-%m-%d"))
    table["period"] = name
    frames.append(table[["period", "cohort_start", "customers", "offset", "active", "revenue"]])
pd.concat(frames).to_csv(out, index=False, float_format="%.6f")
