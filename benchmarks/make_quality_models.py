"""Random-weight models of the neural quality features' real shapes and sizes, for speed
benchmarks (see make_models.py for the others; speed does not depend on weight values).

    python benchmarks/make_quality_models.py OUT_DIR [--fp16] [--scale 1.0]

Writes bisenet_resnet_34.onnx (a BiSeNet face parser with a ResNet-34 context path at 512 px,
a spatial path and the 19-class head upsampled to 512; bisenet_resnet_18.onnx the same with
ResNet-18's blocks), ghost_3_256.onnx (a GHOST-sized
256 px generator: a U-Net encoder to 1024 x 4 x 4 and an AAD decoder whose every level takes
the identity vector; inputs in GHOST's order, source first) and crossface_ghost.onnx (the
512 -> 512 embedding converter, an MLP of its size). onnx.helper + numpy only, no torch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_models import Graph, _save, _tensor, _widths


def bisenet(path: Path, dtype: type, scale: float, layers: tuple[int, ...] = (3, 4, 6, 3)) -> int:
    g = Graph(dtype)
    t = _tensor(dtype)
    c = _widths(scale)
    x = g.conv("input", 3, c(64), k=7, stride=2, act="Relu")  # 256
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])  # 128
    cin, feats = c(64), []
    for blocks, width in zip(layers, (64, 128, 256, 512), strict=True):
        for index in range(blocks):
            stride = 2 if index == 0 and width > 64 else 1
            h = g.conv(x, cin, c(width), stride=stride, act="Relu")
            h = g.conv(h, c(width), c(width), act=None)
            skip = g.conv(x, cin, c(width), k=1, stride=stride, act=None) if stride == 2 else x
            x = g.op("Relu", [g.op("Add", [h, skip])])
            cin = c(width)
        feats.append(x)
    # context path: attention refinement on 1/32 and 1/16, upsampled to 1/8
    f16, f32 = feats[2], feats[3]
    a32 = g.upsample(g.conv(f32, c(512), c(128), act="Relu"))
    a16 = g.op("Add", [g.conv(f16, c(256), c(128), act="Relu"), a32])
    context = g.upsample(g.conv(a16, c(128), c(128), act="Relu"))  # 1/8
    # spatial path: three stride-2 convs to 1/8
    s = g.conv("input", 3, c(64), k=7, stride=2, act="Relu")
    s = g.conv(s, c(64), c(64), stride=2, act="Relu")
    s = g.conv(s, c(64), c(128), stride=2, act="Relu")
    fused = g.conv(g.op("Concat", [s, context], axis=1), c(256), c(256), k=1, act="Relu")
    head = g.conv(g.conv(fused, c(256), c(256), act="Relu"), c(256), 19, k=1, act=None)
    scales = g.const(np.array([1, 1, 8, 8], dtype=np.float32))
    out = g.op("Resize", [head, "", scales], mode="linear")
    g.nodes.append(helper.make_node("Identity", [out], ["output"]))
    return _save(
        g,
        "bisenet_bench",
        [helper.make_tensor_value_info("input", t, ["N", 3, 512, 512])],
        [helper.make_tensor_value_info("output", t, ["N", 19, 512, 512])],
        path,
    )


def ghost(path: Path, dtype: type, scale: float) -> int:
    g = Graph(dtype)
    t = _tensor(dtype)
    c = _widths(scale)
    widths = [32, 64, 128, 256, 512, 1024, 1024]  # 128 px .. 2 px
    x, cin, skips = "target", 3, []
    for width in widths:
        x = g.conv(x, cin, c(width), stride=2)
        skips.append((x, c(width)))
        cin = c(width)
    shape_of: dict[int, tuple[str, str, str]] = {}

    def aad(h: str, ch: int, attr: str) -> str:
        """Adaptive attentional denormalisation: instance norm, then a scale and shift from
        the source vector and another from the target's attribute features."""
        if ch not in shape_of:
            shape_of[ch] = (
                g.const(np.ones(ch, dtype=dtype)),
                g.const(np.zeros(ch, dtype=dtype)),
                g.const(np.array([-1, ch, 1, 1], dtype=np.int64)),
            )
        ones, zeros, shape = shape_of[ch]
        normed = g.op("InstanceNormalization", [h, ones, zeros], epsilon=1e-5)
        gamma = g.op("Gemm", ["source", g.weight((ch, 512)), g.weight((ch,), std=0.01)], transB=1)
        beta = g.op("Gemm", ["source", g.weight((ch, 512)), g.weight((ch,), std=0.01)], transB=1)
        by_id = g.op(
            "Add",
            [
                g.op("Mul", [normed, g.op("Reshape", [gamma, shape])]),
                g.op("Reshape", [beta, shape]),
            ],
        )
        a_gamma = g.conv(attr, ch, ch, act=None)
        a_beta = g.conv(attr, ch, ch, act=None)
        by_attr = g.op("Add", [g.op("Mul", [normed, a_gamma]), a_beta])
        mask = g.op("Sigmoid", [g.conv(h, ch, 1, act=None)])
        keep = g.op("Sub", [g.const(np.array(1.0, dtype=dtype)), mask])
        return g.op("Add", [g.op("Mul", [by_id, mask]), g.op("Mul", [by_attr, keep])])

    def block(x: str, width: int, attr: str) -> str:
        h = g.conv(g.op("Relu", [aad(x, width, attr)]), width, width, act=None)
        h = g.conv(g.op("Relu", [aad(h, width, attr)]), width, width, act=None)
        return g.op("Add", [x, h])

    bottom = skips[-1][0]
    for _ in range(1):  # an identity block at the bottleneck
        x = block(x, cin, bottom)
    for skip, width in reversed(skips[:-1]):
        x = g.upsample(x)
        x = g.conv(g.op("Concat", [x, skip], axis=1), cin + width, width, act=None)
        x, cin = block(x, width, skip), width
    x = g.conv(g.upsample(x), cin, 3, act="Tanh")  # 256
    g.nodes.append(helper.make_node("Identity", [x], ["output"]))
    return _save(
        g,
        "ghost_bench",
        [
            helper.make_tensor_value_info("source", t, [1, 512]),
            helper.make_tensor_value_info("target", t, [1, 3, 256, 256]),
        ],
        [helper.make_tensor_value_info("output", t, [1, 3, 256, 256])],
        path,
    )


