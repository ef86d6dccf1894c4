"""scikit-learn's k-means on a feature matrix written by the clientele tests.

Usage: python kmeans_reference.py matrix.csv K N_INIT MAX_ITER TOL SEED

matrix.csv: one row per customer, the scaled features (no header). Fits
sklearn.cluster.KMeans(n_clusters=K, init="k-means++", n_init=N_INIT, max_iter=MAX_ITER,
tol=TOL, algorithm="lloyd", random_state=SEED) and prints JSON with the best-of-N_INIT
inertia (sum of squared distances) and the cluster sizes, largest first.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.cluster import KMeans

path, k, n_init, max_iter, tol, seed = sys.argv[1:7]
x = np.loadtxt(path, delimiter=",", ndmin=2)
model = KMeans(
    n_clusters=int(k),
    init="k-means++",
    n_init=int(n_init),
    max_iter=int(max_iter),
    tol=float(tol),
    algorithm="lloyd",
    random_state=int(seed),
).fit(x)
sizes = sorted(np.bincount(model.labels_, minlength=int(k)).tolist(), reverse=True)
print(json.dumps({"inertia": float(model.inertia_), "sizes": sizes, "sklearn": sklearn.__version__}))
