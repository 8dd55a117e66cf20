#!/usr/bin/python3
"""Generate narrow torchvision Vision Transformers as ONNX files with float64 goldens.

Usage (from the repository root):

    /usr/bin/python3 onnx/testdata/gen_vit.py     # writes onnx/testdata/vit/

Needs Debian's python3-torch (1.13), python3-torchvision (0.14), python3-onnx.

Each model NAME is torchvision.models.VisionTransformer with a small width
(see VARIANTS), its parameters drawn from seeded normal distributions (the
torchvision initialisation zeroes the head and the class token, which would
leave those paths untested), exported by torch.onnx.export with a free batch
dimension at the given opset:

  * opset 13 writes LayerNorm decomposed (ReduceMean, Sub, Pow, Sqrt, Div,
    Mul, Add) and GELU as Div, Erf, Add, Mul, Mul, which the importer fuses;
  * opset 17 writes LayerNormalization.

Beside NAME.onnx it writes NAME.logits.npy (a float64 copy of the model on
the float32 input, stored as float32), NAME.gradout.npy (seeded N(0,1) with
the logits' shape) and NAME.inputgrad.npy = d(sum(logits*gradout))/d(input)
from the float64 copy.  Deterministic: fixed seeds, one thread.
Tolerance used by onnx/vit_test.go: max |go - golden| <= 1e-4 * max |golden|.
"""

import copy
import json
import os
import warnings

import numpy as np
import torch
import torchvision

torch.set_num_threads(1)
warnings.filterwarnings("ignore")

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vit")

# name, opset, VisionTransformer keyword arguments
VARIANTS = [
    ("vit_p8_op13", 13, dict(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32)),
    ("vit_p8_op14", 14, dict(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32)),
    ("vit_p8_op17", 17, dict(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32)),
    ("vit_p16_h4_op17", 17, dict(image_size=32, patch_size=16, num_layers=1, num_heads=4, hidden_dim=24, mlp_dim=20)),
]


def build(kwargs, seed):
    torch.manual_seed(seed)
    m = torchvision.models.VisionTransformer(num_classes=10, **kwargs).eval()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if p.dim() >= 2 and "embedding" not in name and "token" not in name:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / fan_in ** 0.5)
            elif name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
    return m


def main():
    os.makedirs(OUT, exist_ok=True)
    x = torch.from_numpy(np.random.default_rng(7).standard_normal((2, 3, 32, 32)).astype(np.float32))
    np.save(os.path.join(OUT, "input_32.npy"), x.numpy())
    entries = []
    for i, (name, opset, kwargs) in enumerate(VARIANTS):
        m = build(kwargs, 100 + i)
        torch.onnx.export(m, x, os.path.join(OUT, name + ".onnx"), opset_version=opset,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        m64 = copy.deepcopy(m).double()
        x64 = x.double().requires_grad_(True)
        logits = m64(x64)
        gout = torch.from_numpy(np.random.default_rng(1000 + i).standard_normal(tuple(logits.shape)))
        (logits * gout).sum().backward()
        np.save(os.path.join(OUT, name + ".logits.npy"), logits.detach().numpy().astype(np.float32))
        np.save(os.path.join(OUT, name + ".gradout.npy"), gout.numpy().astype(np.float32))
        np.save(os.path.join(OUT, name + ".inputgrad.npy"), x64.grad.numpy().astype(np.float32))
        entries.append(dict(name=name, onnx=name + ".onnx", opset=opset, input="input_32.npy",
                            logits=name + ".logits.npy", gradout=name + ".gradout.npy",
                            inputgrad=name + ".inputgrad.npy", config=kwargs))
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"models": entries}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
