#!/usr/bin/python3
"""Writes small .npy files with numpy for TestReadNumpyFiles in npy_test.go.

Each case is written to tensor/testdata/npy/<name>.npy, and
tensor/testdata/npy/expected.json records, for every file, the shape and
the values numpy converts to float32 (as uint32 bit patterns, so that NaN,
infinities and -0 compare exactly), in row-major order. Files that ReadNpy
must reject are listed under "reject" with a substring of the error.

Run from anywhere: /usr/bin/python3 tensor/testdata/gen_npy.py
(Debian: apt-get install python3-numpy). The outputs are committed, so the
Go tests do not need Python.
"""

import json
import os

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")


def cases():
    rng = np.random.default_rng(7)
    f = rng.standard_normal(24).astype(np.float32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3.4028235e38, -1.5], dtype=np.float32)
    yield "f4_scalar", np.array(2.5, dtype="<f4"), {}
    yield "f4_vec", f[:5].copy(), {}
    yield "f4_2x3", f[:6].reshape(2, 3), {}
    yield "f4_2x3x4", f.reshape(2, 3, 4), {}
    yield "f4_empty_0x3", np.zeros((0, 3), dtype="<f4"), {}
    yield "f4_special", special, {}
    yield "f8_2x3", rng.standard_normal((2, 3)), {}
    yield "f8_rounding", np.array([0.1, 1 / 3, 1e-300, 1e300, 16777217.0]), {}
    yield "f2_vec", np.array([1.0, -0.5, 65504, 6e-8, np.inf], dtype="<f2"), {}
    yield "u1_2x2", np.array([[0, 1], [200, 255]], dtype="|u1"), {}
    yield "i1_vec", np.array([-128, 0, 127], dtype="|i1"), {}
    yield "i2_vec", np.array([-32768, 7, 32767], dtype="<i2"), {}
    yield "u2_vec", np.array([0, 65535], dtype="<u2"), {}
    yield "i4_2x2", np.array([[-5, 6], [2147483647, -2147483648]], dtype="<i4"), {}
    yield "u4_vec", np.array([0, 4294967295], dtype="<u4"), {}
    yield "i8_vec", np.array([-3, 1 << 40, (1 << 53) + 1], dtype="<i8"), {}
    yield "u8_vec", np.array([0, 1 << 63], dtype="<u8"), {}
    yield "bool_vec", np.array([True, False, True]), {}
    yield "be_f4_2x3", f[:6].reshape(2, 3).astype(">f4"), {}
    yield "be_f8_vec", np.array([0.25, -1e10], dtype=">f8"), {}
    yield "be_i4_vec", np.array([-2, 70000], dtype=">i4"), {}
    yield "fortran_f4_2x3x4", np.asfortranarray(f.reshape(2, 3, 4)), {}
    yield "fortran_f8_3x2", np.asfortranarray(rng.standard_normal((3, 2))), {}
    yield "fortran_u1_2x3", np.asfortranarray(np.arange(6, dtype="|u1").reshape(2, 3)), {}
    yield "v2_f4_2x3", f[:6].reshape(2, 3), {"version": (2, 0)}
    yield "v3_f4_vec", f[:4].copy(), {"version": (3, 0)}
    yield "v2_fortran_f4_3x2", np.asfortranarray(f[:6].reshape(3, 2)), {"version": (2, 0)}


def rejects():
    yield "c8_vec", np.array([1 + 2j], dtype="<c8"), "unsupported dtype"
    yield "structured", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]), "structured dtypes"
    yield "unicode", np.array(["ab"]), "unsupported dtype"


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {"numpy_version": np.__version__, "files": {}, "reject": {}}
    for name, arr, kw in cases():
        path = os.path.join(OUT, name + ".npy")
        with open(path, "wb") as fh:
            npformat.write_array(fh, arr, **kw)
        back = np.load(path)  # what numpy itself reads
        as32 = np.ascontiguousarray(back.astype(np.float32))
        expected["files"][name] = {
            "dtype": back.dtype.str,
            "fortran_order": bool(back.flags.f_contiguous and not back.flags.c_contiguous),
            "version": list(kw.get("version", (1, 0))),
            "shape": list(back.shape),
            "bits": as32.ravel().view(np.uint32).tolist(),
        }
    for name, arr, err in rejects():
        with open(os.path.join(OUT, name + ".npy"), "wb") as fh:
            npformat.write_array(fh, arr)
        expected["reject"][name] = err
    with open(os.path.join(OUT, "expected.json"), "w") as fh:
        json.dump(expected, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
