"""Online Retail in a notebook, as a script: segments, their shares, the report, lifetime value
checked on a holdout window. Each block is a notebook cell; in Jupyter, a `report` left as a
cell's last line shows the whole report inline.

    python examples/python/online_retail.py [ONLINE_RETAIL_CSV] [REPORT_DIR]

The data: UCI Online Retail (datasets/README.md says where to get it; CI reads it from
$CLIENTELE_DATASETS/online_retail/online_retail.csv.gz).
"""

import os
import sys
import tempfile

import polars as pl

import clientele

datasets = os.environ.get("CLIENTELE_DATASETS", "datasets")
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(datasets, "online_retail", "online_retail.csv.gz")
out_dir = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="online-retail-report-")

# %% Segment: one row per customer; returns (negative quantities) left out; as of the day after
# the last invoice.
segments = clientele.segment(path, as_of="2011-12-10", returns="exclude")
rows = segments.rows
print(f"{rows.input_rows:,} rows = {rows.used_rows:,} used + {rows.excluded_rows:,} excluded "
      f"+ {rows.rejected_rows:,} rejected; {segments.height:,} customers")
for t in segments.thresholds:
    print(f"{t.measure}: cut points {t.cut_points}")

# %% Segment shares: customers and revenue per segment (a polars frame; .to_pandas() for pandas).
shares = (
    segments.group_by("segment")
    .agg(customers=pl.len(), revenue=pl.col("monetary").sum())
    .with_columns(
        customer_share=pl.col("customers") / pl.col("customers").sum(),
        revenue_share=pl.col("revenue") / pl.col("revenue").sum(),
    )
    .sort("revenue", descending=True)
)
print(shares)

# %% The report: its HTML page draws the segment shares (and ABC, RFM grid, cohorts). In Jupyter
# `report` alone shows it; here it is written as `clientele report --out-dir` writes it.
report = clientele.report(path, as_of="2011-12-10", returns="exclude")
written = report.save(out_dir)
print("report:", ", ".join(p.name for p in written), "in", out_dir)

# %% Lifetime value: fit on invoices up to 2011-09-09, predict the three months after, compare.
clv = clientele.clv(path, returns="exclude", calibration_end="2011-09-09", holdout_end="2011-12-09")
model = clv.clv
print(f"{model.model}: {model.params}; customer equity {model.customer_equity:,.0f}")
holdout = model.holdout
print(f"holdout: {holdout.actual_total:,.0f} purchases, {holdout.predicted_total:,.0f} predicted "
      f"(mean absolute error {holdout.mean_absolute_error:.2f} per customer)")
top = clv.sort("clv", descending=True).head(5)
print(top.select("customer_id", "p_alive", "expected_purchases", "clv"))
