#!/usr/bin/python3
"""Test data for package models/torchvision: narrow seeded torchvision models and their logits.

Usage (from the repository root; rewrites models/torchvision/testdata/):

    /usr/bin/python3 models/torchvision/testdata/gen.py

Needs Debian's python3-torch (1.13), python3-torchvision (0.14), python3-onnx (1.12, only to
cross-check the LRP reference ResNet) and python3-numpy; they are installed for /usr/bin/python3
only. Deterministic: fixed seeds (crc32 of strings), one thread; a rerun gives identical tensors.

For every architecture ARCH of the package (vgg11 ... vgg19_bn, resnet18 ... resnet101, alexnet)
it builds a NARROW variant with torchvision's own classes -- the same topology and module names,
fewer channels and a smaller classifier (NUM_CLASSES outputs):

  * VGG(make_layers(cfg with every width / 32, at least 4), batch_norm) with classifier
    Linear(16*7*7, 12)-ReLU-Dropout-Linear(12, 12)-ReLU-Dropout-Linear(12, NUM_CLASSES);
  * torchvision's ResNet with BasicBlock (resnet18/34) or Bottleneck (resnet50/101), its stage
    widths replaced (the ResNet constructor body with self.inplanes/planes narrowed);
  * AlexNet with its features and classifier replaced by narrow layers at the same indices;

gives it seeded, well-scaled random parameters (every conv/linear rescaled on a calibration batch
so its output has std 1, random biases, random BatchNorm affine parameters and running statistics
derived from the calibration batch; the seeds are salted until the logits are well-conditioned in
float32, see make_model) and writes

  ARCH.pth            model.state_dict() with torch.save (zip format)
  ARCH.logits.npy     logits of a float64 copy of the model on input.npy (cast to float64), as float32
  resnet18.safetensors  resnet18's state_dict again, written by hand in the safetensors format
  input.npy           the shared seeded input, 2x3x64x72 float32 ((U[0,1) - mean) / std, ImageNet)
  lrp_resnet.pth      the state_dict of ../../testdata/models/resnet.onnx, rebuilt by importing
                      ../../testdata/gen_golden.py's make_model (same seeds); checked against the
                      ONNX initializers (bit-exact) and the stored logits
  manifest.json       per architecture: files, the narrow model's leaf modules [(index, name, type)]
                      (model.modules() order filtered to leaves, as the thesis code's
                      collect_leaves), the seed salt and the float32-vs-float64 logit difference, and for the
                      FULL-WIDTH torchvision model (torchvision.models.ARCH(), 1000 classes) every
                      state_dict name with its shape.
"""

import copy
import json
import os
import sys
import zlib
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models.alexnet import AlexNet
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
from torchvision.models.vgg import VGG, cfgs, make_layers

torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
NUM_CLASSES = 7
INPUT_SHAPE = (2, 3, 64, 72)  # non-square on purpose
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)

VGG_CFG = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}
RESNET = {"resnet18": (BasicBlock, [2, 2, 2, 2], (4, 8, 16, 32)),
          "resnet34": (BasicBlock, [3, 4, 6, 3], (2, 4, 8, 16)),
          "resnet50": (Bottleneck, [3, 4, 6, 3], (3, 6, 12, 24)),
          "resnet101": (Bottleneck, [3, 4, 23, 3], (2, 4, 8, 16))}
ARCHS = ["vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
         "resnet18", "resnet34", "resnet50", "resnet101", "alexnet"]


def seed_of(text):
    """Deterministic 31-bit seed from a string (Python's hash() is salted)."""
    return zlib.crc32(text.encode()) & 0x7FFFFFFF


