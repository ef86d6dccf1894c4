"""The BG/NBD and Gamma-Gamma log-likelihoods of given parameters on a BTYD summary, by the
published formulas (Fader, Hardie & Lee 2005) in numpy/scipy, independent of both tools.

Usage: python btyd_loglik.py SUMMARY.parquet RESULTS.jsonl
Reads every JSON line of RESULTS (clv_bench / clv_lifetimes output) and adds the two
log-likelihoods of its parameters.
"""
import json
import sys

import numpy as np
import pandas as pd
from scipy.special import gammaln

d = pd.read_parquet(sys.argv[1], columns=["frequency", "recency", "T", "monetary_value"])
x, tx, T, m = (d[c].to_numpy(float) for c in ["frequency", "recency", "T", "monetary_value"])


def bgnbd(r, alpha, a, b):
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + tx), -np.inf)
    return float((a1 + a2 + np.logaddexp(a3, a4)).sum())


def gamma_gamma(p, q, gamma):
    k = (x > 0) & (m > 0)
    xx, mm = x[k], m[k]
    ll = (gammaln(p * xx + q) - gammaln(p * xx) - gammaln(q) + q * np.log(gamma) + (p * xx - 1) * np.log(mm)
          + p * xx * np.log(xx) - (p * xx + q) * np.log(xx * mm + gamma))
    return float(ll.sum())


for line in open(sys.argv[2]):
    row = json.loads(line)
    result = row["result"]
    result["bgnbd_loglik"] = bgnbd(**result["bgnbd"])
    result["gamma_gamma_loglik"] = gamma_gamma(**result["gamma_gamma"])
    print(json.dumps(row))
