#!/usr/bin/python3
"""Write region.json: which part of a w×h image torchvision's
Resize(256), CenterCrop(224) keeps, in the image's pixel coordinates.

    /usr/bin/python3 data/testdata/gen_region.py

torchvision computes the resized size (Resize on a PIL image) and the crop
offsets (CenterCrop on a tensor whose values are the column and row
indices); the region is the crop window scaled back by w/resized_w and
h/resized_h. Package data's SourceRegion must agree (region_test.go).
"""
import json
import os

import torch
from PIL import Image
from torchvision import transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = [(500, 375), (301, 200), (360, 240), (100, 300), (256, 256), (1000, 257)]

out = []
for w, h in SIZES:
    rw, rh = T.Resize(256)(Image.new("RGB", (w, h))).size
    cols = torch.arange(rw, dtype=torch.float64).repeat(rh, 1)[None]
    rows = torch.arange(rh, dtype=torch.float64)[:, None].repeat(1, rw)[None]
    left = int(T.CenterCrop(224)(cols)[0, 0, 0])
    top = int(T.CenterCrop(224)(rows)[0, 0, 0])
    out.append({"w": w, "h": h, "resized": [rw, rh], "crop": [left, top],
                "region": [left * w / rw, top * h / rh, (left + 224) * w / rw, (top + 224) * h / rh]})
with open(os.path.join(HERE, "region.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
