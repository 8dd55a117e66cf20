#!/usr/bin/python3
"""Writes the test files of package weights (run from anywhere):

    /usr/bin/python3 weights/testdata/gen.py

Every file is small and seeded, so running it again gives the same tensors
and the same expected.json (the legacy-format files name their storages by
memory address, so their bytes differ from run to run). expected.json lists, for each
file, every tensor that weights.Load must return: its shape, the bits of its
first float32 values, the float64 sum of its float32 values, and the SHA-256
of all its float32 values (little-endian, row-major), which the Go tests
compare bit for bit. Bad files are listed under "errors" with a substring
the error must contain.
"""
import collections
import hashlib
import io
import json
import os
import pickle
import struct
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def out(name):
    return os.path.join(HERE, name)


def narrow_net():
    torch.manual_seed(1234)
    m = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Conv2d(4, 6, 3, bias=False),
        torch.nn.BatchNorm2d(6),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(6, 5),
    )
    # A few training-mode passes make the BatchNorm running statistics and
    # num_batches_tracked non-trivial.
    m.train()
    with torch.no_grad():
        for _ in range(3):
            m(torch.randn(2, 3, 8, 8))
    m.eval()
    return m


def expected_entry(sd):
    """Expected result of weights.Load for a dict of tensors."""
    res = {}
    for name, t in sd.items():
        f = t.detach().to(torch.float32).contiguous().numpy()
        flat = f.reshape(-1)
        le = flat.astype('<f4')
        res[name] = {
            "shape": list(t.shape),
            "dtype": str(t.dtype).replace("torch.", ""),
            "first_bits": [int(x) for x in le[:4].view('<u4')],
            "sum": float(flat.astype(np.float64).sum()),
            "sha256": hashlib.sha256(le.tobytes()).hexdigest(),
        }
    return res


def views_dict():
    """Tensors that are views of shared storages, non-contiguous, of
    assorted dtypes, empty or zero-dimensional."""
    torch.manual_seed(99)
    base = torch.randn(4, 6)
    lin = torch.randn(5, 3)
    ints = torch.tensor([0, -3, 7, 2**24 + 1, 2**40 + 3, -(2**53) - 5, 2**63 - 1], dtype=torch.int64)
    return collections.OrderedDict([
        ("base", base),
        ("transposed", base.t()),              # strides (1, 6)
        ("row", base[1]),                      # offset 6
        ("col", base[:, 2]),                   # offset 2, stride 6
        ("block", base[1:3, 2:5]),             # offset 8, strides (6, 1)
        ("strided", base[::2, 1::3]),          # strides (12, 3)
        ("scalar", base[2, 3]),                # 0-d view, offset 15
        ("expanded", lin[0].expand(4, 3)),     # stride 0
        ("lin_t", lin.t()),                    # transposed weight, own storage
        ("perm", torch.randn(2, 3, 4).permute(2, 0, 1)),
        ("empty", torch.zeros(0, 3)),
        ("ints", ints),
        ("ints_view", ints[1:4]),
        ("int32", torch.tensor([[1, -2], [3, 2**31 - 1]], dtype=torch.int32)),
        ("int16", torch.tensor([-32768, 5], dtype=torch.int16)),
        ("int8", torch.tensor([-128, 127, 0], dtype=torch.int8)),
        ("uint8", torch.tensor([0, 200, 255], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
        ("half_t", torch.randn(3, 2).half().t()),
        ("bf16", torch.randn(2, 2).bfloat16()),
        ("f64_col", torch.randn(3, 3, dtype=torch.float64)[:, 1]),
    ])


def safetensors_bytes(sd, metadata=None):
    """Writes the safetensors format by hand: 8-byte little-endian header
    length, JSON header, then the tensors' bytes back to back."""
    names = {
        torch.float32: "F32", torch.float64: "F64", torch.float16: "F16",
        torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
        torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
    }
    header, blobs, pos = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in sd.items():
        t = t.detach().contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().astype('<i2').tobytes()
        else:
            a = t.numpy()
            raw = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape),
                        "data_offsets": [pos, pos + len(raw)]}
        blobs.append(raw)
        pos += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # pad to 8 bytes like the reference writer
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def malicious_pickle():
    """A protocol-2 pickle that would call os.system("echo pwned") if
    unpickled by Python. Built from opcodes; never loaded here."""
    return (b"\x80\x02"                      # PROTO 2
            b"cos\nsystem\n"                 # GLOBAL 'os system'
            b"q\x00"                         # BINPUT 0
            b"X\x0a\x00\x00\x00echo pwned"   # BINUNICODE 'echo pwned'
            b"\x85"                         # TUPLE1
            b"R"                             # REDUCE
            b".")                            # STOP


