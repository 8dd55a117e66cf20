#!/usr/bin/python3
"""Small hand-built ONNX models for operator forms torch.onnx.export does not write
(auto_pad, opsets below 7, Pad's reflect/edge modes, Pad-1's paddings, Cast-1's string type,
Flatten with axis != 1, Squeeze of the batch, MatMul with a stack of matrices, MaxPool's Indices),
with PyTorch float64 outputs, and models the importer must refuse.

Usage (from the repository root): /usr/bin/python3 onnx/testdata/gen_forms.py

Needs Debian's python3-torch, python3-onnx and python3-numpy. Deterministic (fixed
seed). Writes onnx/testdata/forms/: NAME.onnx, NAME.input.npy, NAME.output.npy and
manifest.json ({"cases": [{name, onnx, input, output}], "refused": [{name, onnx,
error}]}, paths relative to onnx/testdata). The expected outputs are computed with
torch.nn.functional from the same weights, independently of the ONNX semantics the Go
importer implements: SAME padding is spelled out as explicit F.pad amounts.
"""

import json
import math
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "forms")
rng = np.random.default_rng(7)


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def model(name, nodes, inits, in_shape, out_shape, opset, out_type=TensorProto.FLOAT):
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)]
    if opset < 7:  # IR version 3: initializers are listed as graph inputs too
        inputs += [helper.make_tensor_value_info(k, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[v.dtype], v.shape)
                   for k, v in inits.items()]
    g = helper.make_graph(nodes, name, inputs,
                          [helper.make_tensor_value_info("y", out_type, out_shape)],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 3 if opset < 7 else 7
    return m


def same(size, k, s, d, upper):
    """ONNX auto_pad SAME_*: (begin, end) padding of one dimension."""
    out = math.ceil(size / s)
    total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
    small, big = total // 2, total - total // 2
    return (small, big) if upper else (big, small)


def t64(a):
    return torch.from_numpy(a).double()


cases, refused = [], []


def save(name, m, x, y):
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, f"{name}.onnx"))
    np.save(os.path.join(OUT, f"{name}.input.npy"), x)
    np.save(os.path.join(OUT, f"{name}.output.npy"), y.float().numpy())
    cases.append({"name": name, "onnx": f"forms/{name}.onnx", "input": f"forms/{name}.input.npy",
                  "output": f"forms/{name}.output.npy"})


def refuse(name, m, error):
    onnx.save(m, os.path.join(OUT, f"{name}.onnx"))
    refused.append({"name": name, "onnx": f"forms/{name}.onnx", "error": error})


