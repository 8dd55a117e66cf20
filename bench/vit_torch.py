#!/usr/bin/python3
"""Times PyTorch float32 on torchvision's vit_b_16 (random weights, seed 0)
at 224×224 on the CPU: forward, and gradient × input (one backward pass, the
cost of LXT's efficient AttnLRP), batch 1 and 8; prints median seconds per
call as JSON. Compare with

    go test ./models/torchvision -run '^$' -bench ViTB16 -benchtime 3x

run right before or after it on an otherwise idle machine."""
import json
import os
import statistics
import time

import torch
import torchvision

torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)
model = torchvision.models.vit_b_16(weights=None).eval()
for p in model.parameters():
    p.requires_grad = False
out = {}
for n in (1, 8):
    x = torch.sin(torch.arange(n * 3 * 224 * 224, dtype=torch.float32)).reshape(n, 3, 224, 224)
    for mode in ("forward", "gradxinput"):
        times = []
        for rep in range(4):
            t0 = time.perf_counter()
            if mode == "forward":
                with torch.no_grad():
                    model(x)
            else:
                xx = x.clone().requires_grad_(True)
                y = model(xx)
                y[torch.arange(n), y.argmax(1)].sum().backward()
                (xx * xx.grad).sum()
            if rep > 0:  # the first call warms up
                times.append(time.perf_counter() - t0)
        out[f"{mode}/batch={n}"] = statistics.median(times)
print(json.dumps(out))
