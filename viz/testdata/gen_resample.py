#!/usr/bin/python3
"""Write resample.json: relevance maps resampled by PyTorch's
F.interpolate(mode="bilinear", align_corners=False) after summing over
channels, the golden of viz.ResampleRelevance (resample_test.go).

    /usr/bin/python3 viz/testdata/gen_resample.py
"""
import json
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
g = torch.Generator().manual_seed(15)
r = torch.randn(2, 3, 4, generator=g, dtype=torch.float64)  # C×H×W
cases = []
for w, h in [(7, 5), (3, 2), (4, 3), (10, 4)]:
    out = F.interpolate(r.sum(0)[None, None], size=(h, w), mode="bilinear", align_corners=False)[0, 0]
    cases.append({"w": w, "h": h, "out": out.flatten().tolist()})
with open(os.path.join(HERE, "resample.json"), "w") as f:
    json.dump({"shape": list(r.shape), "in": r.flatten().tolist(), "cases": cases}, f, indent=1)
    f.write("\n")