def main():
    os.makedirs(OUT, exist_ok=True)
    x = rand(2, 3, 7, 8)

    # Conv with auto_pad SAME_UPPER / SAME_LOWER, stride 2, dilation 1 and 2 (odd totals).
    for ap, upper in [("SAME_UPPER", True), ("SAME_LOWER", False)]:
        for dil in (1, 2):
            w, b = rand(4, 3, 3, 2), rand(4)
            ph, pw = same(7, 3, 2, dil, upper), same(8, 2, 2, dil, upper)
            y = F.conv2d(F.pad(t64(x), (pw[0], pw[1], ph[0], ph[1])), t64(w), t64(b), stride=2, dilation=dil)
            n = helper.make_node("Conv", ["x", "w", "b"], ["y"], auto_pad=ap, strides=[2, 2],
                                 dilations=[dil, dil], kernel_shape=[3, 2])
            save(f"conv_{ap.lower()}_d{dil}", model("conv", [n], {"w": w, "b": b}, [2, 3, 7, 8], list(y.shape), 13),
                 x, y)
    # Conv auto_pad VALID ignores nothing and pads nothing.
    w = rand(4, 3, 3, 3)
    y = F.conv2d(t64(x), t64(w), stride=1)
    n = helper.make_node("Conv", ["x", "w"], ["y"], auto_pad="VALID")
    save("conv_valid", model("conv", [n], {"w": w}, [2, 3, 7, 8], list(y.shape), 11), x, y)

    # Pooling with auto_pad (opsets 10-12): max pads with -inf, average excludes the pads.
    for op, ap, upper, opset in [("MaxPool", "SAME_UPPER", True, 12), ("MaxPool", "SAME_LOWER", False, 10),
                                 ("AveragePool", "SAME_UPPER", True, 11), ("AveragePool", "SAME_LOWER", False, 10)]:
        ph, pw = same(7, 3, 2, 1, upper), same(8, 3, 2, 1, upper)
        pad = (pw[0], pw[1], ph[0], ph[1])
        if op == "MaxPool":
            y = F.max_pool2d(F.pad(t64(x), pad, value=-math.inf), 3, 2)
        else:
            s = F.avg_pool2d(F.pad(t64(x), pad), 3, 2, divisor_override=1)
            cnt = F.avg_pool2d(F.pad(torch.ones_like(t64(x)), pad), 3, 2, divisor_override=1)
            y = s / cnt
        n = helper.make_node(op, ["x"], ["y"], auto_pad=ap, kernel_shape=[3, 3], strides=[2, 2])
        save(f"{op.lower()}_{ap.lower()}_o{opset}", model("pool", [n], {}, [2, 3, 7, 8], list(y.shape), opset), x, y)

    # Pad in reflect and edge modes, opset 11 (pads input) and 2 (attribute).
    pads = [0, 0, 2, 1, 0, 0, 1, 3]  # N, C, H, W begins then ends
    for mode, tmode in [("reflect", "reflect"), ("edge", "replicate")]:
        y = F.pad(t64(x), (1, 3, 2, 1), mode=tmode)
        n = helper.make_node("Pad", ["x", "pads"], ["y"], mode=mode)
        save(f"pad_{mode}_o11", model("pad", [n], {"pads": np.array(pads, np.int64)}, [2, 3, 7, 8],
                                      list(y.shape), 11), x, y)
        n = helper.make_node("Pad", ["x"], ["y"], mode=mode, pads=pads)
        save(f"pad_{mode}_o2", model("pad", [n], {}, [2, 3, 7, 8], list(y.shape), 2), x, y)
    # Opset 1: the attribute is called paddings.
    y = F.pad(t64(x), (1, 3, 2, 1), value=0.25)
    n = helper.make_node("Pad", ["x"], ["y"], mode="constant", paddings=pads, value=0.25)
    save("pad_constant_o1", model("pad", [n], {}, [2, 3, 7, 8], list(y.shape), 1), x, y)

    # Opset 6: Conv -> BatchNormalization(is_test) -> Add(broadcast, axis 1) -> Relu ->
    # Dropout(is_test) -> Reshape(shape attribute) -> Gemm(broadcast) -> Mul(broadcast, scalar).
    w, b = rand(4, 3, 3, 3), rand(4)
    sc, bi, mu, var = rand(4), rand(4), rand(4), np.abs(rand(4)) + 0.5
    cb = rand(4)
    gw, gb = rand(5, 4 * 5 * 6), rand(5)
    h = F.conv2d(t64(x), t64(w), t64(b))
    h = (h - t64(mu)[:, None, None]) / torch.sqrt(t64(var)[:, None, None] + 1e-3) * t64(sc)[:, None, None] \
        + t64(bi)[:, None, None]
    h = F.relu(h + t64(cb)[:, None, None])
    h = h.reshape(2, -1) @ t64(gw).T + t64(gb)
    y = h * 0.5
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"]),
             helper.make_node("BatchNormalization", ["c", "sc", "bi", "mu", "var"], ["bn"], is_test=1,
                              epsilon=1e-3),
             helper.make_node("Add", ["bn", "cb"], ["a"], broadcast=1, axis=1),
             helper.make_node("Relu", ["a"], ["r"]),
             helper.make_node("Dropout", ["r"], ["d"], is_test=1, ratio=0.5),
             helper.make_node("Reshape", ["d", "shape"], ["f"]),
             helper.make_node("Gemm", ["f", "gw", "gb"], ["g"], transB=1, broadcast=1),
             helper.make_node("Mul", ["g", "half"], ["y"], broadcast=1)]
    inits = {"w": w, "b": b, "sc": sc, "bi": bi, "mu": mu, "var": var.astype(np.float32), "cb": cb, "gw": gw,
             "gb": gb, "half": np.array([0.5], np.float32), "shape": np.array([2, -1], np.int64)}
    save("opset6_chain", model("chain", nodes, inits, [2, 3, 7, 8], [2, 5], 6), x, y)
    # Opset 4: Reshape's target shape is an attribute (the batch of 2 baked in, as exporters do).
    n = helper.make_node("Reshape", ["x"], ["y"], shape=[2, 3, -1])
    save("reshape_attr_o4", model("r", [n], {}, [2, 3, 7, 8], [2, 3, 56], 4), x, t64(x).reshape(2, 3, -1))

    # Opset 5: Cast-1 names the target type as a string (folded: its input is constant).
    k = np.arange(1, 9, dtype=np.int64)
    nodes = [helper.make_node("Cast", ["k"], ["kf"], to="FLOAT"),
             helper.make_node("Mul", ["x", "kf"], ["y"], broadcast=1)]
    save("cast_string_o5", model("c", nodes, {"k": k}, [2, 3, 7, 8], [2, 3, 7, 8], 5), x,
         t64(x) * torch.from_numpy(k).double())

    # Refused: training-mode Dropout and BatchNormalization, Flatten mixing the batch.
    n = helper.make_node("Dropout", ["x"], ["y"], is_test=0, ratio=0.5)
    refuse("dropout_training_o6", model("d", [n], {}, [2, 3, 7, 8], [2, 3, 7, 8], 6), "training mode")
    n = helper.make_node("Dropout", ["x", "ratio", "mode"], ["y"])
    refuse("dropout_training_o13", model("d", [n], {"ratio": np.array(0.5, np.float32),
                                                   "mode": np.array(True)}, [2, 3, 7, 8], [2, 3, 7, 8], 13),
           "training mode")
    n = helper.make_node("BatchNormalization", ["x", "sc", "bi", "mu", "var"], ["y"], is_test=0)
    refuse("batchnorm_training_o6", model("b", [n], {"sc": rand(3), "bi": rand(3), "mu": rand(3),
                                                    "var": np.ones(3, np.float32)}, [2, 3, 7, 8], [2, 3, 7, 8], 6),
           "is_test 0")
    n = helper.make_node("Flatten", ["x"], ["y"], axis=2)
    refuse("flatten_axis2_free", model("f", [n], {}, ["N", 3, 7, 8], ["M", 56], 13),
           "Flatten with axis 2 mixes the samples of a batch")
    n = helper.make_node("Pad", ["x", "pads"], ["y"], mode="reflect")
    refuse("pad_reflect_too_wide", model("p", [n], {"pads": np.array([0, 0, 7, 0, 0, 0, 0, 0], np.int64)},
                                         [2, 3, 7, 8], [2, 3, 14, 8], 11), "reflect padding")

    batch_coupled()
    layer_norm_gather()

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"generator": "onnx/testdata/gen_forms.py", "torch": torch.__version__, "onnx": onnx.__version__,
                   "tolerance": "max|got - want| <= 1e-4 * max(1, max|want|)", "cases": cases, "refused": refused},
                  f, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases, {len(refused)} refused")


