#!/usr/bin/python3
"""Generate the golden data of eval/golden_test.go.

An independent reference implementation (numpy / torch / OpenCV) of pixel
flipping / region perturbation as defined by the thesis "In-Depth
Hyperparameter Selection For Layer-Wise Relevance Propagation" (TU Berlin,
2022) and its code (github.com/rodrigobdz/lrp, package pf):

  relevance (N×3×H×W) -> torchvision Grayscale luminance
  (0.2989 R + 0.587 G + 0.114 B) -> sum over non-overlapping p×p patches
  -> order: MoRF = descending, LRF = ascending (stable: ties keep row-major
  patch order; the data is checked to be tie-free anyway)
  -> schedule with m = W/p: step k = 1..m flips the next 2k-1 patches,
  step m+1 sets every element to (min+max)/2 of the image.

Perturbation modes:
  inpaint  the previous step's image -> inverse Normalize (torchvision,
           mean=-m/s, std=1/s, float32) -> x255 -> .int() (truncation) ->
           uint8, RGB->BGR -> cv2.inpaint(img, cumulative mask, 3,
           cv2.INPAINT_TELEA) -> BGR->RGB -> /255 -> Normalize.
  zero     the elements flipped in the step are set to 0 (normalised space).
  mean     the elements flipped in the step are set to the per-channel mean
           of the original (normalised) image.

Scores are the target logit at steps 0..S; AUC is the trapezoid with
x = 0, 1, 2, ... of the batch-mean curve (and of every image's curve); AOPC
is the mean over k = 0..S of (y0 - yk) of the mean curve.

Run by hand from anywhere (deterministic; CPU only):
    /usr/bin/python3 eval/testdata/gen_golden.py
It writes, next to itself: cnn.onnx, input.npy, relevance.npy, golden.json
and inpaint_morf_p4_u8.npy.
"""

import json
import os

import cv2
import numpy as np
import onnx
import skimage
import torch
import torchvision
from skimage import data, transform, util
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
LUMA = (0.2989, 0.587, 0.114)
SEED = 20220906
SIZE = 32
CONFIGS = [(4, 9), (2, 5)]  # (patch, steps)
ORDERS = ["morf", "lrf"]
MODES = ["inpaint", "zero", "mean"]


# --- model -------------------------------------------------------------------

class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),                               # 16×16
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
            nn.AvgPool2d(4),                               # 4×4
        )
        self.classifier = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def make_model():
    torch.manual_seed(SEED)
    model = SmallCNN().eval()
    with torch.no_grad():
        # Larger weights than the default init give logits of a few units.
        for mod in model.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                mod.weight.mul_(2.0)
    return model


# --- normalisation, in float32 exactly as torchvision's Normalize -------------

def _chan(values):
    return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1)


def normalize(x):
    """(x - mean) / std, float32."""
    return (x - _chan(MEAN)) / _chan(STD)


def denormalize(x):
    """torchvision Normalize(mean=-m/s, std=1/s): (x + m/s) / (1/s), float32."""
    return (x - _chan([-m / s for m, s in zip(MEAN, STD)])) / _chan([1 / s for s in STD])


# --- inputs and relevance ----------------------------------------------------

def load_images():
    imgs = []
    for name in ("astronaut", "chelsea", "coffee"):
        img = getattr(data, name)()
        h, w = img.shape[:2]
        s = min(h, w)
        img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        img = transform.resize(img, (SIZE, SIZE), order=1, anti_aliasing=True)
        img = util.img_as_ubyte(img)                        # HWC uint8
        imgs.append(torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))))
    x = torch.stack(imgs).to(torch.float32) / 255.0         # like ToTensor
    x = normalize(x)
    back = denormalize(x)
    assert back.min() >= 0 and back.max() <= 1, "de-normalised input leaves [0, 1]"
    return x.contiguous()


def gradient_x_input(model, x):
    x = x.clone().requires_grad_(True)
    logits = model(x)
    targets = logits.argmax(dim=1)
    logits.gather(1, targets[:, None]).sum().backward()
    return (x.grad * x).detach(), targets.tolist()


# --- ordering and schedule ---------------------------------------------------

def patch_sums(rel, p):
    """Luminance of a C×H×W relevance summed over p×p patches (row-major), float64."""
    r = rel.astype(np.float64)
    lum = LUMA[0] * r[0] + LUMA[1] * r[1] + LUMA[2] * r[2]
    m = lum.shape[1] // p
    return lum.reshape(m, p, m, p).sum(axis=(1, 3)).reshape(-1)


def patch_sums_torchvision(rel, p):
    """The same through torchvision's Grayscale in float32 (to check the order)."""
    lum = torchvision.transforms.Grayscale()(torch.from_numpy(rel)[None])[0, 0].numpy()
    m = lum.shape[1] // p
    return lum.reshape(m, p, m, p).sum(axis=(1, 3)).reshape(-1)


def patch_order(sums, order):
    if order == "morf":
        return np.argsort(-sums, kind="stable")
    return np.argsort(sums, kind="stable")


def check_tie_free(sums, sums32, p):
    s = np.sort(sums)
    gap = np.min(np.diff(s)) / np.max(np.abs(s))
    assert gap > 1e-7, f"patch sums nearly tied (relative gap {gap:g}, patch {p})"
    for order in ORDERS:
        assert np.array_equal(patch_order(sums, order), patch_order(sums32.astype(np.float64), order))
    return gap