def imagenet_batch(shape, seed):
    """(U[0,1) - mean) / std per channel, float32."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(*shape, generator=g, dtype=torch.float64)
    mean = torch.tensor(MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float64).view(1, 3, 1, 1)
    return ((u - mean) / std).float()


# ----------------------------------------------------------------------------------------------
# Narrow architectures (torchvision's classes, module names unchanged)
# ----------------------------------------------------------------------------------------------

def narrow_vgg(arch):
    bn = arch.endswith("_bn")
    cfg = [v if v == "M" else max(4, v // 32) for v in cfgs[VGG_CFG[arch.removesuffix("_bn")]]]
    model = VGG(make_layers(cfg, batch_norm=bn), num_classes=NUM_CLASSES, init_weights=True)
    last = [v for v in cfg if v != "M"][-1]
    model.classifier = nn.Sequential(
        nn.Linear(last * 7 * 7, 12), nn.ReLU(True), nn.Dropout(),
        nn.Linear(12, 12), nn.ReLU(True), nn.Dropout(),
        nn.Linear(12, NUM_CLASSES),
    )
    return model, model.classifier[6]


class NarrowResNet(ResNet):
    """torchvision's ResNet constructor with per-stage widths; same module names and forward."""

    def __init__(self, block, layers, widths, num_classes=NUM_CLASSES):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = widths[0]
        self.dilation = 1
        self.groups = 1
        self.base_width = 64  # Bottleneck width = planes * base_width / 64 = planes
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def narrow_resnet(arch):
    block, layers, widths = RESNET[arch]
    model = NarrowResNet(block, layers, widths)
    return model, model.fc


