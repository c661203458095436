#!/usr/bin/env python3
"""Make an ONNX model's batch dimension dynamic.

Several shipped files were exported for one image per run: their input and
outputs declare 1 as the first dimension, and some spell the 1 out inside
the graph too. This rewrites, and only this:

- the first dimension of every graph input and output that declares 1
  becomes the symbol "batch";
- a Reshape whose target shape is a constant starting with 1 gets 0 there
  (Reshape's "copy this dimension from the input"), so the batch passes
  through; every such Reshape in these graphs reshapes a tensor whose first
  dimension is the batch;
- a Concat that appends zeros made by ConstantOfShape of a constant shape
  starting with 1 (the TensorFlow converter's spelling of a channel Pad,
  BlazeFace's) becomes that Pad: the same zeros, for any batch;
- the inferred intermediate shapes (value_info), which say batch 1, are
  dropped; onnxruntime infers them again at load.

Weights, every other node and every other constant are untouched. Any
other constant shape that starts with 1 (of a Reshape, Expand or
ConstantOfShape) stops the script rather than being guessed at.
Rerunning on a converted file changes nothing, and the output is
byte-identical from run to run.

    /usr/bin/python3 models/convert/batch_dynamic.py IN.onnx OUT.onnx

Needs python3-onnx (Debian). For the files it made, see models/README.md,
"Batch dimension".
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

BATCH = "batch"


def set_batch(value_info):
    """Names the first dimension of a graph input or output when it is 1."""
    dims = value_info.type.tensor_type.shape.dim
    if dims and dims[0].HasField("dim_value") and dims[0].dim_value == 1:
        dims[0].ClearField("dim_value")
        dims[0].dim_param = BATCH


def constants(graph):
    """Returns the int64 constants: initializers and Constant nodes' tensors."""
    out = {}
    for t in graph.initializer:
        if t.data_type == onnx.TensorProto.INT64:
            out[t.name] = t
    for n in graph.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            t = n.attribute[0].t
            if t.data_type == onnx.TensorProto.INT64:
                out[n.output[0]] = t
    return out


def consumers(graph):
    uses = {}
    for n in graph.node:
        for i in n.input:
            uses.setdefault(i, []).append(n)
    return uses


def starts_with_one(t):
    a = numpy_helper.to_array(t)
    return a.ndim == 1 and a.size > 0 and a[0] == 1


def fix_reshapes(graph, consts, uses):
    for n in graph.node:
        if n.op_type != "Reshape" or n.input[1] not in consts:
            continue
        t = consts[n.input[1]]
        if not starts_with_one(t):
            continue
        if any(u.op_type != "Reshape" or list(u.input).index(n.input[1]) != 1 for u in uses[n.input[1]]):
            sys.exit(f"shape {n.input[1]} of Reshape {n.name} is used elsewhere; not rewritten")
        a = numpy_helper.to_array(t).copy()
        a[0] = 0
        t.CopyFrom(numpy_helper.from_array(a, t.name))


def fix_zero_pads(graph, consts, uses):
    """Turns Concat(x, ConstantOfShape([1,...])) into Pad(x) on that axis."""
    drop_nodes, drop_inits = set(), set()
    init_names = {t.name for t in graph.initializer}
    for i, n in enumerate(graph.node):
        if n.op_type != "ConstantOfShape" or n.input[0] not in consts:
            continue
        shape = consts[n.input[0]]
        if not starts_with_one(shape):
            continue
        for a in n.attribute:
            if a.name == "value" and np.any(numpy_helper.to_array(a.t) != 0):
                sys.exit(f"ConstantOfShape {n.output[0]} fills a non-zero value; not rewritten")
        users = uses.get(n.output[0], [])
        if len(users) != 1 or users[0].op_type != "Concat" or list(users[0].input)[1:] != [n.output[0]]:
            sys.exit(f"ConstantOfShape {n.output[0]} is not appended by one Concat; not rewritten")
        cat = users[0]
        axis = next(a.i for a in cat.attribute if a.name == "axis")
        dims = numpy_helper.to_array(shape)
        rank = dims.size
        if axis < 0:
            axis += rank
        if axis == 0:
            sys.exit(f"Concat {cat.output[0]} appends along the batch; not rewritten")
        pads = np.zeros(2 * rank, dtype=np.int64)
        pads[rank + axis] = dims[axis]
        pads_name = cat.output[0] + "_pads"
        graph.initializer.append(numpy_helper.from_array(pads, pads_name))
        pad = helper.make_node("Pad", [cat.input[0], pads_name], [cat.output[0]],
                               name=(cat.name or cat.output[0]) + "_pad", mode="constant")
        graph.node[list(graph.node).index(cat)].CopyFrom(pad)
        drop_nodes.add(i)
        if len(uses[n.input[0]]) == 1 and n.input[0] in init_names:
            drop_inits.add(n.input[0])
    nodes = [n for i, n in enumerate(graph.node) if i not in drop_nodes]
    del graph.node[:]
    graph.node.extend(nodes)
    inits = [t for t in graph.initializer if t.name not in drop_inits]
    del graph.initializer[:]
    graph.initializer.extend(inits)


def check_left(graph):
    """Stops on any other constant shape that still spells out batch 1."""
    consts = constants(graph)
    shape_inputs = {"Reshape": 1, "Expand": 1, "ConstantOfShape": 0}
    for n in graph.node:
        k = shape_inputs.get(n.op_type)
        if k is None or len(n.input) <= k or n.input[k] not in consts:
            continue
        if starts_with_one(consts[n.input[k]]):
            sys.exit(f"{n.op_type} {n.name or n.output[0]} still fixes batch 1 ({n.input[k]})")


def main(src, dst):
    m = onnx.load(src)
    g = m.graph
    inits = {t.name for t in g.initializer}
    for v in g.input:
        if v.name not in inits:
            set_batch(v)
    for v in g.output:
        set_batch(v)
    fix_reshapes(g, constants(g), consumers(g))
    fix_zero_pads(g, constants(g), consumers(g))
    check_left(g)
    del g.value_info[:]
    onnx.checker.check_model(m)
    onnx.save(m, dst)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: batch_dynamic.py IN.onnx OUT.onnx")
    main(sys.argv[1], sys.argv[2])