def batch_coupled():
    """Forms that mix the samples of a batch or depend on a sample's position in it: imported
    with the model's declared batch size fixed, refused when the batch is free. The expected
    outputs come from torch (reshape, indexing, matmul, max_pool2d's indices); the indices'
    offset of each (sample, channel) plane and the column-major order are ONNX's definition."""
    x = rand(2, 3, 7, 8)
    for axis, shape in [(0, (1, 336)), (2, (6, 56)), (-1, (42, 8)), (4, (336, 1))]:
        n = helper.make_node("Flatten", ["x"], ["y"], axis=axis)
        save(f"flatten_axis{axis}".replace("-", "neg"), model("f", [n], {}, [2, 3, 7, 8], list(shape), 13), x,
             t64(x).reshape(shape))

    x1 = rand(1, 3, 7, 8)
    n = helper.make_node("Squeeze", ["x", "axes"], ["y"])
    save("squeeze_batch_o13", model("s", [n], {"axes": np.array([0], np.int64)}, [1, 3, 7, 8], [3, 7, 8], 13),
         x1, t64(x1)[0])
    refuse("squeeze_batch_free", model("s", [n], {"axes": np.array([0], np.int64)}, ["N", 3, 7, 8], [3, 7, 8], 13),
           "Squeeze of dimension 0 mixes the samples")

    for name, bshape in [("matmul_4d", (1, 3, 8, 5)), ("matmul_3d", (3, 8, 5))]:
        b = rand(*bshape)
        n = helper.make_node("MatMul", ["x", "b"], ["y"])
        save(name, model("m", [n], {"b": b}, [2, 3, 7, 8], [2, 3, 7, 5], 13), x, torch.matmul(t64(x), t64(b)))
    b = rand(2, 3, 8, 5)
    n = helper.make_node("MatMul", ["x", "b"], ["y"])
    save("matmul_4d_per_sample", model("m", [n], {"b": b}, [2, 3, 7, 8], [2, 3, 7, 5], 13), x,
         torch.matmul(t64(x), t64(b)))
    refuse("matmul_4d_per_sample_free", model("m", [n], {"b": b}, ["N", 3, 7, 8], ["N", 3, 7, 5], 13),
           "whose first dimension is not 1")

    _, idx = F.max_pool2d(t64(x), 3, stride=2, padding=1, return_indices=True)
    plane = torch.arange(2 * 3, dtype=torch.int64).reshape(2, 3, 1, 1) * (7 * 8)
    h, w = idx // 8, idx % 8
    for order, within in [(0, idx), (1, w * 7 + h)]:
        n = helper.make_node("MaxPool", ["x"], ["v", "y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                             storage_order=order)
        save(f"maxpool_indices_order{order}", model("p", [n], {}, [2, 3, 7, 8], [2, 3, 4, 4], 12, TensorProto.INT64),
             x, (plane + within).double())
    sc, bi, mu, var = rand(3), rand(3), rand(3), rng.uniform(0.5, 2, 3).astype(np.float32)
    bn = {"sc": sc, "bi": bi, "mu": mu, "var": var}
    xd = t64(x)
    bmean, bvar = xd.mean(dim=(0, 2, 3)), xd.var(dim=(0, 2, 3), unbiased=False)
    want = [F.batch_norm(xd, None, None, t64(sc), t64(bi), training=True, eps=1e-3),
            t64(mu) * 0.8 + bmean * 0.2, t64(var) * 0.8 + bvar * 0.2]
    for k, (outs, shape) in enumerate([(["y", "", ""], [2, 3, 7, 8]), (["z", "y", "v"], [3]), (["z", "m", "y"], [3])]):
        b = helper.make_node("BatchNormalization", ["x", "sc", "bi", "mu", "var"], outs, training_mode=1,
                             epsilon=1e-3, momentum=0.8)
        save(f"batchnorm_training_out{k}", model("b", [b], bn, [2, 3, 7, 8], shape, 15), x, want[k])
    refuse("batchnorm_training_free", model("b", [b], bn, ["N", 3, 7, 8], [3], 15),
           "BatchNormalization with training_mode 1 mixes the samples")
    refuse("maxpool_indices_free", model("p", [n], {}, ["N", 3, 7, 8], ["N", 3, 4, 4], 12, TensorProto.INT64),
           "MaxPool's Indices output mixes the samples")


def layer_norm_gather():
    """LayerNormalization over the trailing dimensions from axis (axis 0 normalizes the whole batch
    together: batch-coupled), its Mean and InvStdDev outputs, and Gather along the batch
    (batch-coupled). The expected outputs come from F.layer_norm with normalized_shape
    x.shape[axis:], torch's mean and biased variance over those dimensions, and indexing."""
    x = rand(2, 3, 7, 8)
    xd = t64(x)
    for axis in [0, 1, 2, -2, 3]:
        a = axis % 4
        norm = list(x.shape[a:])
        sc, bi = rand(*norm), rand(*norm)
        want = F.layer_norm(xd, norm, t64(sc), t64(bi), eps=1e-3)
        dims = tuple(range(a, 4))
        mean = xd.mean(dim=dims, keepdim=True)
        inv = 1 / torch.sqrt(xd.var(dim=dims, unbiased=False, keepdim=True) + 1e-3)
        stats = list(x.shape[:a]) + [1] * (4 - a)
        tag = f"{axis}".replace("-", "neg")
        for k, (outs, shape, y) in enumerate([(["y"], list(x.shape), want), (["z", "y"], stats, mean),
                                              (["z", "m", "y"], stats, inv)]):
            n = helper.make_node("LayerNormalization", ["x", "sc", "bi"], outs, axis=axis, epsilon=1e-3)
            save(f"layernorm_axis{tag}_out{k}", model("l", [n], {"sc": sc, "bi": bi}, [2, 3, 7, 8], shape, 17), x, y)
    sc = rand(2, 3, 7, 8)
    n = helper.make_node("LayerNormalization", ["x", "sc"], ["y"], axis=0)
    refuse("layernorm_axis0_free", model("l", [n], {"sc": sc}, ["N", 3, 7, 8], ["N", 3, 7, 8], 17),
           "LayerNormalization with axis 0 mixes the samples")
    sc = rand(8)
    n = helper.make_node("LayerNormalization", ["x", "sc"], ["y"], axis=2)
    refuse("layernorm_scale_broadcast", model("l", [n], {"sc": sc}, [2, 3, 7, 8], [2, 3, 7, 8], 17),
           "broadcasting is not supported")

    idx = np.array([1, 0, 1], np.int64)
    n = helper.make_node("Gather", ["x", "i"], ["y"], axis=0)
    save("gather_batch", model("g", [n], {"i": idx}, [2, 3, 7, 8], [3, 3, 7, 8], 13), x, xd[torch.from_numpy(idx)])
    n = helper.make_node("Gather", ["x", "i"], ["y"], axis=0)
    save("gather_batch_scalar", model("g", [n], {"i": np.array(-1, np.int64)}, [2, 3, 7, 8], [3, 7, 8], 13), x,
         xd[-1])
    refuse("gather_batch_free", model("g", [n], {"i": idx}, ["N", 3, 7, 8], [3, 3, 7, 8], 13),
           "Gather along dimension 0 mixes the samples")


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
