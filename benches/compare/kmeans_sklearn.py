"""scikit-learn's KMeans on the matrix written by examples/cluster_bench.rs.

Usage: python kmeans_sklearn.py MATRIX.f64 N_FEATURES K N_INIT MAX_ITER TOL

Loading the matrix is outside the timed section, as clientele's table loading is. Prints one
JSON line like cluster_bench. scikit-learn's tol is relative (multiplied by the mean feature
variance, 1 for z-scored features); clientele's is absolute on the centroid shift: see
docs/benchmarks.md.
"""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans

path, d, k, n_init, max_iter, tol = sys.argv[1:7]
x = np.fromfile(path, dtype="<f8").reshape(-1, int(d))
start = time.perf_counter()
model = KMeans(
    n_clusters=int(k), init="k-means++", n_init=int(n_init), max_iter=int(max_iter), tol=float(tol),
    algorithm="lloyd", random_state=0,
).fit(x)
seconds = time.perf_counter() - start
sizes = sorted(np.bincount(model.labels_, minlength=int(k)).tolist(), reverse=True)
print(json.dumps({"tool": "scikit-learn " + sklearn.__version__, "customers": len(x),
                  "fit_seconds": round(seconds, 3), "inertia": float(model.inertia_), "sizes": sizes,
                  "iterations_of_best_run": int(model.n_iter_)}))
