"""Exports a c2f checkpoint to ONNX: c2f-models --export-onnx runs this (or run it yourself).

    python3 export_onnx.py CHECKPOINT OUT.onnx

The graph is the network of c2f_models.py with the sigmoid c2f applies after it:
    input  "slices"         float32 [batch, 3, height, width]: slices k-1, k, k+1 of one view,
                            HU windowed to [0, 1] (the checkpoint's window, see the metadata)
    output "probabilities"  float32 [batch, 3, height, width]
Batch, height and width are free (dynamic axes); opset 13, standard operators only, so
ONNX Runtime, Triton or OpenCV's DNN module run it. OpenCV 4.6 folds shapes when it imports a
graph, so c2f's OpenCV back end imports it once per input shape (model/onnx_inference.cpp).
The metadata holds c2f_info (the checkpoint's info as JSON: model, scale, view, window_hu,
spacing_mm, weights_crc32) and c2f_format = 1.
"""
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from c2f_models import load_checkpoint  # noqa: E402

OPSET = 13


class WithSigmoid(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.sigmoid(self.net(x))


def export(checkpoint, out):
    import onnx  # Debian: python3-onnx

    net, info = load_checkpoint(checkpoint)
    x = torch.rand(1, 3, 64, 64)
    axes = {0: "batch", 2: "height", 3: "width"}
    tmp = out + ".tmp"
    with torch.no_grad():
        torch.onnx.export(WithSigmoid(net), x, tmp, opset_version=OPSET, input_names=["slices"],
                          output_names=["probabilities"], dynamic_axes={"slices": axes, "probabilities": axes},
                          do_constant_folding=True)
    model = onnx.load(tmp)
    for key, value in (("c2f_info", json.dumps(info, sort_keys=True)), ("c2f_format", "1")):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = "c2f"
    onnx.checker.check_model(model)
    onnx.save(model, tmp)
    os.replace(tmp, out)  # a finished file or none
    return info


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: export_onnx.py CHECKPOINT OUT.onnx")
    import warnings

    warnings.filterwarnings("ignore")  # the tracer's notes on shape arithmetic: expected here
    info = export(sys.argv[1], sys.argv[2])
    print(f"{sys.argv[1]} -> {sys.argv[2]} ({info['model']} {info['scale']} {info['view']}, opset {OPSET})")