def flips_per_step(m):
    return [0] + [2 * k - 1 for k in range(1, m + 1)] + [m * m]


# --- perturbation ------------------------------------------------------------

def inpaint_step(img, acc_mask):
    """One thesis inpainting step on a normalised 3×H×W float32 tensor."""
    pix = denormalize(img)
    assert pix.min() >= 0 and pix.max() <= 1, "inpainting input leaves [0, 1]"
    pix = (pix * 255.0).int()                               # truncation
    rgb = pix.numpy().transpose(1, 2, 0).astype(np.uint8)   # HWC
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    out = cv2.inpaint(bgr, acc_mask.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    rgb = np.ascontiguousarray(out[:, :, ::-1].transpose(2, 0, 1))  # CHW uint8
    return normalize(torch.from_numpy(rgb).to(torch.float32) / 255.0), rgb


def perturb(x0, order, mode, p, steps):
    """Perturbed images of steps 0..steps of one image, and the uint8 inpainting outputs."""
    _, h, w = x0.shape
    m = w // p
    flips = flips_per_step(m)
    lo, hi = float(x0.min()), float(x0.max())
    chan_mean = x0.to(torch.float64).mean(dim=(1, 2)).to(torch.float32)
    img = x0.clone()
    acc = np.zeros((h, w), dtype=bool)
    out, u8 = [img.clone()], []
    done = 0
    for k in range(1, steps + 1):
        if k == m + 1:
            img = torch.full_like(img, (lo + hi) / 2)
        else:
            step = np.zeros((h, w), dtype=bool)
            for patch in order[done:done + flips[k]]:
                py, px = divmod(int(patch), m)
                step[py * p:(py + 1) * p, px * p:(px + 1) * p] = True
            done += flips[k]
            acc |= step
            sel = torch.from_numpy(step)
            if mode == "inpaint":
                img, rgb = inpaint_step(img, acc)
                u8.append(rgb)
            elif mode == "zero":
                img[:, sel] = 0
            elif mode == "mean":
                img[:, sel] = chan_mean[:, None].expand(3, int(sel.sum()))
            else:
                raise ValueError(mode)
        out.append(img.clone())
    return torch.stack(out), u8


# --- metrics -----------------------------------------------------------------

def auc(y):
    y = np.asarray(y, dtype=np.float64)
    return float(np.sum((y[:-1] + y[1:]) / 2))


def aopc(y):
    y = np.asarray(y, dtype=np.float64)
    return float(np.mean(y[0] - y))


# --- main --------------------------------------------------------------------

def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    model = make_model()
    x = load_images()
    rel, targets = gradient_x_input(model, x)
    n = x.shape[0]

    np.save(os.path.join(HERE, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(HERE, "relevance.npy"), rel.numpy().astype(np.float32))
    path = os.path.join(HERE, "cnn.onnx")
    torch.onnx.export(model, x[:1], path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    onnx.checker.check_model(onnx.load(path))

    relnp = rel.numpy()
    gaps = {}
    for p, _ in CONFIGS:
        gaps[p] = min(check_tie_free(patch_sums(relnp[i], p), patch_sums_torchvision(relnp[i], p), p)
                      for i in range(n))

    cases = []
    for mode in MODES:
        for order in ORDERS:
            for p, steps in CONFIGS:
                m = SIZE // p
                scores = []
                for i in range(n):
                    o = patch_order(patch_sums(relnp[i], p), order)
                    imgs, u8 = perturb(x[i], o, mode, p, steps)
                    with torch.no_grad():
                        logits = model(imgs)
                    scores.append(logits[:, targets[i]].to(torch.float64).tolist())
                    if mode == "inpaint" and order == "morf" and p == 4:
                        if i == 0:
                            u8_all = np.zeros((len(u8), n, 3, SIZE, SIZE), dtype=np.uint8)
                        u8_all[:, i] = np.stack(u8)
                mean = np.mean(np.asarray(scores), axis=0)
                cases.append({
                    "mode": mode, "order": order, "patch": p, "steps": steps,
                    "flips": flips_per_step(m)[:steps + 1],
                    "scores": scores,
                    "mean": mean.tolist(),
                    "auc": auc(mean),
                    "aucs": [auc(s) for s in scores],
                    "aopc": aopc(mean),
                })
    np.save(os.path.join(HERE, "inpaint_morf_p4_u8.npy"), u8_all)

    golden = {
        "description": "pixel-flipping reference scores, see README.md and gen_golden.py",
        "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__,
                     "opencv": cv2.__version__, "numpy": np.__version__,
                     "skimage": skimage.__version__, "onnx": onnx.__version__},
        "images": ["astronaut", "chelsea", "coffee"],
        "mean": MEAN, "std": STD,
        "targets": targets,
        "min_relative_patch_sum_gap": {str(k): v for k, v in gaps.items()},
        "inpaint_u8": {"file": "inpaint_morf_p4_u8.npy", "mode": "inpaint", "order": "morf",
                       "patch": 4, "layout": "steps 1..m × N × C(RGB) × H × W"},
        "cases": cases,
    }
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print("targets", targets, "patch-sum gaps", gaps)
    for c in cases:
        print(f"{c['mode']:8s} {c['order']:5s} p={c['patch']} S={c['steps']} auc={c['auc']:.5f} "
              f"mean={np.round(c['mean'], 3).tolist()}")


if __name__ == "__main__":
    main()
