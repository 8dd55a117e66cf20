#!/usr/bin/python3
"""Generate metrics.json, the golden data of eval/metrics_test.go.

An independent NumPy/torch re-implementation, in float64, of the formulas of
the metrics of package eval (see their doc comments), on the model, inputs
and relevance of gen_golden.py (cnn.onnx, input.npy, relevance.npy; targets
8, 8, 4). Patches are 4×4 (8×8 patches per 32×32 image). Random draws
(subsets of patches) are made here with a seeded NumPy generator and stored
in the JSON, so that the Go test feeds the same subsets to the same
formulas. Where Quantus (0.6, github.com/understandable-machine-intelligence
-lab/Quantus, not committed) computes the same quantity, its value is
stored too (section "quantus"), from the same model, inputs, relevance
(replicated over the channels, see below) and perturbation.

Run by hand (deterministic; CPU only):
    /usr/bin/python3 eval/testdata/gen_metrics.py [QUANTUS_DIR]
QUANTUS_DIR (default /tmp/quantus) holds an extracted Quantus source tree;
without it the "quantus" section is left out.
"""

import json
import os
import sys

import numpy as np
import scipy.stats
import skimage
import skimage.metrics
import torch
from skimage.segmentation import slic

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_golden as gg  # noqa: E402

torch.set_num_threads(1)
P = 4
LUMA = gg.LUMA


def model64():
    return gg.make_model().double().eval()


MODEL = None


def logits(x):
    """Target-independent logits of a batch (numpy float64)."""
    with torch.no_grad():
        return MODEL(torch.from_numpy(np.asarray(x, dtype=np.float64))).numpy()


def score(imgs, target):
    return logits(np.stack(imgs))[:, target]


def lum(rel):
    r = rel.astype(np.float64)
    return LUMA[0] * r[0] + LUMA[1] * r[1] + LUMA[2] * r[2]


def patch_mask(patches, m, size):
    mask = np.zeros((size, size), dtype=bool)
    for j in patches:
        py, px = divmod(int(j), m)
        mask[py * P:(py + 1) * P, px * P:(px + 1) * P] = True
    return mask


def fill(x0, mode):
    """Fill values (C×H×W) of the deterministic modes."""
    if mode == "zero":
        return np.zeros_like(x0, dtype=np.float64)
    if mode == "mean":
        return np.broadcast_to(x0.astype(np.float64).mean(axis=(1, 2))[:, None, None], x0.shape).copy()
    raise ValueError(mode)


def perturb_fresh(x0, mask, mode):
    """x0 with the pixels of mask perturbed (not cumulative)."""
    if mode == "inpaint":
        img, _ = gg.inpaint_step(torch.from_numpy(x0.astype(np.float32)), mask)
        return img.numpy().astype(np.float64)
    out = x0.astype(np.float64).copy()
    f = fill(x0, mode)
    out[:, mask] = f[:, mask]
    return out


def cumulative(x0, step_masks, mode):
    """Perturbed inputs after each step; masks are added to all before."""
    img = x0.astype(np.float32 if mode == "inpaint" else np.float64).copy()
    acc = np.zeros(x0.shape[1:], dtype=bool)
    out = []
    for sm in step_masks:
        acc |= sm
        if mode == "inpaint":
            t, _ = gg.inpaint_step(torch.from_numpy(img), acc)
            img = t.numpy()
        else:
            f = fill(x0, mode)
            img[:, sm] = f[:, sm]
        out.append(img.astype(np.float64).copy())
    return out


def auc(y):
    y = np.asarray(y, dtype=np.float64)
    return float(np.sum((y[:-1] + y[1:]) / 2))


def pearson(a, b):
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


def gini(v):
    v = np.sort(np.abs(v.astype(np.float64).ravel()))
    n = v.size
    k = np.arange(1, n + 1)
    return float(np.sum((2 * k - n - 1) * v) / (n * v.sum()))


