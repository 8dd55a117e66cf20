#!/usr/bin/python3
"""Regenerate the test images and torchvision goldens of package data.

Run it with Debian's python3-pil, python3-torchvision, python3-numpy and
python3-skimage installed (apt-get install -y python3-torchvision
python3-skimage python3-pil):

    /usr/bin/python3 data/testdata/gen_golden.py

It writes, next to itself, the input images (from scikit-image's sample
photos, downscaled with PIL so that the whole folder stays small) and
golden.npz (numpy.savez_compressed), and checks that what it stores
reproduces torchvision's tensors bit for bit. See README.md.
"""
import json
import os

import numpy as np
import PIL
import skimage
import skimage.data
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
MNIST_MEAN = [0.1307]
MNIST_STD = [0.3081]

# Each preset: (geometric part as users write it, full pipeline, gray?).
# The geometric part is applied to the PIL image to get the uint8 pixels;
# the full pipeline is what a user runs. Both start from
# Image.open(path).convert("RGB").
PRESETS = {
    "imagenet": (
        T.Compose([T.Resize((224, 224))]),
        T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]),
        IMAGENET_MEAN, IMAGENET_STD,
    ),
    "imagenet-crop": (
        T.Compose([T.Resize(256), T.CenterCrop(224)]),
        T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]),
        IMAGENET_MEAN, IMAGENET_STD,
    ),
    "mnist": (
        T.Compose([T.Grayscale(), T.Resize((28, 28))]),
        T.Compose([T.Grayscale(), T.Resize((28, 28)), T.ToTensor(), T.Normalize(MNIST_MEAN, MNIST_STD)]),
        MNIST_MEAN, MNIST_STD,
    ),
}

# Which presets each input gets (224x224 goldens cost 150 kB each, so not
# every pair is stored; mnist is cheap and covers every input).
GOLDENS = {
    "astronaut.png": ["imagenet", "imagenet-crop", "mnist"],
    "coffee.png": ["imagenet", "imagenet-crop", "mnist"],
    "chelsea.png": ["imagenet-crop", "mnist"],
    "camera.png": ["mnist"],
    "odd.png": ["imagenet", "imagenet-crop", "mnist"],
    "odd.gif": ["mnist"],
    "noise.png": ["mnist"],
    "astronaut.jpg": ["imagenet", "mnist"],
}


def path(name):
    return os.path.join(HERE, name)


def make_inputs():
    lanczos = Image.Resampling.LANCZOS
    astronaut = Image.fromarray(skimage.data.astronaut())  # 512x512 RGB
    # 288x288: imagenet shrinks by 1.29, imagenet-crop by 1.125.
    astronaut.resize((288, 288), lanczos).save(path("astronaut.png"), optimize=True)
    # coffee is 600x400; at 360x240 imagenet shrinks x by 1.61 and enlarges
    # y, and imagenet-crop enlarges it to 384x256 and crops at left 80.
    Image.fromarray(skimage.data.coffee()).resize((360, 240), lanczos).save(path("coffee.png"), optimize=True)
    # chelsea is 451x300; at 301x200 imagenet-crop resizes to 385x256
    # (int(256*301/200) = 385) and crops at left round(80.5) = 80, where
    # Python's round half to even differs from rounding half up.
    Image.fromarray(skimage.data.chelsea()).resize((301, 200), lanczos).save(path("chelsea.png"), optimize=True)
    # Grayscale ("L") PNG; mnist shrinks it 9.1 times.
    Image.fromarray(skimage.data.camera()).resize((256, 256), lanczos).save(path("camera.png"), optimize=True)
    # A small odd-sized crop (37x53) that every preset enlarges.
    odd = astronaut.crop((180, 40, 180 + 37, 40 + 53))
    odd.save(path("odd.png"), optimize=True)
    # The same as a palette GIF (PIL reads it as mode "P").
    odd.quantize(colors=64).save(path("odd.gif"))
    # Uniform noise, 61x47, to exercise rounding at every level.
    rng = np.random.default_rng(20240601)
    noise = Image.fromarray(rng.integers(0, 256, size=(47, 61, 3), dtype=np.uint8))
    noise.save(path("noise.png"), optimize=True)
    # Other lossless containers of the same pixels, for the decoder tests.
    noise.save(path("noise.bmp"))
    noise.save(path("noise.tiff"))
    noise.save(path("noise.webp"), lossless=True)
    # JPEG at quality 90 (PIL's default 4:2:0 chroma subsampling), 256x256.
    astronaut.resize((256, 256), lanczos).save(path("astronaut.jpg"), quality=90)


def lut(mean, std):
    """torchvision's ToTensor+Normalize of every uint8 level, per channel."""
    levels = torch.arange(256, dtype=torch.uint8).view(1, 1, 256).expand(len(mean), 1, 256).contiguous()
    x = levels.to(dtype=torch.get_default_dtype()).div(255)
    return T.Normalize(mean, std)(x).reshape(len(mean), 256).numpy()


def main():
    make_inputs()
    out = {}
    luts = {}
    for preset, (geom, full, mean, std) in PRESETS.items():
        luts[preset] = lut(mean, std)
        out["lut__" + preset] = luts[preset]
    for name, presets in GOLDENS.items():
        img = Image.open(path(name)).convert("RGB")
        for preset in presets:
            geom, full, mean, std = PRESETS[preset]
            want = full(img).numpy()  # C x H x W float32, torchvision's output
            pix = np.asarray(geom(img), dtype=np.uint8)
            pix = pix[:, :, None] if pix.ndim == 2 else pix
            pix = np.ascontiguousarray(pix.transpose(2, 0, 1))  # C x H x W
            # The uint8 pixels and the per-channel table reproduce
            # torchvision's tensor exactly: store those (lossless, 4x smaller).
            got = np.take_along_axis(luts[preset], pix.reshape(pix.shape[0], -1).astype(np.int64), axis=1)
            got = got.reshape(want.shape)
            assert got.dtype == np.float32 and np.array_equal(got.view(np.uint32), want.view(np.uint32)), (name, preset)
            out[name + "__" + preset] = pix
            if preset == "mnist":
                out[name + "__" + preset + "__f32"] = want[None]  # 1 x 1 x 28 x 28, as is
    # What PIL (libjpeg-turbo) decodes from the JPEG, to measure Go's decoder.
    out["astronaut.jpg__decoded"] = np.asarray(Image.open(path("astronaut.jpg")).convert("RGB"))
    np.savez_compressed(path("golden.npz"), **out)
    versions = {
        "pillow": PIL.__version__,
        "torchvision": torchvision.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scikit-image": skimage.__version__,
    }
    with open(path("versions.json"), "w") as f:
        json.dump(versions, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", len(out), "arrays with", versions)


if __name__ == "__main__":
    main()
