#!/usr/bin/python3
"""bfloat16 goldens for the architectures in models/ (not the op_ nets).

    /usr/bin/python3 onnx/testdata/gen_bf16_golden.py    # writes onnx/testdata/bf16/

For each model of models/manifest.json whose name does not start with
"op_", evaluates the ONNX file with gen_golden.py's numpy interpreter
(float64) where every Conv, Gemm and MatMul first rounds both operands to
float32 and then to bfloat16 (PyTorch's Tensor.to(torch.bfloat16), round
to nearest even): what nn.Graph.SetPrecision(nn.BF16) specifies, with
exact float64 sums instead of float32 ones. Bias, BatchNorm, ReLU, pooling
and everything else stay float64. Writes bf16/NAME.logits.npy (float32)
and prints how far each is from the float64 golden.
"""
import inspect
import json
import os
import sys

import numpy as np
import onnx
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import gen_golden as gg  # noqa: E402


def bf16(a):
    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    return t.to(torch.bfloat16).to(torch.float64).numpy()


def patched_np_run():
    """gen_golden.np_run with the operands of Conv, Gemm and MatMul rounded."""
    src = inspect.getsource(gg.np_run)
    for old, new in [
        ("np_conv(ins[0], ins[1],", "np_conv(bf16(ins[0]), bf16(ins[1]),"),
        ("out = a.get(\"alpha\", 1.0) * (A @ B)", "out = a.get(\"alpha\", 1.0) * (bf16(A) @ bf16(B))"),
        ("out = ins[0] @ ins[1]", "out = bf16(ins[0]) @ bf16(ins[1])"),
    ]:
        assert src.count(old) == 1, old
        src = src.replace(old, new)
    ns = dict(gg.__dict__)
    ns["bf16"] = bf16
    exec(src, ns)
    return ns["np_run"]


def main():
    run = patched_np_run()
    models = os.path.join(here, "models")
    out = os.path.join(here, "bf16")
    os.makedirs(out, exist_ok=True)
    manifest = json.load(open(os.path.join(models, "manifest.json")))
    for m in manifest["models"]:
        if m["name"].startswith("op_"):
            continue
        model = onnx.load(os.path.join(models, m["onnx"]))
        x = np.load(os.path.join(models, m["input"])).astype(np.float64)
        (y,) = run(model, {model.graph.input[0].name: x}).values()
        np.save(os.path.join(out, m["name"] + ".logits.npy"), y.astype(np.float32))
        ref = np.load(os.path.join(models, m["logits"])).astype(np.float64)
        d = np.abs(y - ref).max(axis=1) / np.abs(ref).max(axis=1)
        print("%-14s bf16 vs float64 golden: worst %.4f of max |logit| per image" % (m["name"], d.max()))


if __name__ == "__main__":
    main()
