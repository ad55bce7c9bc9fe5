#!/usr/bin/env python3
"""scikit-learn's IsolationForest on the same data and tasks as tripline's forest benchmarks
(docs/BENCHMARKS.md): ROC AUC and average precision over 5 seeds on the ODDS sets, fit time
(100 trees x 256), batch scoring of 100k annthyroid rows, one-row scoring.

    python3 scripts/bench-sklearn.py     # installs scikit-learn from PyPI when missing
"""
import os, subprocess, sys, time

try:
    import numpy as np
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score, average_precision_score
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "scikit-learn"])
    import numpy as np
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score, average_precision_score
import sklearn

ODDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../shared/data/odds")


def load(name):
    a = np.loadtxt(os.path.join(ODDS, name + ".csv"), delimiter=",", skiprows=1)
    return a[:, :-1], a[:, -1].astype(int)


print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, threads: n_jobs=1")
for name in ["annthyroid", "thyroid", "cardio"]:
    X, y = load(name)
    aucs, aps, fits = [], [], []
    for seed in range(5):
        t = time.perf_counter()
        f = IsolationForest(n_estimators=100, max_samples=256, random_state=seed).fit(X)
        fits.append((time.perf_counter() - t) * 1000)
        s = -f.score_samples(X)
        aucs.append(roc_auc_score(y, s))
        aps.append(average_precision_score(y, s))
    print(f"{name}: AUC {np.mean(aucs):.3f} ± {np.std(aucs):.3f}, AP {np.mean(aps):.3f} ± {np.std(aps):.3f}, "
          f"fit {np.median(fits):.1f} ms (median of 5)")

X, _ = load("annthyroid")
f = IsolationForest(n_estimators=100, max_samples=256, random_state=0).fit(X)
big = np.resize(X, (100_000, X.shape[1]))
best = min(_t for _t in (
    (lambda t0: (f.score_samples(big), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(3)))
print(f"score 100k rows: {best * 1000:.0f} ms = {100_000 / best / 1000:.0f}k rows/s")
row = X[:1]
times = []
for i in range(200):
    t = time.perf_counter()
    f.score_samples(X[i:i + 1])
    times.append(time.perf_counter() - t)
print(f"score one row: median {np.median(times) * 1e6:.0f} µs")
