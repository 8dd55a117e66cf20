"""Writes bounds.json: the box-rule bounds and mean/std of the registered
preprocessings, computed in plain Python (float32 rounding by struct), for
data.Preprocess.Bounds and MeanStd. Run: /usr/bin/python3 gen_bounds.py"""
import json
import struct


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


# torchvision's Normalize constants of the registered preprocessings.
PRE = {
    "imagenet": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225], 3),
    "mnist": ([0.1307], [0.3081], 1),
    "none": ([], [], 3),
}
out = {}
for name, (mean, std, c) in PRE.items():
    m = [mean[i] if len(mean) > 1 else (mean[0] if mean else 0.0) for i in range(c)]
    s = [std[i] if len(std) > 1 else (std[0] if std else 1.0) for i in range(c)]
    # Normalize in float32: x = (v - mean) / std with mean, std rounded to float32.
    low = [f32(f32(0.0 - f32(a)) / f32(b)) for a, b in zip(m, s)]
    high = [f32(f32(1.0 - f32(a)) / f32(b)) for a, b in zip(m, s)]
    out[name] = {"channels": c, "mean": m, "std": s, "low": low, "high": high}
with open("bounds.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
