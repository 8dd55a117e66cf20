#!/usr/bin/python3
"""Times the thesis code's pixel flipping (github.com/rodrigobdz/lrp,
pf.core.PixelFlipping) with its defaults (p = 8, 29 steps, inpainting,
MoRF) on torchvision's VGG16 (random weights, seed 0) for bench/pf_compare.sh,
one image at a time as the thesis runs it; prints seconds per image (median,
min, max over the images) as JSON.

    THESIS_SRC=/path/to/rodrigobdz-lrp thesis_pf.py INPUT.npy RELEVANCE.npy

The thesis code is not packaged; THESIS_SRC points at a checkout (its
pf/ and lrp/ packages; it needs python3-opencv, -sklearn, -matplotlib)."""
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.environ["THESIS_SRC"])
from pf.core import PixelFlipping  # noqa: E402

torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)
model = torchvision.models.vgg16(weights=None).eval()
x = torch.from_numpy(np.load(sys.argv[1]))
r = torch.from_numpy(np.load(sys.argv[2]))
times = []
for i in range(x.shape[0]):
    xi, ri = x[i:i + 1], r[i:i + 1]
    with torch.no_grad():
        target = int(model(xi).argmax(1))
    start = time.perf_counter()
    pf = PixelFlipping(perturbation_steps=29, perturbation_size=8)
    with torch.no_grad():
        pf(xi, ri, lambda inp: model(inp)[:, target])
    times.append(time.perf_counter() - start)
times.sort()
print(json.dumps({"median": times[len(times) // 2], "min": times[0], "max": times[-1], "auc": float(pf.calculate_auc_score())}))
