#!/usr/bin/python3
"""Trained residual networks with Zennit float64 reference relevances.

Usage (from the repository root):

    nice -n 10 /usr/bin/python3 testdata/gen_trained.py --zennit-src ZENNIT/src

ZENNIT/src must contain the `zennit` package: Zennit 0.5.1 (the last release
that runs on Debian's torch 1.13; `git archive 0.5.1` of
github.com/chr5tphr/zennit), or 1.0.0. Nothing of Zennit is copied here: it is
imported. Zennit 0.5.1's BatchNorm merge is patched at run time to 1.0.0's exact
merge (eps = 0 after merging; notes.md section 5), as gen_golden.py does.

Why trained weights: on random weights deep nets are ill-conditioned (Zennit's
own float32 result is 10-26% of max |R| away from its float64 result on a
random-weight torchvision ResNet18), so a golden on random weights can only
carry a loose tolerance, which hides real errors (issue #13 reported
1e-3..1e-2 of max |R| on a residual net). The images are chosen so that
Zennit's float32 result is within 1e-5 of its float64 result (recorded per
golden and image as `zennit_float32_vs_float64_per_sample`), so the Go tests
hold every image to 1e-4. With Zennit < 1.0 it also records how far the
unpatched merge (the merged BatchNorm keeps eps) is from the exact one
(`zennit_unpatched_merge_vs_exact_per_sample`).

Needs Debian's python3-torch (1.13), python3-torchvision, python3-onnx and
python3-numpy, and Fashion-MNIST from Debian's package dataset-fashion-mnist
(/usr/share/datasets/fashion-mnist, or --fashion-dir).

It writes testdata/trained/: per model NAME (resnet-basic, resnet-bottleneck)
NAME.onnx (BatchNormalization nodes kept), NAME.fused.onnx (torch's default
export, BatchNorm folded), NAME.input.npy, NAME.logits.npy, NAME.low.npy, NAME.high.npy and
NAME.CONFIG.relevance.npy, and testdata/trained/manifest.json (same schema as
testdata/manifest.json; paths relative to testdata/). Deterministic: fixed
seeds, one thread.
"""

import argparse
import copy
import gzip
import json
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock, Bottleneck

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "trained")
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST, as models/train/train.py
TOL = 1e-4
STAB = 1e-6

# Test images used as inputs: see the selection in main.
N_FIRST, N_SENSITIVE = 4, 2
MAX_FLOAT32_ERR = 1e-5