def narrow_alexnet():
    model = AlexNet(num_classes=NUM_CLASSES)
    # torchvision's indices: features.0/3/6/8/10 conv, avgpool, classifier.1/4/6 linear
    model.features = nn.Sequential(
        nn.Conv2d(3, 8, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(8, 12, kernel_size=5, padding=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(12, 16, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(16, 12, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(12, 8, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
    )
    model.classifier = nn.Sequential(
        nn.Dropout(), nn.Linear(8 * 6 * 6, 12), nn.ReLU(inplace=True),
        nn.Dropout(), nn.Linear(12, 12), nn.ReLU(inplace=True),
        nn.Linear(12, NUM_CLASSES),
    )
    return model, model.classifier[6]


def narrow(arch):
    if arch.startswith("vgg"):
        return narrow_vgg(arch)
    if arch.startswith("resnet"):
        return narrow_resnet(arch)
    return narrow_alexnet()


# ----------------------------------------------------------------------------------------------
# Seeded, calibrated parameters
# ----------------------------------------------------------------------------------------------

def randomize(model, final, x_calib, seed, final_std=3.0):
    """Random biases N(0, 0.1^2); BatchNorm weight U(0.5, 1.5), bias N(0, 0.2^2), except the last
    BatchNorm of each ResNet block's residual branch (BasicBlock.bn2, Bottleneck.bn3): weight
    U(0.1, 0.4), bias N(0, 0.05^2), so that the branches perturb the identity path (undamped, deep
    narrow ResNets amplify rounding errors ~100x); then one forward pass over the calibration batch
    that rescales every conv/linear (weight and bias together) so its output has std 1 (final_std
    for the classifier output) and sets every BatchNorm's running statistics from its actual input:
    mean + 0.2*std*N(0,1) and max(var, 0.05*mean(var))*U(0.5, 2). Keeps activations O(1) in deep
    nets, so float32 and float64 agree closely."""
    g = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    def rand(*shape):
        return torch.rand(*shape, generator=g, dtype=torch.float64)

    residual_last = set()
    for m in model.modules():
        if isinstance(m, Bottleneck):
            residual_last.add(m.bn3)
        elif isinstance(m, BasicBlock):
            residual_last.add(m.bn2)
    hooks = []
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                m.bias.copy_(0.1 * randn(*m.bias.shape))
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(0.5 + rand(*m.weight.shape))
                m.bias.copy_(0.2 * randn(*m.bias.shape))
                if m in residual_last:
                    m.weight.copy_(0.1 + 0.3 * rand(*m.weight.shape))
                    m.bias.copy_(0.05 * randn(*m.bias.shape))
                m.num_batches_tracked.fill_(int(seed % 1000))  # any value: Build must ignore it

        def lin_hook(mod, inp, out):
            s = float(out.double().std())
            scale = (final_std if mod is final else 1.0) / s if s > 0 else 1.0
            mod.weight.mul_(scale)
            if mod.bias is not None:
                mod.bias.mul_(scale)
            return out * scale

        def bn_pre_hook(mod, inp):
            x = inp[0].double()
            mean = x.mean(dim=(0, 2, 3))
            var = x.var(dim=(0, 2, 3), unbiased=False)
            var = torch.clamp(var, min=max(0.05 * float(var.mean()), 1e-4))
            mod.running_mean.copy_(mean + 0.2 * var.sqrt() * randn(*mean.shape))
            mod.running_var.copy_(var * (0.5 + 1.5 * rand(*var.shape)))

        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                hooks.append(m.register_forward_hook(lin_hook))
            elif isinstance(m, nn.BatchNorm2d):
                hooks.append(m.register_forward_pre_hook(bn_pre_hook))
        model.eval()
        model(x_calib)
        for h in hooks:
            h.remove()
    return model


def leaves(model):
    """[(index, name, type)] of the leaf modules in model.modules() order."""
    out = []
    for name, m in model.named_modules():
        if len(list(m.children())) == 0:
            out.append([len(out), name, type(m).__name__])
    return out


# ----------------------------------------------------------------------------------------------
# Writers
# ----------------------------------------------------------------------------------------------

ST_DTYPE = {torch.float32: ("F32", np.float32), torch.int64: ("I64", np.int64)}


def save_safetensors(state, path):
    """The safetensors format by hand: u64 little-endian header length, a JSON header (padded with
    spaces to a multiple of 8), then the tensors' little-endian bytes back to back."""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(state):
        t = state[name]
        dt, npdt = ST_DTYPE[t.dtype]
        b = np.ascontiguousarray(t.detach().cpu().numpy().astype(npdt)).astype(np.dtype(npdt).newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def save_npy(name, t):
    np.save(os.path.join(HERE, name), np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32)))
    return name


@contextmanager
def no_init():
    """Skip parameter initialisation while building full-width models (only shapes are needed)."""
    saved = []
    targets = [(nn.init, n) for n in ("kaiming_normal_", "kaiming_uniform_", "normal_", "uniform_",
                                      "constant_", "zeros_", "ones_", "trunc_normal_")]
    targets += [(nn.modules.conv._ConvNd, "reset_parameters"), (nn.Linear, "reset_parameters")]
    for obj, name in targets:
        saved.append((obj, name, getattr(obj, name)))
        setattr(obj, name, lambda *a, **k: None)
    try:
        yield
    finally:
        for obj, name, f in saved:
            setattr(obj, name, f)


def full_width(arch):
    with no_init():
        model = getattr(torchvision.models, arch)(weights=None)
    shapes = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    return shapes, leaves(model)


# ----------------------------------------------------------------------------------------------
# The LRP reference ResNet (../../testdata/models/resnet.onnx)
# ----------------------------------------------------------------------------------------------

def lrp_resnet():
    import onnx
    from onnx import numpy_helper
    sys.path.insert(0, os.path.join(ROOT, "testdata"))
    import gen_golden as gg
    model, _, x32 = gg.make_model("resnet", gg.MODELS["resnet"], gg.PARAM_SALT["resnet"])
    model = model.float().eval()
    sd = model.state_dict()
    # bit-exact against the committed ONNX file's initializers (exported without constant folding)
    om = onnx.load(os.path.join(ROOT, "testdata", "models", "resnet.onnx"))
    inits = {t.name: numpy_helper.to_array(t) for t in om.graph.initializer}
    n = 0
    for k, v in sd.items():
        if k.endswith("num_batches_tracked"):
            continue
        assert k in inits, f"{k} not an initializer of resnet.onnx"
        assert np.array_equal(inits[k], v.numpy()), k
        n += 1
    ref_in = np.load(os.path.join(ROOT, "testdata", "models", "resnet.input.npy"))
    assert np.array_equal(ref_in, x32.numpy())
    with torch.no_grad():
        logits = copy.deepcopy(model).double()(x32.double())
    ref = np.load(os.path.join(ROOT, "testdata", "models", "resnet.logits.npy"))
    assert np.array_equal(ref, logits.numpy().astype(np.float32)), (ref, logits)
    torch.save(sd, os.path.join(HERE, "lrp_resnet.pth"))
    print(f"lrp_resnet: {n} tensors equal to resnet.onnx's initializers; logits reproduced exactly")
    return {"state": "lrp_resnet.pth", "arch": "resnet18-like ResNet(BasicBlock, [1, 1, 1, 1]), widths 4/8/16/32",
            "source": "testdata/gen_golden.py (repository root) make_model('resnet', ...)", "checked_tensors": n,
            "leaves": leaves(model)}


def folded_float32(model):
    """float32 copy with every BatchNorm folded to y = A*x + B (A, B rounded to float32), as the Go
    BatchNorm2d computes it."""
    m = copy.deepcopy(model).double()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                a = mod.weight / torch.sqrt(mod.running_var + mod.eps)
                b = mod.bias - a * mod.running_mean
                mod.weight.copy_(a.float().double())
                mod.bias.copy_(b.float().double())
                mod.running_mean.zero_()
                mod.running_var.fill_(1 - mod.eps)
    return m.float()


def make_model(arch, x32, max_rel=5e-6, tries=20):
    """The seeded narrow model whose logits on x32 are well-conditioned in float32.

    Deep narrow nets with random parameters can be sensitive to rounding (a ReLU or max-pool input
    near a kink), which would make a float32 engine's 1e-4 tolerance a matter of luck. So the
    parameter seeds take a salt, "" or "/1" ... "/19" (so far "" has always been enough), the first one for which float32 PyTorch, with
    and without BatchNorm folded into A*x + B, is within max_rel * max|logit| of float64."""
    for k in range(tries):
        salt = "" if k == 0 else f"/{k}"
        torch.manual_seed(seed_of(f"{arch}/init{salt}"))
        model, final = narrow(arch)
        model.eval()
        calib = imagenet_batch((8,) + INPUT_SHAPE[1:], seed_of(f"{arch}/calibration{salt}"))
        randomize(model, final, calib, seed_of(f"{arch}/params{salt}"))
        model = model.float().eval()
        with torch.no_grad():
            l64 = copy.deepcopy(model).double()(x32.double())
            scale = l64.abs().max()
            f32 = float((model(x32).double() - l64).abs().max() / scale)
            folded = float((folded_float32(model)(x32).double() - l64).abs().max() / scale)
        if max(f32, folded) <= max_rel:
            return salt, model, l64, max(f32, folded)
    raise SystemExit(f"{arch}: no well-conditioned seed in {tries} tries")


# ----------------------------------------------------------------------------------------------

def main():
    x32 = imagenet_batch(INPUT_SHAPE, seed_of("torchvision/input"))
    manifest = {
        "generator": "models/torchvision/testdata/gen.py",
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "torchvision": torchvision.__version__, "numpy": np.__version__},
        "num_classes": NUM_CLASSES,
        "input": save_npy("input.npy", x32),
        "tolerance": "max |logits_go - logits| <= 1e-4 * max |logits| (logits: float64 PyTorch)",
        "models": {},
    }
    total = 0
    for arch in ARCHS:
        salt, model, l64, f32 = make_model(arch, x32)
        sd = model.state_dict()
        torch.save(sd, os.path.join(HERE, f"{arch}.pth"))
        files = {"state": f"{arch}.pth", "logits": save_npy(f"{arch}.logits.npy", l64)}
        if arch == "resnet18":
            save_safetensors(sd, os.path.join(HERE, "resnet18.safetensors"))
            files["safetensors"] = "resnet18.safetensors"
        shapes, full_leaves = full_width(arch)
        lv = leaves(model)
        assert [(n, t) for _, n, t in lv] == [(n, t) for _, n, t in full_leaves], arch
        size = sum(os.path.getsize(os.path.join(HERE, f)) for f in files.values() if f.endswith((".pth", ".safetensors")))
        total += size
        manifest["models"][arch] = dict(files, params=sum(v.numel() for v in sd.values()), salt=salt,
                                        float32_rel_diff=f32, leaves=lv, full_width_state=shapes)
        print(f"{arch:10s} {len(lv):3d} leaves  {size / 1024:6.1f} KiB  float32 vs float64 {f32:.2e}  "
              f"logits {l64[0, :3].numpy().round(3).tolist()}")
    manifest["lrp_resnet"] = lrp_resnet()
    total += os.path.getsize(os.path.join(HERE, "lrp_resnet.pth"))
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"state files {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
