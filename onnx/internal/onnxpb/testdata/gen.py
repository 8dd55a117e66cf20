#!/usr/bin/python3
"""Builds tiny ONNX models with the onnx helper API and records what onnx
itself reads back from them, for TestOnnxGenerated in decode_test.go.

Writes, next to this script:
  cnn.onnx    Conv + Relu + Reshape + Gemm + Mul(Constant), checked by
              onnx.checker; weights as raw_data, float_data and int64_data.
  attrs.onnx  one custom-domain node carrying an attribute of every kind
              (f, i, s, t, g, floats, ints, strings) and initializers of
              several data types.
  expected.json  what onnx reads back from both files.

Run from anywhere: /usr/bin/python3 onnx/internal/onnxpb/testdata/gen.py
(Debian: apt-get install python3-onnx). The outputs are committed, so the
Go tests do not need Python.
"""

import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def cnn_model():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((2, 1, 3, 3)).astype(np.float32)
    w_init = numpy_helper.from_array(w, "conv.weight")  # raw_data
    b_init = helper.make_tensor("conv.bias", TensorProto.FLOAT, [2], [0.5, -0.25])  # float_data
    shape_init = helper.make_tensor("flat.shape", TensorProto.INT64, [2], [1, -1])  # int64_data
    gw = rng.standard_normal((3, 8)).astype(np.float32)
    gw_init = numpy_helper.from_array(gw, "fc.weight")
    gb_init = helper.make_tensor("fc.bias", TensorProto.FLOAT, [3], [0.0, 1.0, -1.0])

    nodes = [
        helper.make_node(
            "Conv", ["x", "conv.weight", "conv.bias"], ["c"], name="conv1",
            kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2],
            dilations=[1, 1], group=1, auto_pad="NOTSET",
        ),
        helper.make_node("Relu", ["c"], ["r"], name="relu1"),
        helper.make_node("Reshape", ["r", "flat.shape"], ["f"], name="flatten"),
        helper.make_node(
            "Gemm", ["f", "fc.weight", "fc.bias"], ["g"], name="fc",
            alpha=1.0, beta=0.5, transB=1,
        ),
        helper.make_node(
            "Constant", [], ["k"], name="scale",
            value=helper.make_tensor("scale.value", TensorProto.FLOAT, [], [2.0]),
        ),
        helper.make_node("Mul", ["g", "k"], ["y"], name="mul"),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [1, 2, 2, 2])
    graph = helper.make_graph(
        nodes, "tiny_cnn", [x], [y],
        initializer=[w_init, b_init, shape_init, gw_init, gb_init], value_info=[c],
    )
    model = helper.make_model(
        graph, producer_name="onnxpb-gen", opset_imports=[helper.make_opsetid("", 13)]
    )
    onnx.checker.check_model(model)
    return model


def attrs_model():
    sub = helper.make_graph(
        [helper.make_node("Identity", ["a"], ["b"])], "sub",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1])],
    )
    node = helper.make_node(
        "Annotate", ["x"], ["y"], name="every_kind", domain="com.example",
        f=0.25, i=-7, s="hello",
        t=helper.make_tensor("t", TensorProto.INT64, [2, 2], [1, -2, 3, 1 << 40]),
        g=sub,
        floats=[1.5, -2.0, 3.25], ints=[3, -1, 1 << 33], strings=["a", "bc"],
    )
    inits = [
        helper.make_tensor("d", TensorProto.DOUBLE, [2], [0.1, -2.5]),  # double_data
        helper.make_tensor("h", TensorProto.FLOAT16, [3], [1.0, -0.5, 65504.0]),  # int32_data bits
        numpy_helper.from_array(np.array([0.5, -3.0], dtype=np.float16), "h_raw"),
        numpy_helper.from_array(np.array([[0, 200, 255]], dtype=np.uint8), "u8"),
        helper.make_tensor("i8", TensorProto.INT8, [3], [-128, 0, 127]),  # int32_data
        numpy_helper.from_array(np.array([7, -9], dtype=np.int32), "i32_raw"),
        helper.make_tensor("i32", TensorProto.INT32, [2], [-5, 6]),
        numpy_helper.from_array(np.array([4, -1], dtype=np.int64), "i64_raw"),
        numpy_helper.from_array(np.zeros((0, 3), dtype=np.float32), "empty"),
    ]
    graph = helper.make_graph(
        [node], "attrs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],  # unknown rank
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],  # scalar
        initializer=inits,
    )
    return helper.make_model(
        graph, producer_name="onnxpb-gen",
        opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)],
    )


def attr_json(a):
    kind = helper.AttributeProto.AttributeType.Name(a.type)
    out = {"name": a.name, "type": kind}
    if kind == "GRAPH":
        return out  # not decoded by onnxpb
    v = helper.get_attribute_value(a)
    if kind == "TENSOR":
        out["value"] = tensor_json(a.t)
    elif kind == "STRING":
        out["value"] = v.decode()
    elif kind == "STRINGS":
        out["value"] = [s.decode() for s in v]
    elif kind in ("FLOAT", "FLOATS"):
        out["value"] = np.asarray(v, dtype=np.float32).tolist()
    else:
        out["value"] = v
    return out


def tensor_json(t):
    arr = numpy_helper.to_array(t)
    return {
        "name": t.name,
        "data_type": TensorProto.DataType.Name(t.data_type),
        "dims": list(t.dims),
        "raw": t.HasField("raw_data"),
        "values": arr.astype(np.float64).ravel().tolist(),
    }


def value_info_json(v):
    out = {"name": v.name}
    tt = v.type.tensor_type
    out["elem_type"] = tt.elem_type
    if tt.HasField("shape"):
        out["dims"] = [
            d.dim_param if d.HasField("dim_param") else
            (d.dim_value if d.HasField("dim_value") else "?")
            for d in tt.shape.dim
        ]
    return out


def model_json(m):
    g = m.graph
    return {
        "ir_version": m.ir_version,
        "producer_name": m.producer_name,
        "opset_import": [{"domain": o.domain, "version": o.version} for o in m.opset_import],
        "graph_name": g.name,
        "nodes": [
            {
                "name": n.name, "op_type": n.op_type, "domain": n.domain,
                "inputs": list(n.input), "outputs": list(n.output),
                "attributes": [attr_json(a) for a in n.attribute],
            }
            for n in g.node
        ],
        "initializers": [tensor_json(t) for t in g.initializer],
        "inputs": [value_info_json(v) for v in g.input],
        "outputs": [value_info_json(v) for v in g.output],
        "value_info": [value_info_json(v) for v in g.value_info],
    }


def main():
    expected = {"onnx_version": onnx.__version__}
    for name, model in (("cnn.onnx", cnn_model()), ("attrs.onnx", attrs_model())):
        onnx.save(model, os.path.join(HERE, name))
        back = onnx.load(os.path.join(HERE, name))  # what onnx itself reads
        expected[name] = model_json(back)
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
