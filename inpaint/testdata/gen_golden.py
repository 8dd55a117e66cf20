#!/usr/bin/python3
"""Generate the OpenCV goldens for package inpaint.

Run from this directory (inpaint/testdata) with Debian's python3-opencv,
python3-skimage and python3-numpy:

    /usr/bin/python3 gen_golden.py

It takes natural photos from scikit-image, resizes them to 224x224,
builds seeded masks (8x8 patches in random order as pixel flipping makes
them, at 1%..90% coverage, scattered single pixels, and contiguous blobs),
runs cv2.inpaint(img, mask, 3, cv2.INPAINT_TELEA), adds a few small crops
with other radii (1, 2.5, 5, 7) and masks covering the first row, and
writes:

  img_<name>.png            the input (RGB or gray)
  mask_<mask>.png           the mask (0 or 255)
  out_<name>_<mask>.png     OpenCV's output (out_<name>.png for the crops)
  manifest.json             the list of cases

Everything is lossless PNG; the colour images are stored as RGB. OpenCV
inpaints channels independently, so the channel order does not matter.
"""
import json

import cv2
import numpy as np
import skimage.data

SIZE = 224
PATCH = 8
RADIUS = 3


def load_images():
    imgs = {}
    for name in ("astronaut", "chelsea", "coffee"):
        rgb = getattr(skimage.data, name)()
        imgs[name] = cv2.resize(rgb, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    cam = skimage.data.camera()
    imgs["camera"] = cv2.resize(cam, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return imgs


def patch_mask(frac, seed, patch=PATCH):
    """The first round(frac*n) of n patches taken in a random order."""
    g = SIZE // patch
    order = np.random.default_rng(seed).permutation(g * g)
    m = np.zeros((SIZE, SIZE), np.uint8)
    for p in order[: int(round(frac * g * g))]:
        y, x = divmod(int(p), g)
        m[y * patch:(y + 1) * patch, x * patch:(x + 1) * patch] = 255
    return m


def blob_mask(seed):
    """A few filled ellipses and a stroke, some touching the border."""
    rng = np.random.default_rng(seed)
    m = np.zeros((SIZE, SIZE), np.uint8)
    for _ in range(4):
        c = (int(rng.integers(0, SIZE)), int(rng.integers(0, SIZE)))
        ax = (int(rng.integers(8, 40)), int(rng.integers(8, 40)))
        cv2.ellipse(m, c, ax, float(rng.integers(0, 180)), 0, 360, 255, -1)
    cv2.ellipse(m, (0, 0), (30, 20), 0, 0, 360, 255, -1)  # top-left corner
    cv2.rectangle(m, (SIZE - 12, 100), (SIZE - 1, 140), 255, -1)  # right edge
    cv2.line(m, (10, SIZE - 30), (SIZE - 20, 60), 255, 5)
    return m


def masks():
    out = {}
    for i, frac in enumerate((0.01, 0.10, 0.30, 0.60, 0.90)):
        out["p8_%02d" % int(round(frac * 100))] = patch_mask(frac, 100 + i)
    out["p1_30"] = patch_mask(0.30, 200, patch=1)
    out["blob"] = blob_mask(300)
    return out


def small_cases(imgs):
    """Small crops with other radii and masks on the border: exercise the
    border rules, the radius rounding and images only two rows high."""
    rng = np.random.default_rng(400)
    specs = [  # name, image, y, x, h, w, radius, mask kind, coverage
        ("astro40x30_r5", "astronaut", 60, 90, 30, 40, 5, "pixels", 0.5),
        ("cam33x17_r1", "camera", 100, 50, 17, 33, 1, "patch3", 0.6),
        ("coffee25x2_r3", "coffee", 120, 40, 2, 25, 3, "pixels", 0.4),
        ("chel29x31_r2.5", "chelsea", 80, 100, 31, 29, 2.5, "pixels", 0.3),
        ("cam25x25_r7", "camera", 20, 150, 25, 25, 7, "patch3", 0.8),
    ]
    out = []
    for name, iname, y, x, h, w, radius, kind, frac in specs:
        img = np.ascontiguousarray(imgs[iname][y:y + h, x:x + w])
        if kind == "pixels":
            m = (rng.random((h, w)) < frac).astype(np.uint8) * 255
        else:
            g = (rng.random(((h + 2) // 3, (w + 2) // 3)) < frac).astype(np.uint8)
            m = np.kron(g, np.ones((3, 3), np.uint8))[:h, :w] * 255
        m[0, :] = 255  # the first row, which OpenCV's index clamps treat specially
        m = np.ascontiguousarray(m)
        out.append((name, img, m, radius))
    return out


def main():
    cv2.setNumThreads(1)
    imgs = load_images()
    ms = masks()
    cases = []
    for name, m in ms.items():
        cv2.imwrite("mask_%s.png" % name, m, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    for iname, img in imgs.items():
        bgr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        cv2.imwrite("img_%s.png" % iname, bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        for mname, m in ms.items():
            out = cv2.inpaint(img, m, RADIUS, cv2.INPAINT_TELEA)
            ob = out if out.ndim == 2 else cv2.cvtColor(out, cv2.COLOR_RGB2BGR)
            oname = "out_%s_%s.png" % (iname, mname)
            cv2.imwrite(oname, ob, [cv2.IMWRITE_PNG_COMPRESSION, 9])
            cases.append({
                "name": "%s/%s" % (iname, mname),
                "image": "img_%s.png" % iname,
                "mask": "mask_%s.png" % mname,
                "output": oname,
                "channels": 1 if img.ndim == 2 else 3,
                "coverage": round(float((m != 0).mean()), 4),
                "radius": RADIUS,
            })
    for name, img, m, radius in small_cases(imgs):
        bgr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        cv2.imwrite("img_%s.png" % name, bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        cv2.imwrite("mask_%s.png" % name, m, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        out = cv2.inpaint(img, m, radius, cv2.INPAINT_TELEA)
        ob = out if out.ndim == 2 else cv2.cvtColor(out, cv2.COLOR_RGB2BGR)
        cv2.imwrite("out_%s.png" % name, ob, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        cases.append({
            "name": name,
            "image": "img_%s.png" % name,
            "mask": "mask_%s.png" % name,
            "output": "out_%s.png" % name,
            "channels": 1 if img.ndim == 2 else 3,
            "coverage": round(float((m != 0).mean()), 4),
            "radius": radius,
        })
    manifest = {
        "generator": "gen_golden.py",
        "opencv": cv2.__version__,
        "call": "cv2.inpaint(img, mask, radius, cv2.INPAINT_TELEA)",
        "cases": cases,
    }
    with open("manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
