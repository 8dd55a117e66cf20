#!/usr/bin/python3
"""Write slic.json, the golden data of slic/slic_test.go: scikit-image's
slic labels (defaults, start_label=0) of a few images, as Quantus' IROF
calls it (slic(image H×W×C float64, start_label=0)), and rgb2lab of a few
colours.

Run by hand: /usr/bin/python3 slic/testdata/gen_slic.py (deterministic).
"""
import json
import os

import numpy as np
import skimage
from skimage import color, data, transform
from skimage.segmentation import slic

HERE = os.path.dirname(os.path.abspath(__file__))
cases = []
# The normalised 3×32×32 inputs of eval's golden data.
x = np.load(os.path.join(HERE, "..", "..", "eval", "testdata", "input.npy"))
for i in range(x.shape[0]):
    cases.append(("eval input %d" % i, x[i].astype(np.float64)))
# A non-square colour image in [0, 1] and a grey one, other sizes.
img = transform.resize(data.astronaut(), (40, 56), order=1, anti_aliasing=True)
cases.append(("astronaut 40x56", np.moveaxis(img, -1, 0)))
cam = transform.resize(data.camera(), (45, 30), order=1, anti_aliasing=True)
cases.append(("camera 45x30 grey", cam[None]))
rng = np.random.default_rng(7)
cases.append(("noise 2x24x24", rng.normal(size=(2, 24, 24))))
out = {"skimage": skimage.__version__, "cases": []}
for name, im in cases:
    c, h, w = im.shape
    arg = im[0] if c == 1 else np.moveaxis(im, 0, -1)
    lab = slic(arg, start_label=0, channel_axis=None if c == 1 else -1)
    # The eval inputs are read from input.npy by the test.
    pixels = None if name.startswith("eval input") else [round(v, 17) for v in im.ravel().tolist()]
    out["cases"].append({"name": name, "c": c, "h": h, "w": w, "image": pixels,
                         "labels": lab.ravel().tolist(), "segments": int(lab.max() + 1)})
rgb = rng.uniform(-0.2, 1.2, size=(6, 3))
rgb[0] = [0.02, 0.03, 0.04]
out["lab"] = {"rgb": rgb.tolist(), "lab": color.rgb2lab(rgb[None])[0].tolist()}
with open(os.path.join(HERE, "slic.json"), "w") as f:
    json.dump(out, f)
    f.write("\n")
