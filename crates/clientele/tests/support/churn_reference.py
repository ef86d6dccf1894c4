"""scikit-learn's and pandas' side of the churn evaluation, and the documented lifecycle rule.

Usage: python churn_reference.py predictions.parquet out.json

The Parquet file holds one row per customer with a prediction: p_alive,
expected_purchases_holdout, frequency_holdout (purchase periods in the holdout), and for the
lifecycle rule frequency, recency, T (time unit: weeks), lifecycle_stage.
Writes the AUCs (sklearn.metrics.roc_auc_score with "bought in the holdout" as the positive
class), the gains table by P(alive) decile (decile = floor(10 * h / n) + 1, h = customers with a
strictly higher P(alive): pandas rank(method="min", ascending=False) - 1), and the stages the
documented rule gives (docs/clv.md, "Lifecycle stages").
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

d = pd.read_parquet(sys.argv[1])
bought = d["frequency_holdout"] > 0
n = len(d)
out = {
    "auc": roc_auc_score(bought, d["p_alive"]),
    "auc_expected_purchases": roc_auc_score(bought, d["expected_purchases_holdout"]),
}
h = d["p_alive"].rank(method="min", ascending=False) - 1
decile = np.floor(10 * h / n).astype(int) + 1
g = pd.DataFrame({"decile": decile, "bought": bought}).groupby("decile")["bought"].agg(["size", "sum"])
out["gains"] = [[int(k), int(r["size"]), int(r["sum"])] for k, r in g.iterrows()]

x, t_x, t, p = d["frequency"], d["recency"], d["T"], d["p_alive"]
repeat = x > 0
population = float(np.median(t_x[repeat] / x[repeat]))
rhythm = np.where(repeat, t_x / x.where(repeat, 1.0), population)
overdue = (t - t_x) / rhythm
out["auc_rhythm"] = roc_auc_score(bought, -overdue)
stage = np.where(
    t * 7 <= 90,
    "new",
    np.where(
        (p < 0.3) | (overdue > 4),
        "lost",
        np.where((p < 0.7) | (overdue > 2), "lapsing", "active"),
    ),
)
out["stages_differ"] = int((stage != d["lifecycle_stage"]).sum())
out["stage_counts"] = {k: int(v) for k, v in pd.Series(stage).value_counts().items()}
json.dump(out, open(sys.argv[2], "w"))
