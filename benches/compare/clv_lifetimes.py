"""lifetimes' BG/NBD and Gamma-Gamma fits on a BTYD summary written by `clientele clv`.

Usage: python clv_lifetimes.py SUMMARY.parquet

Reading the file is outside the timed section. Prints one JSON line like clv_bench.
"""
import json
import sys
import time
import warnings

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

warnings.simplefilter("ignore")
d = pd.read_parquet(sys.argv[1], columns=["frequency", "recency", "T", "monetary_value"])
start = time.perf_counter()
bg = BetaGeoFitter(penalizer_coef=0.0).fit(d["frequency"], d["recency"], d["T"])
repeat = d[(d["frequency"] > 0) & (d["monetary_value"] > 0)]
gg = GammaGammaFitter(penalizer_coef=0.0).fit(repeat["frequency"], repeat["monetary_value"])
seconds = time.perf_counter() - start
print(json.dumps({
    "tool": "lifetimes",
    "customers": len(d),
    "fit_seconds": round(seconds, 3),
    "bgnbd": {k: float(v) for k, v in bg.params_.items()},
    "gamma_gamma": {("gamma" if k == "v" else k): float(v) for k, v in gg.params_.items()},
}))
