#!/usr/bin/python3
"""Write imagenet_classes.txt: ImageNet-1k's 1000 class names, one per line, in class-index order.

Usage (from the repository root):

    /usr/bin/python3 models/torchvision/gen_imagenet_classes.py

The names are torchvision's own (the `categories` of its ImageNet weights' metadata, the list
torchvision's classification models are trained with), read from Debian's python3-torchvision 0.14
with no network access. Every IMAGENET1K weight enum of the architectures this package builds
carries the same list; the script checks that.
"""

import os

import torchvision
from torchvision import models

HERE = os.path.dirname(os.path.abspath(__file__))

ENUMS = ["VGG11_Weights", "VGG13_Weights", "VGG16_Weights", "VGG19_Weights", "VGG11_BN_Weights",
         "VGG13_BN_Weights", "VGG16_BN_Weights", "VGG19_BN_Weights", "ResNet18_Weights",
         "ResNet34_Weights", "ResNet50_Weights", "ResNet101_Weights", "AlexNet_Weights"]


def main():
    cats = models.VGG16_Weights.IMAGENET1K_V1.meta["categories"]
    assert len(cats) == 1000, len(cats)
    for name in ENUMS:
        for w in getattr(models, name):
            if w.meta.get("categories") is not None:  # IMAGENET1K_FEATURES has none
                assert w.meta["categories"] == cats, (name, w.name)
    for c in cats:
        assert c and c == c.strip() and "\n" not in c, repr(c)
    path = os.path.join(HERE, "imagenet_classes.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(c + "\n" for c in cats))
    print(f"wrote {path}: {len(cats)} classes from torchvision {torchvision.__version__}")


if __name__ == "__main__":
    main()
