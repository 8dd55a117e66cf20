#!/usr/bin/python3
"""Train the small Vision Transformers embedded as mnist-vit and fashion-mnist-vit.

Usage (from the repository root):

    nice -n 10 /usr/bin/python3 models/train/train_vit.py [--dataset mnist|fashion-mnist] [--out DIR] [--epochs N]

Data, normalization and determinism as models/train/train.py (whose helpers
it imports). The model is torchvision.models.VisionTransformer(image_size=28,
patch_size=7, num_layers=4, num_heads=4, hidden_dim=64, mlp_dim=128,
num_classes=10) with a one-channel patch embedding (conv_proj = Conv2d(1, 64,
7, stride 7)): 16 patches and the class token. Adam with OneCycleLR, batch
128, no augmentation, 8 epochs for MNIST (about 5 minutes on one core), 12
with random horizontal flips for Fashion-MNIST (as train.py). It writes
DIR/NAME.onnx (NAME = DATASET-vit; opset 17, free batch; DIR defaults to
models/) and updates models/train/results.json (test accuracy, training
details) and sample_logits.json (PyTorch's logits of the dataset's embedded
samples) under the key NAME.
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as cnn  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def model():
    m = torchvision.models.VisionTransformer(image_size=28, patch_size=7, num_layers=4, num_heads=4,
                                             hidden_dim=64, mlp_dim=128, num_classes=10)
    m.conv_proj = nn.Conv2d(1, 64, kernel_size=7, stride=7)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=cnn.MODELS)
    ap.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--json-dir", default=cnn.HERE, help="where results.json and sample_logits.json are updated")
    ap.add_argument("--mnist-dir")
    args = ap.parse_args()
    cfg = cnn.CONFIGS[args.dataset]
    name = args.dataset + "-vit"
    flip = args.dataset == "fashion-mnist"
    if args.epochs is None:
        args.epochs = 12 if flip else 8
    t0 = time.time()
    if flip:
        tr_x, tr_y, te_x, te_y = cnn.load(cnn.FASHION_DIR)
    else:
        tr_x, tr_y, te_x, te_y = cnn.load(args.mnist_dir or cnn.gomnist_dir())
    xtr, xte = cnn.normalize(tr_x, cfg["mean"], cfg["std"]), cnn.normalize(te_x, cfg["mean"], cfg["std"])
    ytr, yte = torch.from_numpy(tr_y.astype("int64")), torch.from_numpy(te_y.astype("int64"))
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(1)
    m = model()
    batch, lr = 128, 2e-3
    opt = torch.optim.Adam(m.parameters(), lr=lr)
    steps = args.epochs * ((len(xtr) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    history = []
    for epoch in range(args.epochs):
        m.train()
        perm = torch.randperm(len(xtr), generator=gen)
        if flip:  # drawn only here, so that MNIST's run stays as committed
            flips = torch.rand(len(xtr), generator=gen) < 0.5
        total = 0.0
        for i in range(0, len(xtr), batch):
            idx = perm[i:i + batch]
            xb = xtr[idx]
            if flip:
                f = flips[idx]
                xb[f] = xb[f].flip(-1)  # random horizontal flip
            loss = F.cross_entropy(m(xb), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        correct, _ = cnn.evaluate(m, xte, yte)
        history.append(dict(epoch=epoch + 1, train_loss=round(total / len(xtr), 5), test_accuracy=correct / len(xte)))
        print(f"epoch {epoch + 1}: loss {total / len(xtr):.4f}, test {100 * correct / len(xte):.2f}%, "
              f"{time.time() - t0:.0f}s", flush=True)
    m.eval()
    correct, logits = cnn.evaluate(m, xte, yte)
    path = os.path.join(args.out, name + ".onnx")
    torch.onnx.export(m, xte[:1].clone(), path, input_names=["input"], output_names=["logits"],
                      opset_version=17, dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    # The embedded MNIST samples (the first test image of each class, as
    # train.py picks them) with PyTorch's logits.
    samples = []
    for c in range(10):
        i = int((yte == c).nonzero()[0])
        samples.append(dict(name=f"{i}-{c}.png", index=i, label=c, logits=[float(v) for v in logits[i].tolist()]))
    cnn.update_json(os.path.join(args.json_dir, "sample_logits.json"), name, samples)
    cnn.update_json(os.path.join(args.json_dir, "results.json"), name, dict(
        test_correct=correct, test_total=len(xte), test_accuracy=correct / len(xte),
        train_seconds=round(time.time() - t0, 1), epochs=args.epochs, batch_size=batch,
        optimizer=f"Adam, OneCycleLR(max_lr={lr}, pct_start=0.15)", seed=1,
        augmentation="random horizontal flip" if flip else "none",
        architecture="torchvision VisionTransformer(image_size=28, patch_size=7, num_layers=4, num_heads=4, "
                     "hidden_dim=64, mlp_dim=128), conv_proj = Conv2d(1, 64, 7, stride 7)",
        mean=cfg["mean"], std=cfg["std"], data=cfg["source"], onnx_bytes=os.path.getsize(path), history=history))
    print(f"test accuracy {100 * correct / len(xte):.2f}%; wrote {path}")


if __name__ == "__main__":
    main()
