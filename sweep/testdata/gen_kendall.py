#!/usr/bin/python3
"""Write kendall.json, the golden data of sweep/metrics_test.go: Kendall's
tau-b (scipy.stats.kendalltau, variant "b", which accounts for ties) of
fixed vectors, with and without ties.

Run by hand: /usr/bin/python3 sweep/testdata/gen_kendall.py
"""
import json
import os

import numpy as np
import scipy
import scipy.stats

rng = np.random.default_rng(16)
cases = [
    ([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]),
    ([1, 2, 2, 3, 3, 3], [1, 3, 2, 2, 3, 1]),
    ([0.5, 0.5, 1.0, 2.0], [3.0, 1.0, 1.0, 2.0]),
]
for _ in range(3):
    a = rng.integers(0, 6, 25).astype(float)
    b = a + rng.normal(0, 2, 25).round()
    cases.append((a.tolist(), b.tolist()))
out = {"scipy": scipy.__version__, "cases": []}
for a, b in cases:
    out["cases"].append({"a": [float(v) for v in a], "b": [float(v) for v in b],
                         "tau_b": float(scipy.stats.kendalltau(a, b, variant="b")[0])})
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "kendall.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