def eval_pickle():
    """A state_dict whose one value is builtins.eval("1+1")."""
    return (b"\x80\x02}q\x00"
            b"X\x01\x00\x00\x00a"
            b"cbuiltins\neval\n"
            b"X\x03\x00\x00\x001+1\x85R"
            b"s.")


def zip_with_pickle(path, pkl):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in [("archive/data.pkl", pkl), ("archive/version", b"3\n")]:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)


def main():
    m = narrow_net()
    sd = m.state_dict()
    expected = {"files": {}, "errors": {}}

    torch.save(sd, out("net.pth"))
    expected["files"]["net.pth"] = expected_entry(sd)

    sd64 = m.double().state_dict()
    torch.save(sd64, out("net_f64.pth"))
    expected["files"]["net_f64.pth"] = expected_entry(sd64)

    m = narrow_net()
    sd16 = m.half().state_dict()
    torch.save(sd16, out("net_f16.pth"))
    expected["files"]["net_f16.pth"] = expected_entry(sd16)

    m = narrow_net()
    sdbf = m.bfloat16().state_dict()
    torch.save(sdbf, out("net_bf16.pth"))
    expected["files"]["net_bf16.pth"] = expected_entry(sdbf)

    views = views_dict()
    torch.save(views, out("views.pth"))
    expected["files"]["views.pth"] = expected_entry(views)

    # Legacy (torch < 1.6) format of the same tensors.
    torch.save(views, out("views_legacy.pth"), _use_new_zipfile_serialization=False)
    expected["files"]["views_legacy.pth"] = expected_entry(views)
    torch.save(sd, out("net_legacy.pth"), _use_new_zipfile_serialization=False)
    expected["files"]["net_legacy.pth"] = expected_entry(sd)

    # A training checkpoint that wraps the state_dict, with optimizer state
    # (more tensors, lists, floats, None) beside it.
    m = narrow_net()
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    m.train()
    loss = m(torch.randn(2, 3, 8, 8)).sum()
    loss.backward()
    opt.step()
    m.eval()
    ck = {"epoch": 7, "arch": "narrow", "best_acc1": 0.625, "flag": None,
          "state_dict": m.state_dict(), "optimizer": opt.state_dict()}
    torch.save(ck, out("checkpoint.pth"))
    expected["files"]["checkpoint.pth"] = expected_entry(m.state_dict())
    torch.save({"model": m.state_dict(), "step": 2**40}, out("checkpoint_model.pth"))
    expected["files"]["checkpoint_model.pth"] = expected_entry(m.state_dict())

    # nn.Parameter values (torch._utils._rebuild_parameter).
    params = collections.OrderedDict(m.named_parameters())
    torch.save(params, out("params.pth"))
    expected["files"]["params.pth"] = expected_entry(params)

    # Pickle protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE).
    torch.save(sd, out("net_proto4.pth"), pickle_protocol=4)
    expected["files"]["net_proto4.pth"] = expected_entry(sd)

    # Safetensors, written by hand.
    with open(out("net.safetensors"), "wb") as f:
        f.write(safetensors_bytes(sd, {"format": "pt"}))
    expected["files"]["net.safetensors"] = expected_entry(sd)
    with open(out("views.safetensors"), "wb") as f:
        f.write(safetensors_bytes(views))
    expected["files"]["views.safetensors"] = expected_entry(views)

    # Files that must be refused.
    zip_with_pickle(out("malicious.pth"), malicious_pickle())
    expected["errors"]["malicious.pth"] = '"os.system"'
    zip_with_pickle(out("eval.pth"), eval_pickle())
    expected["errors"]["eval.pth"] = '"builtins.eval"'
    torch.save(narrow_net(), out("module.pth"))  # a whole nn.Module
    expected["errors"]["module.pth"] = '"torch.nn.modules.container.Sequential"'

    with open(out("expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
