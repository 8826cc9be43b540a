"""Write random-weight ONNX models with the real architectures' shapes and FLOPs, for speed
benchmarks where the real weights cannot be had (speed does not depend on weight values).

    python benchmarks/make_models.py OUT_DIR [--fp16] [--scale 1.0]

Writes det_10g.onnx (SCRFD-10G-sized, the 9 real outputs), w600k_r50.onnx (ArcFace R50-sized),
inswapper_128.onnx (encoder to 1024x32x32, 6 residual AdaIN blocks of two 3x3 1024-channel
convs, decoder; ~138 M parameters; ``emap`` last) and GFPGANv1.4.onnx (a 512->512 U-Net of
GFPGAN's size). Batch dimensions are dynamic. ``--fp16`` stores weights and I/O in float16
(file names get ``_fp16``). ``--scale`` shrinks channel counts (tests use 1/16).
onnx.helper + numpy only, no torch.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper


@dataclass
class Graph:
    dtype: type = np.float32
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    count: int = 0
    params: int = 0
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def weight(self, shape: tuple[int, ...], std: float | None = None) -> str:
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        scale = std if std is not None else (1.0 / max(fan_in, 1)) ** 0.5
        name = self.name("w")
        data: npt.NDArray[Any] = (self.rng.standard_normal(shape, dtype=np.float32) * scale).astype(
            self.dtype
        )
        self.inits.append(numpy_helper.from_array(data, name))
        self.params += data.size
        return name

    def const(self, value: np.ndarray) -> str:
        name = self.name("c")
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def op(self, kind: str, inputs: list[str], **attrs: Any) -> str:
        out = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def conv(
        self,
        x: str,
        cin: int,
        cout: int,
        k: int = 3,
        stride: int = 1,
        act: str | None = "LeakyRelu",
    ) -> str:
        w = self.weight((cout, cin, k, k))
        b = self.weight((cout,), std=0.01)
        y = self.op(
            "Conv", [x, w, b], kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4
        )
        if act == "LeakyRelu":
            return self.op("LeakyRelu", [y], alpha=0.2)
        if act:
            return self.op(act, [y])
        return y

    def upsample(self, x: str) -> str:
        scales = self.const(np.array([1, 1, 2, 2], dtype=np.float32))
        return self.op("Resize", [x, "", scales], mode="nearest")


def _widths(scale: float) -> Callable[[int], int]:
    """The channel count a layer of ``n`` channels gets at ``scale`` (at least 4)."""

    def width(n: int) -> int:
        return max(4, int(n * scale))

    return width


def _tensor(dtype: type) -> int:
    return TensorProto.FLOAT16 if dtype == np.float16 else TensorProto.FLOAT


def _save(
    g: Graph,
    name: str,
    inputs: list[onnx.ValueInfoProto],
    outputs: list[onnx.ValueInfoProto],
    path: Path,
) -> int:
    graph = helper.make_graph(g.nodes, name, inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return g.params


def inswapper(path: Path, dtype: type, scale: float) -> int:
    g = Graph(dtype)
    t = _tensor(dtype)
    c = _widths(scale)
    x = g.conv("target", 3, c(128), k=7)
    x = g.conv(x, c(128), c(256), stride=2)  # 64x64
    x = g.conv(x, c(256), c(512), stride=2)  # 32x32
    x = g.conv(x, c(512), c(1024))  # 1024x32x32
    ones = g.const(np.ones(c(1024), dtype=dtype))
    zeros = g.const(np.zeros(c(1024), dtype=dtype))
    shape = g.const(np.array([-1, c(1024), 1, 1], dtype=np.int64))
    one = g.const(np.array(1.0, dtype=dtype))
    halves = g.const(np.array([c(1024), c(1024)], dtype=np.int64))

    def adain(h: str) -> str:
        normed = g.op("InstanceNormalization", [h, ones, zeros], epsilon=1e-5)
        style = g.op(
            "Gemm",
            ["source", g.weight((c(1024) * 2, 512)), g.weight((c(1024) * 2,), std=0.01)],
            transB=1,
        )
        gamma, beta = g.name("gamma"), g.name("beta")
        g.nodes.append(helper.make_node("Split", [style, halves], [gamma, beta], axis=1))
        gamma4 = g.op("Reshape", [gamma, shape])
        beta4 = g.op("Reshape", [beta, shape])
        return g.op("Add", [g.op("Mul", [normed, g.op("Add", [gamma4, one])]), beta4])

    for _ in range(6):
        h = g.conv(x, c(1024), c(1024), act=None)
        h = g.op("Relu", [adain(h)])
        h = g.conv(h, c(1024), c(1024), act=None)
        x = g.op("Add", [x, adain(h)])
    x = g.conv(g.upsample(x), c(1024), c(512))  # 64x64
    x = g.conv(g.upsample(x), c(512), c(256))  # 128x128
    x = g.conv(x, c(256), c(128))
    x = g.conv(x, c(128), 3, k=7, act="Sigmoid")
    g.nodes.append(helper.make_node("Identity", [x], ["output"]))
    emap = (np.random.default_rng(1).standard_normal((512, 512)) / 22.6).astype(np.float32)
    g.inits.append(numpy_helper.from_array(emap, "emap"))  # last initializer, as in inswapper
    g.params += emap.size
    return _save(
        g,
        "inswapper_128_bench",
        [
            helper.make_tensor_value_info("target", t, ["N", 3, 128, 128]),
            helper.make_tensor_value_info("source", t, ["N", 512]),
        ],
        [helper.make_tensor_value_info("output", t, ["N", 3, 128, 128])],
        path,
    )


def arcface(path: Path, dtype: type, scale: float) -> int:
    """IResNet-50-sized: stages of 3, 4, 14, 3 residual blocks (64..512 channels)."""
    g = Graph(dtype)
    t = _tensor(dtype)
    c = _widths(scale)
    x = g.conv("input.1", 3, c(64))
    cin = c(64)
    for blocks, width in ((3, 64), (4, 128), (14, 256), (3, 512)):
        for index in range(blocks):
            stride = 2 if index == 0 else 1
            h = g.conv(x, cin, c(width), stride=1)
            h = g.conv(h, c(width), c(width), stride=stride, act=None)
            skip = g.conv(x, cin, c(width), k=1, stride=stride, act=None) if index == 0 else x
            x = g.op("Add", [h, skip])
            cin = c(width)
    x = g.op("Flatten", [x])
    x = g.op("Gemm", [x, g.weight((512, cin * 7 * 7)), g.weight((512,), std=0.01)], transB=1)
    g.nodes.append(helper.make_node("Identity", [x], ["683"]))
    return _save(
        g,
        "arcface_bench",
        [helper.make_tensor_value_info("input.1", t, ["N", 3, 112, 112])],
        [helper.make_tensor_value_info("683", t, ["N", 512])],
        path,
    )


def scrfd(path: Path, dtype: type, scale: float, size: int = 640) -> int:
    """SCRFD-10G-sized backbone and neck; 9 outputs (scores, boxes, keypoints x 3 strides)."""
    g = Graph(dtype)
    t = _tensor(dtype)
    c = _widths(scale)
    x = g.conv("input.1", 3, c(56), stride=2)  # 320
    x = g.conv(x, c(56), c(56), stride=2)  # 160
    x = g.conv(x, c(56), c(88), stride=2)  # 80 (stride 8)
    for _ in range(3):
        x = g.conv(x, c(88), c(88))
    feats = [x]
    for cin, cout in ((88, 88), (88, 224)):
        x = g.conv(x, c(cin), c(cout), stride=2)
        for _ in range(3):
            x = g.conv(x, c(cout), c(cout))
        feats.append(x)
    outputs: dict[str, list[str]] = {"score": [], "bbox": [], "kps": []}
    for feat, cin in zip(feats, (88, 88, 224), strict=True):
        h = g.conv(g.conv(feat, c(cin), c(80)), c(80), c(80))
        for head, channels in (("score", 2), ("bbox", 8), ("kps", 20)):
            y = g.conv(h, c(80), channels, act=None)
            if head == "score":
                # A real detector scores nearly every anchor near 0; random weights would score
                # half of them above 0.5 and turn NMS into the benchmark.
                y = g.op("Sigmoid", [g.op("Add", [y, g.const(np.array(-12.0, dtype=dtype))])])
            y = g.op("Transpose", [y], perm=[0, 2, 3, 1])
            shape = g.const(np.array([-1, channels // 2], dtype=np.int64))
            outputs[head].append(g.op("Reshape", [y, shape]))
    names = []
    for head in ("score", "bbox", "kps"):
        for index, node in enumerate(outputs[head]):
            name = f"{head}_{8 << index}"
            g.nodes.append(helper.make_node("Identity", [node], [name]))
            names.append(name)
    widths = {"score": 1, "bbox": 4, "kps": 10}
    return _save(
        g,
        "scrfd_bench",
        [helper.make_tensor_value_info("input.1", t, [1, 3, size, size])],
        [helper.make_tensor_value_info(n, t, [None, widths[n.split("_")[0]]]) for n in names],
        path,
    )


def gfpgan(path: Path, dtype: type, scale: float) -> int:
    """A 512->512 U-Net with GFPGAN v1.4's channel widths (32..512 down to 8x8 and back)."""
    g = Graph(dtype)
    t = _tensor(dtype)
    c = _widths(scale)
    widths = [32, 64, 128, 256, 512, 512, 512]  # 512 .. 8
    x = g.conv("input", 3, c(32))
    skips, cin = [], c(32)
    for width in widths[1:]:
        x = g.conv(x, cin, c(width), stride=2)
        x = g.conv(x, c(width), c(width))
        skips.append((x, c(width)))
        cin = c(width)
    for (skip, width), out in zip(reversed(skips[:-1]), reversed(widths[1:-1]), strict=True):
        x = g.conv(g.upsample(x), cin, c(out))
        x = g.op("Add", [x, skip]) if width == c(out) else x
        x = g.conv(x, c(out), c(out))
        x = g.conv(x, c(out), c(out))
        cin = c(out)
    x = g.conv(g.upsample(x), cin, c(32))
    x = g.conv(x, c(32), 3, act="Tanh")
    g.nodes.append(helper.make_node("Identity", [x], ["output"]))
    return _save(
        g,
        "gfpgan_bench",
        [helper.make_tensor_value_info("input", t, [1, 3, 512, 512])],
        [helper.make_tensor_value_info("output", t, [1, 3, 512, 512])],
        path,
    )


def write_all(out: Path, fp16: bool = False, scale: float = 1.0) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    dtype = np.float16 if fp16 else np.float32
    swapper = "inswapper_128_fp16.onnx" if fp16 else "inswapper_128.onnx"
    # det_10g and w600k_r50 are published in fp32 only: they stay fp32 in the fp16 set.
    return {
        "det_10g.onnx": scrfd(out / "det_10g.onnx", np.float32, scale),
        "w600k_r50.onnx": arcface(out / "w600k_r50.onnx", np.float32, scale),
        swapper: inswapper(out / swapper, dtype, scale),
        "GFPGANv1.4.onnx": gfpgan(out / "GFPGANv1.4.onnx", dtype, scale),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--fp16", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    for file, params in write_all(args.out, args.fp16, args.scale).items():
        print(f"{file}: {params / 1e6:.1f} M parameters")