def crossface(path: Path, dtype: type, scale: float) -> int:
    g = Graph(dtype)
    t = _tensor(dtype)
    c = _widths(scale)
    x = "input"
    for cin, cout in ((512, c(2048)), (c(2048), c(2048)), (c(2048), 512)):
        x = g.op("Gemm", [x, g.weight((cout, cin)), g.weight((cout,), std=0.01)], transB=1)
        if cout != 512:
            x = g.op("Relu", [x])
    g.nodes.append(helper.make_node("Identity", [x], ["output"]))
    return _save(
        g,
        "crossface_bench",
        [helper.make_tensor_value_info("input", t, [1, 512])],
        [helper.make_tensor_value_info("output", t, [1, 512])],
        path,
    )


def write_all(out: Path, fp16: bool = False, scale: float = 1.0) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    dtype = np.float16 if fp16 else np.float32
    return {
        "bisenet_resnet_34.onnx": bisenet(out / "bisenet_resnet_34.onnx", dtype, scale),
        "bisenet_resnet_18.onnx": bisenet(
            out / "bisenet_resnet_18.onnx", dtype, scale, layers=(2, 2, 2, 2)
        ),
        "ghost_3_256.onnx": ghost(out / "ghost_3_256.onnx", dtype, scale),
        "crossface_ghost.onnx": crossface(out / "crossface_ghost.onnx", np.float32, scale),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--fp16", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    for file, params in write_all(args.out, args.fp16, args.scale).items():
        print(f"{file}: {params / 1e6:.1f} M parameters")