class SmallResNet(nn.Module):
    """Stem conv3x3 + BN + ReLU, two torchvision blocks (the second with stride 2
    and a conv1x1 stride-2 + BN shortcut), global average pooling, linear head.
    Module names follow torchvision (conv1, bn1, layer1.0, layer2.0, avgpool, fc)."""

    def __init__(self, block, width=8):
        super().__init__()
        e = block.expansion
        self.conv1 = nn.Conv2d(1, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        planes1 = width // e
        down1 = None
        if planes1 * e != width:
            down1 = nn.Sequential(nn.Conv2d(width, planes1 * e, 1, bias=False), nn.BatchNorm2d(planes1 * e))
        self.layer1 = nn.Sequential(block(width, planes1, downsample=down1))
        c1 = planes1 * e
        planes2 = 2 * width // e
        down2 = nn.Sequential(nn.Conv2d(c1, planes2 * e, 1, stride=2, bias=False), nn.BatchNorm2d(planes2 * e))
        self.layer2 = nn.Sequential(block(c1, planes2, stride=2, downsample=down2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(planes2 * e, 10)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    ndim = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def normalize(u8):
    """(v/255 - mean)/std in float32, as ToTensor + Normalize and the Go data package."""
    x = u8.astype(np.float32) / np.float32(255)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return torch.from_numpy(np.ascontiguousarray(x[:, None, :, :]))


def train(model, x, y, epochs, seed):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    n = len(x)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        print(f"  epoch {ep}: last loss {loss.item():.3f}", flush=True)
    model.eval()
    return model


class Zennit:
    def __init__(self, src):
        sys.path.insert(0, src)
        import zennit
        import zennit.attribution as za
        import zennit.canonizers as zcan
        import zennit.composites as zc
        import zennit.core as zcore
        import zennit.layer as zl
        import zennit.rules as zr
        import zennit.torchvision as ztv
        import zennit.types as zt
        self.za, self.zc, self.zcore, self.zl, self.zr, self.zt, self.ztv = za, zc, zcore, zl, zr, zt, ztv
        self.version = getattr(zennit, "__version__", None)  # 0.5.1 has none: see --zennit-version
        merge = zcan.MergeBatchNorm.merge_batch_norm

        def merge_exact(modules, batch_norm):
            merge(modules, batch_norm)
            object.__setattr__(batch_norm, "eps", 0.0)

        self.zcan, self.merge_orig, self.merge_exact = zcan, merge, merge_exact
        # Does this Zennit's own merge leave eps in place (< 1.0)?
        conv, bn = nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1).eval()
        merge([conv], bn)
        self.inexact_merge = bn.eps != 0
        self.exact_merge(True)

    def exact_merge(self, on):
        """Selects 1.0.0's exact BatchNorm merge (on) or this Zennit's own (off)."""
        self.zcan.MergeBatchNorm.merge_batch_norm = staticmethod(self.merge_exact if on else self.merge_orig)

    def composite(self, name, low, high, stabilizer=STAB):
        zc, can = self.zc, [self.ztv.ResNetCanonizer()]
        if name == "epsilon-gamma-box":
            return zc.EpsilonGammaBox(low=low, high=high, canonizers=can, epsilon=stabilizer, stabilizer=stabilizer)
        return {"epsilon-plus": zc.EpsilonPlus, "epsilon-plus-flat": zc.EpsilonPlusFlat,
                "epsilon-alpha2-beta1": zc.EpsilonAlpha2Beta1,
                "epsilon-alpha2-beta1-flat": zc.EpsilonAlpha2Beta1Flat}[name](
                    canonizers=can, epsilon=stabilizer, stabilizer=stabilizer)

    def one_rule(self, rule, zero_bias):
        """Composite with one rule on every conv and linear layer, Zennit's base
        map elsewhere (ReLU, BatchNorm: Pass; residual Sum, avgpool: Norm)."""
        zr, zt, zl = self.zr, self.zt, self.zl
        zp = "bias" if zero_bias else None
        make = {"zero": lambda: zr.Epsilon(epsilon=STAB, zero_params=zp),
                "epsilon-0.25": lambda: zr.Epsilon(epsilon=0.25, zero_params=zp),
                "alphabeta-2-1": lambda: zr.AlphaBeta(alpha=2, beta=1, zero_params=zp),
                "flat": lambda: zr.Flat(),
                "wsquare": lambda: zr.WSquare(zero_params=zp),
                "zplus": lambda: zr.ZPlus(zero_params=zp),
                "gamma-0.25": lambda: zr.Gamma(gamma=0.25, zero_params=zp)}[rule]

        def module_map(ctx, name, module):
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                return make()
            if isinstance(module, (zl.Sum, zt.AvgPool)):
                return zr.Norm()
            if isinstance(module, (zt.Activation, zt.BatchNorm)):
                return zr.Pass()
            return None

        return self.zcore.Composite(module_map=module_map, canonizers=[self.ztv.ResNetCanonizer()])

    def attribute(self, model, composite, x, targets):
        model = copy.deepcopy(model)
        with torch.no_grad():
            ncls = model(x).shape[1]
        onehot = F.one_hot(targets, ncls).to(x.dtype)
        with self.za.Gradient(model=model, composite=composite) as attributor:
            _, R = attributor(x.clone(), lambda out: onehot * out)
        return R.detach()


def rel_err(a, b):
    """max over samples of max|a-b| / max|b|."""
    a, b = a.double().flatten(1), b.double().flatten(1)
    return float(((a - b).abs().max(1).values / b.abs().max(1).values).max())


COMPOSITES = ["epsilon-gamma-box", "epsilon-plus", "epsilon-plus-flat", "epsilon-alpha2-beta1",
              "epsilon-alpha2-beta1-flat"]
# One rule on every conv/linear layer (avgpool and the residual sum: Norm = zero). These
# replace the loose random-weight tolerances of testdata/manifest.json's resnet goldens.
ONE_RULE = [("zero", False, "conv:zero;linear:zero;avgpool:zero"),
            ("epsilon-0.25", False, "conv:epsilon(0.25);linear:epsilon(0.25);avgpool:zero"),
            ("zplus", False, "conv:zplus;linear:zplus;avgpool:zero"),
            ("gamma-0.25", False, "conv:gamma(0.25);linear:gamma(0.25);avgpool:zero"),
            ("alphabeta-2-1", False, "conv:alphabeta(2,1);linear:alphabeta(2,1);avgpool:zero")]
# Not here: flat, wsquare, wsquare_nobias and zero_nobias. Even on these trained nets Zennit's
# own float32 result is 1e-4..2e-2 of max |R| from its float64 result with them (measured with
# this script: they send relevance through ReLUs whose input is negative, into the residual
# sum's a/stab(a+b) split near a+b = 0), so no float32 implementation can be held to 1e-4 there.


def configs(lo64, hi64, low, high, z=None):
    """(float64 composite, float32 composite, float64 composite with stabilizer 1e-5 or None)
    factories for every golden configuration."""
    z = z or ZENNIT[0]
    out = []
    for name in COMPOSITES:
        out.append((lambda n=name: z.composite(n, lo64, hi64), lambda n=name: z.composite(n, low, high),
                    lambda n=name: z.composite(n, lo64, hi64, stabilizer=1e-5)))
    for config, zb, _ in ONE_RULE:
        out.append((lambda c=config, b=zb: z.one_rule(c, b), lambda c=config, b=zb: z.one_rule(c, b), None))
    return out


ZENNIT = []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zennit-src", required=True, help="directory containing the zennit package")
    ap.add_argument("--zennit-version", default="0.5.1", help="recorded in the manifest if the package has no __version__")
    ap.add_argument("--fashion-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--train-size", type=int, default=20000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--float32-dir", help="also write Zennit's float32 relevances there (for diagnosis)")
    args = ap.parse_args()
    z = Zennit(args.zennit_src)
    z.version = z.version or args.zennit_version
    ZENNIT.append(z)

    def p(name):
        for cand in (name, name + ".gz"):
            if os.path.exists(os.path.join(args.fashion_dir, cand)):
                return os.path.join(args.fashion_dir, cand)
        raise FileNotFoundError(os.path.join(args.fashion_dir, name))
    xtr = normalize(read_idx(p("train-images-idx3-ubyte"))[:args.train_size])
    ytr = torch.from_numpy(read_idx(p("train-labels-idx1-ubyte"))[:args.train_size].astype(np.int64))
    xte_u8 = read_idx(p("t10k-images-idx3-ubyte"))
    yte = torch.from_numpy(read_idx(p("t10k-labels-idx1-ubyte")).astype(np.int64))
    xte = normalize(xte_u8)

    os.makedirs(OUT, exist_ok=True)
    low = torch.full((1, 1, 28, 28), (0 - MEAN) / STD, dtype=torch.float32)
    high = torch.full((1, 1, 28, 28), (1 - MEAN) / STD, dtype=torch.float32)
    manifest = {
        "generator": "testdata/gen_trained.py",
        "reference": f"Zennit {z.version or '(version unknown)'} (github.com/chr5tphr/zennit), run in float64 "
                     "with ResNetCanonizer (BatchNorm merge patched to 1.0.0's exact merge)",
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__},
        "paths": "relative to testdata/",
        "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist), normalized (v/255 - 0.2860)/0.3530",
        "why_trained": "random-weight deep nets are ill-conditioned in float32; on these trained nets Zennit's "
                       "float32 result is within zennit_float32_vs_float64 of its float64 result",
        "tolerance": {"criterion": "for every sample n: max|R_go[n] - R_ref[n]| <= tolerance_rel * max|R_ref[n]|",
                      "default": TOL},
        "output_relevance": "onehot_x_logit",
        "models": {}, "goldens": [],
    }
    for seed, (mname, block, width) in enumerate([("resnet-basic", BasicBlock, 8),
                                                  ("resnet-bottleneck", Bottleneck, 16)]):
        print(mname, flush=True)
        torch.manual_seed(100 + seed)
        model = train(SmallResNet(block, width), xtr, ytr, args.epochs, 200 + seed)
        with torch.no_grad():
            acc = float((torch.cat([model(xte[i:i + 1000]) for i in range(0, 10000, 1000)]).argmax(1) == yte)
                        .double().mean())
        print(f"  test accuracy {acc:.4f}", flush=True)
        m64 = copy.deepcopy(model).double()
        lo64, hi64 = low.double(), high.double()

        # Images: among the first 200 test images, those on which Zennit's own float32 result is
        # within MAX_FLOAT32_ERR of its float64 result for every golden configuration (elsewhere
        # float32 rounding, not the implementation, decides the difference): the first N_FIRST of
        # them, plus the N_SENSITIVE whose relevance moves most when the stabilizer goes from 1e-6
        # to 1e-5 (nearest to zero denominators, where issue #13's bug showed).
        cand = xte[:200]
        with torch.no_grad():
            tc = m64(cand.double()).argmax(1)
        f32err = torch.zeros(len(cand), dtype=torch.float64)
        sens = torch.zeros(len(cand), dtype=torch.float64)
        for comp64, comp32, comp_eps in configs(lo64, hi64, low, high):
            a = z.attribute(m64, comp64(), cand.double(), tc)
            a32 = z.attribute(model, comp32(), cand, tc)
            scale = a.flatten(1).abs().max(1).values
            f32err = torch.maximum(f32err, (a32.double() - a).flatten(1).abs().max(1).values / scale)
            if comp_eps is not None:
                b = z.attribute(m64, comp_eps(), cand.double(), tc)
                sens = torch.maximum(sens, (a - b).flatten(1).abs().max(1).values / scale)
        ok = [i for i in range(len(cand)) if f32err[i] <= MAX_FLOAT32_ERR]
        rest = sorted(ok[N_FIRST:], key=lambda i: -float(sens[i]))
        pick = ok[:N_FIRST] + rest[:N_SENSITIVE]
        print(f"  {len(ok)} of {len(cand)} images well-conditioned; picked {pick}, stabilizer sensitivity "
              f"{[float('%.1e' % sens[i]) for i in pick]}", flush=True)
        x = xte[pick].clone()
        x64 = x.double()
        with torch.no_grad():
            logits64 = m64(x64)
        targets = logits64.argmax(1)

        onnx_path = os.path.join(OUT, f"{mname}.onnx")
        torch.onnx.export(copy.deepcopy(model), x, onnx_path, opset_version=13,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
        # The same weights as torch.onnx.export writes them by default (the setting):
        # eval mode with BatchNorm folded into the convolutions (in float32, by torch).
        torch.onnx.export(copy.deepcopy(model), x, os.path.join(OUT, f"{mname}.fused.onnx"), opset_version=13,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        rel = lambda s: f"trained/{mname}.{s}"
        np.save(os.path.join(OUT, f"{mname}.input.npy"), x.numpy())
        np.save(os.path.join(OUT, f"{mname}.logits.npy"), logits64.float().numpy())
        np.save(os.path.join(OUT, f"{mname}.low.npy"), low[0].numpy())
        np.save(os.path.join(OUT, f"{mname}.high.npy"), high[0].numpy())
        manifest["models"][mname] = {
            "onnx": rel("onnx"), "onnx_fused": rel("fused.onnx"), "input": rel("input.npy"), "logits": rel("logits.npy"),
            "low": rel("low.npy"), "high": rel("high.npy"), "targets": targets.tolist(),
            "test_images": pick, "test_accuracy": round(acc, 4),
            "architecture": f"SmallResNet({block.__name__}): conv3x3(1,{width})+BN+ReLU, layer1 = {block.__name__}, "
                            f"layer2 = {block.__name__} stride 2 with conv1x1 stride-2 + BN shortcut, "
                            "AdaptiveAvgPool2d(1), Linear; exported with BatchNormalization nodes kept",
        }

        def add(config, comp64_fn, comp32, extra):
            R = z.attribute(m64, comp64_fn(), x64, targets)
            R32 = z.attribute(model, comp32, x, targets)
            path = rel(f"{config}.relevance.npy")
            np.save(os.path.join(HERE, path), R.float().numpy())
            if args.float32_dir:
                os.makedirs(args.float32_dir, exist_ok=True)
                np.save(os.path.join(args.float32_dir, f"{mname}.{config}.relevance.npy"), R32.numpy())
            e = {"model": mname, "config": config, "method": "lrp", "convention": "zennit",
                 "relevance": path, "tolerance_rel": TOL,
                 "zennit_float32_vs_float64": rel_err(R32, R),
                 "zennit_float32_vs_float64_per_sample": [rel_err(R32[i:i + 1], R[i:i + 1])
                                                          for i in range(len(R))]}
            e.update(extra)
            if z.inexact_merge:
                # Zennit < 1.0 without the patch: its merged BatchNorm keeps eps and scales by
                # 1/sqrt(1 + eps); how far that moves the float64 result (issue #13's reference).
                z.exact_merge(False)
                e["zennit_unpatched_merge_vs_exact_per_sample"] = [
                    rel_err(r[None], R[i:i + 1]) for i, r in enumerate(z.attribute(m64, comp64_fn(), x64, targets))]
                z.exact_merge(True)
            manifest["goldens"].append(e)
            print(f"  {config}: zennit float32 vs float64 per sample "
                  f"{' '.join(f'{v:.1e}' for v in e['zennit_float32_vs_float64_per_sample'])}", flush=True)
            if "zennit_unpatched_merge_vs_exact_per_sample" in e:
                print(f"  {config}: unpatched BatchNorm merge vs exact per sample "
                      f"{' '.join(f'{v:.1e}' for v in e['zennit_unpatched_merge_vs_exact_per_sample'])}",
                      flush=True)

        for name in COMPOSITES:
            add(name, lambda: z.composite(name, lo64, hi64), z.composite(name, low, high),
                {"composite": {"name": name, "params": {}, "canonizers": ["ResNetCanonizer"]}})
        for config, zb, spec in ONE_RULE:
            rule = config.replace("_nobias", "")
            add(config, lambda: z.one_rule(rule, zb), z.one_rule(rule, zb), {"rules": spec})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
