#!/usr/bin/python3
"""Per-image time of lrp's metrics against Quantus' in the same run,
interleaved (lrp, then Quantus, ROUNDS times), on the same model, inputs,
relevance and zero-baseline perturbation, each side warm (a first
untimed round). Prints one line per metric: seconds per image of each
(median over rounds), the ratio Quantus/lrp (above 1: lrp is faster), and
the forward passes per image of each side.

    QUANTUS_SRC=/tmp/quantus bench/quantus_compare.py [small|vgg16] [ROUNDS] [METRICS]

METRICS is a comma-separated subset (default: all that both compute).
On VGG16, Quantus' selectivity alone takes about 110 s per image.

small: eval/testdata/cnn.onnx (3×32×32, 3 images, patch 4; its PyTorch
twin from eval/testdata/gen_golden.py). vgg16: torchvision's VGG16 with
random weights on both sides (lrp's --random-init; timing only), 2 random
224×224 images, patch 8. QUANTUS_SRC is an extracted Quantus source tree
(not committed); Debian's python3-torch, -numpy, -scipy, -skimage, -tqdm.
Quantus' batched Pearson needs scipy >= 1.11 (pearsonr(axis=)); with
Debian's scipy 1.10 a row-wise Pearson/Spearman is passed as
similarity_func instead (the same numbers).

lrp runs `lrp evaluate --relevance R.npy --metrics M --perturb zero` and
reads each metric's seconds from results.json. PRECISION=bf16 scores the
perturbed images with lrp's bfloat16 forward pass (`--precision bf16`,
AVX-512 BF16 here; AMX where the CPU has it); Quantus stays float32.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.stats
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.environ.get("QUANTUS_SRC", "/tmp/quantus"))
sys.path.insert(0, os.path.join(ROOT, "eval", "testdata"))
import quantus  # noqa: E402

torch.set_num_threads(os.cpu_count())


def pearson_rows(a, b, batched=True, **kw):
    return np.array([scipy.stats.pearsonr(x, y)[0] for x, y in zip(a, b)])


def spearman_rows(a, b, batched=True, **kw):
    return np.array([scipy.stats.spearmanr(x, y)[0] for x, y in zip(a, b)])


class Counted(torch.nn.Module):
    """The model, counting the images it scores."""

    def __init__(self, model):
        super().__init__()
        self.model, self.images = model, 0

    def forward(self, x):
        self.images += x.shape[0]
        return self.model(x)


def setup(kind, tmp):
    if kind == "small":
        import gen_golden as gg
        model = gg.make_model().eval()
        x = np.load(os.path.join(ROOT, "eval", "testdata", "input.npy"))
        r = np.load(os.path.join(ROOT, "eval", "testdata", "relevance.npy"))
        targets = json.load(open(os.path.join(ROOT, "eval", "testdata", "golden.json")))["targets"]
        return model, x, r, np.array(targets), 4, ["--model", os.path.join(ROOT, "eval", "testdata", "cnn.onnx")]
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.vgg16().eval()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 224, 224)).astype(np.float32)
    r = rng.normal(size=x.shape).astype(np.float32)
    return model, x, r, np.array([1, 2]), 8, ["--model", "vgg16", "--random-init"]


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else "small"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    tmp = tempfile.mkdtemp(prefix="quantus-compare-")
    model, x, r, y, p, gomodel = setup(kind, tmp)
    model = Counted(model).eval()
    n, c, h, w = x.shape
    m = w // p
    feats = c * h * w
    xs, rs = os.path.join(tmp, "x.npy"), os.path.join(tmp, "r.npy")
    np.save(xs, x)
    np.save(rs, r)
    lrp = os.path.join(tmp, "lrp")
    subprocess.run(["go", "build", "-o", lrp, "./cmd/lrp"], cwd=ROOT, check=True)
    subset = max(1, m * m // 10)  # lrp's default subset, in patches
    # Quantus' pixel flipping takes c·h·w / features_in_step steps, and
    # features_in_step must divide h·w: the divisor whose steps come
    # closest to lrp's m+2 forward passes (6272 for VGG16, the issue's).
    pf_step = min((d for d in range(1, h * w + 1) if (h * w) % d == 0), key=lambda d: abs(c * h * w / d - (m + 2)))
    common = dict(disable_warnings=True, display_progressbar=False, normalise=False, abs=False)
    # name: (Quantus metric, its forward passes per image, lrp's)
    sens_sizes = sorted({min(max(1, round(f * m * m)), m * m - 1) for f in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8)})
    cases = {
        "auc": (lambda: quantus.PixelFlipping(features_in_step=pf_step, perturb_baseline=0.0, **common), m, m + 2),
        "selectivity": (lambda: quantus.Selectivity(patch_size=p, perturb_baseline=0.0, **common), m * m, m * m),
        "irof": (lambda: irof_quantus(common), None, None),
        "faithfulness-correlation": (lambda: quantus.FaithfulnessCorrelation(
            nr_runs=100, subset_size=subset * p * p * c, perturb_baseline=0.0, similarity_func=pearson_rows,
            return_aggregate=False, **common), 100, 101),
        "sensitivity-n": (lambda: quantus.SensitivityN(features_in_step=4 * p * p, perturb_baseline=0.0,
                                                        similarity_func=pearson_rows, return_aggregate=False, **common),
                          m * m, 21 * len(sens_sizes)),
        "monotonicity": (lambda: quantus.MonotonicityCorrelation(
            features_in_step=4 * p * p, nr_samples=1, perturb_baseline=0.0, similarity_func=spearman_rows, **common),
                         m * m, m * m + 1),
        "infidelity": (lambda: quantus.Infidelity(perturb_patch_sizes=[p], n_perturb_samples=1, perturb_baseline=0.0,
                                                  **common), m * m, m * m + 1),
        "sparseness": (lambda: quantus.Sparseness(disable_warnings=True, display_progressbar=False, normalise=False, abs=True), 0, 0),
        "complexity": (lambda: quantus.Complexity(disable_warnings=True, display_progressbar=False, normalise=False, abs=True), 0, 0),
    }
    names = list(cases)
    if len(sys.argv) > 3:
        names = [k for k in sys.argv[3].split(",") if k]
        unknown = [k for k in names if k not in cases]
        if unknown:
            sys.exit(f"unknown metrics {unknown}; known: {','.join(cases)}")
    go_t = {k: [] for k in names}
    q_t = {k: [] for k in names}
    q_passes = {}
    for rnd in range(rounds + 1):  # round 0 warms both sides up
        out = os.path.join(tmp, "res.json")
        subprocess.run([lrp, "evaluate", *gomodel, "--input", xs, "--relevance", rs, "--perturb", "zero", "--order", "morf",
                        "--patch", str(p), "--metrics", ",".join(names), "--out", out,
                        "--precision", os.environ.get("PRECISION", "fp32")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        res = json.load(open(out))["methods"][0]["metrics"]
        for k in names:
            # lrp's auc runs pixel flipping again; evaluate's own curves ran before it.
            if rnd > 0:
                go_t[k].append(res[k]["seconds"] / n)
        for k in names:
            metric = cases[k][0]()
            model.images = 0
            start = time.perf_counter()
            metric(model=model, x_batch=x, y_batch=y, a_batch=r.copy(), device="cpu", softmax=False, batch_size=n)
            if rnd > 0:
                q_t[k].append((time.perf_counter() - start) / n)
            q_passes[k] = model.images / n
    print(f"model {kind}: {n} images {c}x{h}x{w}, patch {p}, zero baseline, {rounds} rounds, {os.cpu_count()} CPUs, "
          f"lrp precision {os.environ.get('PRECISION', 'fp32')}")
    print(f"{'metric':26s} {'lrp s/img':>10s} {'Quantus s/img':>14s} {'ratio':>7s}  images scored per image (Quantus counted, lrp)")
    for k in names:
        g, q = float(np.median(go_t[k])), float(np.median(q_t[k]))
        fg = cases[k][2]
        passes = f"{q_passes[k]:g}, " + ("segments+1" if fg is None else str(fg))
        ratio = q / g if g > 0 else float("inf")
        print(f"{k:26s} {g:10.4f} {q:14.4f} {ratio:7.1f}  {passes}")


def irof_quantus(common):
    irof = quantus.IROF(segmentation_method="slic", perturb_baseline=0.0, return_aggregate=False, **common)
    pf = irof.perturb_func
    # Quantus 0.6 passes a B×1×H×W mask for B×C×H×W inputs: broadcast it.
    irof.perturb_func = lambda arr, mask: pf(arr=arr, mask=np.broadcast_to(mask, arr.shape))
    return irof


if __name__ == "__main__":
    main()