def entropy(v):
    a = np.abs(v.astype(np.float64).ravel())
    p = a / a.sum()
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def main():
    global MODEL
    MODEL = model64()
    x = np.load(os.path.join(HERE, "input.npy"))
    r = np.load(os.path.join(HERE, "relevance.npy"))
    targets = json.load(open(os.path.join(HERE, "golden.json")))["targets"]
    n, c, size, _ = x.shape
    m = size // P
    npatch = m * m
    rng = np.random.default_rng(20201028)
    out = {"description": "see gen_metrics.py", "patch": P, "targets": targets,
           "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "torch": torch.__version__,
                        "skimage": skimage.__version__}}
    y0 = [float(score([x[i]], targets[i])[0]) for i in range(n)]
    out["y0"] = y0
    psums = [lum(r[i]).reshape(m, P, m, P).sum(axis=(1, 3)).reshape(-1) for i in range(n)]

    # Faithfulness correlation / Sensitivity-N: subsets are data.
    def subset_corr(subsets, mode):
        vals = []
        for i in range(n):
            imgs = [perturb_fresh(x[i], patch_mask(s, m, size), mode) for s in subsets[i]]
            ys = score(imgs, targets[i])
            vals.append(pearson([psums[i][s].sum() for s in subsets[i]], y0[i] - ys))
        return vals

    fc_sub = [[rng.permutation(npatch)[:6].tolist() for _ in range(12)] for _ in range(n)]
    sn_sizes = [1, 8, 32]
    sn_sub = [[[rng.permutation(npatch)[:k].tolist() for _ in range(6)] for _ in range(n)] for k in sn_sizes]
    out["faithfulness_correlation"] = {"subsets": fc_sub, "values": {md: subset_corr(fc_sub, md) for md in ("zero", "mean", "inpaint")}}
    sn = {}
    for md in ("zero", "mean"):
        per = [subset_corr(s, md) for s in sn_sub]
        sn[md] = [float(np.mean([per[k][i] for k in range(len(sn_sizes))])) for i in range(n)]
    out["sensitivity_n"] = {"sizes": sn_sizes, "subsets": sn_sub, "values": sn}

    # Selectivity: one patch at a time, MoRF (stable descending), cumulative.
    sel = {}
    for md in ("zero", "mean", "inpaint"):
        vals = []
        for i in range(n):
            order = np.argsort(-psums[i], kind="stable")
            imgs = cumulative(x[i], [patch_mask([j], m, size) for j in order], md)
            vals.append(auc(score(imgs, targets[i])))
        sel[md] = vals
    out["selectivity"] = sel

    # Monotonicity (Nguyen & Martínez) and Infidelity: each patch alone.
    mono, infd = {}, {}
    for md in ("zero", "mean", "inpaint"):
        mv, iv = [], []
        for i in range(n):
            imgs = [perturb_fresh(x[i], patch_mask([j], m, size), md) for j in range(npatch)]
            ys = score(imgs, targets[i])
            inv = 1 / y0[i] ** 2 if abs(y0[i]) >= 1e-5 else 1.0
            v = (ys - y0[i]) ** 2 * inv
            mv.append(float(scipy.stats.spearmanr(psums[i], v)[0]))
            dots = np.array([np.sum(r[i].astype(np.float64) * (x[i].astype(np.float64) - im)) for im in imgs])
            iv.append(float(np.mean((dots - (y0[i] - ys)) ** 2)))
        mono[md], infd[md] = mv, iv
    out["monotonicity"] = mono
    out["infidelity"] = infd

    # IROF with patch segments and with skimage's SLIC segments (as Quantus
    # computes them: slic on the H×W×C float64 input, start_label=0).
    def irof(i, labels, md):
        L = lum(r[i]).ravel()
        lab = labels.ravel()
        ks = np.unique(lab)
        means = np.array([L[lab == k].mean() for k in ks])
        order = ks[np.argsort(-means, kind="stable")]
        imgs = cumulative(x[i], [(labels == k) for k in order], md)
        ys = score(imgs, targets[i]) / y0[i]
        return float(len(ys) - auc(ys))

    patch_labels = np.arange(npatch).reshape(m, m).repeat(P, 0).repeat(P, 1)
    slic_labels = [slic(np.moveaxis(x[i], 0, -1).astype("double"), start_label=0) for i in range(n)]
    out["irof"] = {
        "slic_segments": [s.ravel().tolist() for s in slic_labels],
        "patches": {md: [irof(i, patch_labels, md) for i in range(n)] for md in ("zero", "mean")},
        "slic": {md: [irof(i, slic_labels[i], md) for i in range(n)] for md in ("zero", "inpaint")},
    }

    out["sparseness"] = [gini(r[i]) for i in range(n)]
    out["complexity"] = [entropy(r[i]) for i in range(n)]
    # SSIM of luminance maps (image i vs image (i+1) mod n), skimage.
    ss = []
    for i in range(n):
        a, b = lum(r[i]), lum(r[(i + 1) % n])
        dr = float(max(a.max(), b.max()) - min(a.min(), b.min()))
        ss.append(float(skimage.metrics.structural_similarity(a, b, data_range=dr)))
    out["ssim_next"] = ss
    a = [1.0, 3.0, 2.0, 2.0, 5.0, 4.0]
    b = [2.0, 1.0, 4.0, 3.0, 3.0, 6.0]
    out["spearman_ties"] = {"a": a, "b": b, "value": float(scipy.stats.spearmanr(a, b)[0])}

    qdir = sys.argv[1] if len(sys.argv) > 1 else "/tmp/quantus"
    if os.path.isdir(os.path.join(qdir, "quantus")):
        out["quantus"] = run_quantus(qdir, x, r, targets, slic_labels)
    with open(os.path.join(HERE, "metrics.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


def run_quantus(qdir, x, r, targets, slic_labels):
    """Quantus' values where its definition is ours; relevance replicated
    over the channels (its luminance), so that Quantus' channel sums order
    patches and segments as our luminance does."""
    sys.path.insert(0, qdir)
    import quantus

    rep = np.repeat(np.stack([lum(ri) for ri in r])[:, None], 3, axis=1)
    y = np.array(targets)
    model = MODEL.float()
    x32 = x.astype(np.float32)
    q = {"relevance": "luminance of relevance.npy replicated over the 3 channels"}
    common = dict(disable_warnings=True, display_progressbar=False, normalise=False, abs=False)
    sel = quantus.Selectivity(patch_size=P, perturb_baseline=0.0, **common)
    curves = sel(model=model, x_batch=x32, y_batch=y, a_batch=rep.astype(np.float32), device="cpu", softmax=False)
    q["selectivity_zero_replicated"] = [float(np.trapz(np.asarray(cv))) for cv in curves]
    irof = quantus.IROF(segmentation_method="slic", perturb_baseline=0.0, return_aggregate=False, **common)
    # Quantus 0.6's IROF passes a B×1×H×W mask to baseline_replacement_by_mask,
    # which asserts the B×C×H×W shape of the input: broadcast it (local fix).
    pf = irof.perturb_func
    irof.perturb_func = lambda arr, mask: pf(arr=arr, mask=np.broadcast_to(mask, arr.shape))
    # batch_size=1: in a batch, Quantus pads the segment lists to the
    # longest with zero scores, so an image with fewer segments than the
    # batch's most gains a trapezoid (p_K + 0)/2 (its value depends on
    # its batch-mates).
    q["irof_slic_zero_replicated"] = [float(v) for v in irof(model=model, x_batch=x32, y_batch=y, a_batch=rep.astype(np.float32), device="cpu", softmax=False, batch_size=1)]
    q["irof_slic_zero_replicated_batch3"] = [float(v) for v in irof(model=model, x_batch=x32, y_batch=y, a_batch=rep.astype(np.float32), device="cpu", softmax=False)]
    sp = quantus.Sparseness(disable_warnings=True, display_progressbar=False, normalise=False, abs=True)
    q["sparseness"] = [float(v) for v in sp(model=model, x_batch=x32, y_batch=y, a_batch=r.copy(), device="cpu", softmax=False)]
    cx = quantus.Complexity(disable_warnings=True, display_progressbar=False, normalise=False, abs=True)
    q["complexity"] = [float(v) for v in cx(model=model, x_batch=x32, y_batch=y, a_batch=r.copy(), device="cpu", softmax=False)]
    MODEL.double()
    return q


if __name__ == "__main__":
    main()
