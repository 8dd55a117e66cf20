#!/usr/bin/python3
"""Times torchvision forward passes (or Zennit's EpsilonGammaBox, or
gradient × input: one backward pass, the cost of LXT's efficient AttnLRP)
on the CPU for bench/compare.sh; prints median/min/max seconds per call as
JSON.

    torch_bench.py MODEL BATCH REPS MODE      (MODE: forward | export DIR | zennit | gradxinput)

Zennit is imported from $ZENNIT_SRC when MODE is zennit (it is not packaged
in Debian; point ZENNIT_SRC at a checkout's src directory)."""
import json
import os
import sys
import time

import torch
import torchvision

torch.set_num_threads(os.cpu_count())
name, batch, reps, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.manual_seed(0)
model = getattr(torchvision.models, name)(weights=None).eval()
x = (torch.arange(batch * 3 * 224 * 224) % 251).float().reshape(batch, 3, 224, 224) / 125 - 1

if mode == "export":
    path = os.path.join(sys.argv[5], name + ".onnx")
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits"], opset_version=13,
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    print(json.dumps({"exported": path}))
    sys.exit(0)

if mode == "zennit":
    sys.path.insert(0, os.environ["ZENNIT_SRC"])
    from zennit.attribution import Gradient
    from zennit.composites import EpsilonGammaBox
    from zennit.torchvision import ResNetCanonizer, SequentialMergeBatchNorm
    canon = [ResNetCanonizer()] if name.startswith("resnet") else [SequentialMergeBatchNorm()]
    comp = EpsilonGammaBox(low=-2.1179, high=2.64, canonizers=canon)

    def call():
        with Gradient(model=model, composite=comp) as attributor:
            out, rel = attributor(x.clone().requires_grad_(True), lambda o: torch.eye(1000)[o.argmax(1)] * o)
        return rel
elif mode == "gradxinput":
    for p in model.parameters():
        p.requires_grad = False

    def call():
        xx = x.clone().requires_grad_(True)
        y = model(xx)
        y[torch.arange(batch), y.argmax(1)].sum().backward()
        return xx * xx.grad
else:
    def call():
        with torch.no_grad():
            return model(x)

call()
times = []
for _ in range(reps):
    start = time.perf_counter()
    call()
    times.append(time.perf_counter() - start)
times.sort()
print(json.dumps({"median": times[len(times) // 2], "min": times[0], "max": times[-1]}))
