#!/usr/bin/python3
"""Narrow torchvision VisionTransformers for the native ViT builder's tests.

Usage (from the repository root):

    /usr/bin/python3 models/torchvision/testdata/gen_vit.py

Writes vit_p16.pth and vit_p32.pth (state_dicts of
torchvision.models.VisionTransformer with hidden_dim 16, mlp_dim 24, 2
layers, 10 classes; patch 16 with 2 heads on 48×48 images, patch 32 with 4
heads on 64×64), their inputs vit_p16.input.npy / vit_p32.input.npy (2
seeded N(0,1) images) and vit_p*.logits.npy: the logits of a float64 copy
of the model; the leaf modules of each, and the names and shapes of the
full-width vit_b_16 and vit_b_32 state_dicts.  Parameters are seeded normals (torchvision zero-inits the
head and the class token).  vit.json lists them.  Needs Debian's
python3-torch 1.13 and python3-torchvision 0.14.
"""

import copy
import json
import os

import numpy as np
import torch
import torchvision

torch.set_num_threads(1)
OUT = os.path.dirname(os.path.abspath(__file__))
MODELS = {
    "vit_p16": dict(arch="vit_b_16", patch=16, heads=2, image=48),
    "vit_p32": dict(arch="vit_b_32", patch=32, heads=4, image=64),
}


def main():
    entries = {}
    for i, (name, c) in enumerate(MODELS.items()):
        torch.manual_seed(10 + i)
        m = torchvision.models.VisionTransformer(image_size=c["image"], patch_size=c["patch"], num_layers=2,
                                                 num_heads=c["heads"], hidden_dim=16, mlp_dim=24,
                                                 num_classes=10).eval()
        g = torch.Generator().manual_seed(20 + i)
        with torch.no_grad():
            for pname, p in m.named_parameters():
                if p.dim() >= 2 and "embedding" not in pname and "token" not in pname:
                    p.copy_(torch.randn(p.shape, generator=g) / p[0].numel() ** 0.5)
                elif "ln" in pname and pname.endswith("weight"):
                    p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
                else:
                    p.copy_(0.2 * torch.randn(p.shape, generator=g))
        torch.save(m.state_dict(), os.path.join(OUT, name + ".pth"))
        x = torch.from_numpy(np.random.default_rng(30 + i).standard_normal((2, 3, c["image"], c["image"])).astype(np.float32))
        np.save(os.path.join(OUT, name + ".input.npy"), x.numpy())
        with torch.no_grad():
            logits = copy.deepcopy(m).double()(x.double())
        np.save(os.path.join(OUT, name + ".logits.npy"), logits.numpy().astype(np.float32))
        leaves = [[n, type(mod).__name__] for n, mod in m.named_modules() if n and not list(mod.children())]
        entries[name] = dict(c, state=name + ".pth", input=name + ".input.npy", logits=name + ".logits.npy",
                             leaves=leaves)
    for arch in ("vit_b_16", "vit_b_32"):
        full = getattr(torchvision.models, arch)()
        entries[arch] = dict(full_width_state=[[k, list(v.shape)] for k, v in full.state_dict().items()])
    with open(os.path.join(OUT, "vit.json"), "w") as f:
        json.dump(entries, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
