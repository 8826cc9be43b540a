"""Small generated ONNX models with the real models' signatures (opset 17), for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def make_scrfd(path: Path, size: int = 640, seed: int = 0) -> Path:
    """SCRFD-shaped: input [1,3,S,S] -> 9 outputs (scores, bbox, kps for strides 8, 16, 32) with
    2 anchors per cell. Values are a deterministic function of the image."""
    rng = np.random.default_rng(seed)
    nodes, inits, outputs = [], [], []
    heads: dict[str, list[str]] = {"score": [], "bbox": [], "kps": []}
    for stride in (8, 16, 32):
        pooled = f"pool{stride}"
        nodes.append(
            helper.make_node(
                "AveragePool",
                ["input.1"],
                [pooled],
                kernel_shape=[stride, stride],
                strides=[stride, stride],
            )
        )
        for head, channels in (("score", 2), ("bbox", 8), ("kps", 20)):
            w = rng.normal(0, 2.0, (channels, 3, 1, 1)).astype(np.float32)
            b = np.full(channels, -1.0 if head == "score" else 0.0, dtype=np.float32)
            if head == "bbox":
                b[:] = 1.5
            inits += [
                numpy_helper.from_array(w, f"w_{head}{stride}"),
                numpy_helper.from_array(b, f"b_{head}{stride}"),
            ]
            conv = f"conv_{head}{stride}"
            nodes.append(
                helper.make_node("Conv", [pooled, f"w_{head}{stride}", f"b_{head}{stride}"], [conv])
            )
            act = conv
            if head == "score":
                act = f"sig{stride}"
                nodes.append(helper.make_node("Sigmoid", [conv], [act]))
            elif head == "bbox":
                act = f"relu{stride}"
                nodes.append(helper.make_node("Softplus", [conv], [act]))
            tr = f"tr_{head}{stride}"
            nodes.append(helper.make_node("Transpose", [act], [tr], perm=[0, 2, 3, 1]))
            shape = np.array([-1, channels // 2], dtype=np.int64)
            inits.append(numpy_helper.from_array(shape, f"shape_{head}{stride}"))
            name = f"{head}_{stride}"
            nodes.append(helper.make_node("Reshape", [tr, f"shape_{head}{stride}"], [name]))
            heads[head].append(name)
    for head, width in (("score", 1), ("bbox", 4), ("kps", 10)):
        for name in heads[head]:
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, width]))
    graph = helper.make_graph(
        nodes,
        "scrfd_like",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, size, size])],
        outputs,
        inits,
    )
    return _save(graph, path)


def make_arcface(path: Path, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 1, (3 * 16, 512)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node(
                "AveragePool", ["input.1"], ["p"], kernel_shape=[28, 28], strides=[28, 28]
            ),
            helper.make_node("Flatten", ["p"], ["f"]),
            helper.make_node("MatMul", ["f", "w"], ["683"]),
        ],
        "arcface_like",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, [1, 512])],
        [numpy_helper.from_array(w, "w")],
    )
    return _save(graph, path)


def make_inswapper(path: Path, seed: int = 2, batch: int | str = 1, identity: bool = True) -> Path:
    """inswapper-shaped: target [B,3,128,128] + source [B,512] -> output [B,3,128,128], with a
    512x512 ``emap`` as the last initializer. ``identity`` returns the target unchanged."""
    rng = np.random.default_rng(seed)
    emap = rng.normal(0, 1, (512, 512)).astype(np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["source"], ["m"], axes=[1], keepdims=1),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Unsqueeze", ["z", "axes"], ["z4"]),
    ]
    if identity:
        nodes.append(helper.make_node("Add", ["target", "z4"], ["output"]))
    else:
        nodes += [
            helper.make_node("Sub", ["one", "target"], ["inv"]),
            helper.make_node("Add", ["inv", "z4"], ["output"]),
        ]
    inits = [
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
        numpy_helper.from_array(emap, "emap"),
    ]
    graph = helper.make_graph(
        nodes,
        "inswapper_like",
        [
            helper.make_tensor_value_info("target", TensorProto.FLOAT, [batch, 3, 128, 128]),
            helper.make_tensor_value_info("source", TensorProto.FLOAT, [batch, 512]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, 3, 128, 128])],
        inits,
    )
    return _save(graph, path)


def make_gfpgan(path: Path) -> Path:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["output"])],
        "gfpgan_like",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 512, 512])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 512, 512])],
    )
    return _save(graph, path)


def make_parser(path: Path, batch: int | str = 1) -> Path:
    """BiSeNet-shaped: input [B,3,512,512] (ImageNet-normalised RGB) -> class scores
    [B,19,512,512] plus two auxiliary heads (as some exports have). A pixel whose green exceeds
    its red by more than 0.2 (of 255) is background (class 0), every other pixel skin (1)."""
    mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
    std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)
    nodes = [
        helper.make_node("Mul", ["input", "std"], ["scaled"]),
        helper.make_node("Add", ["scaled", "mean"], ["rgb"]),
        helper.make_node("Slice", ["rgb", "s0", "s1", "ax1"], ["r"]),
        helper.make_node("Slice", ["rgb", "s1", "s2", "ax1"], ["g"]),
        helper.make_node("Sub", ["g", "r"], ["gr"]),
        helper.make_node("Sub", ["gr", "margin"], ["over"]),
        helper.make_node("Mul", ["over", "gain"], ["background"]),
        helper.make_node("Mul", ["background", "zero"], ["zeros"]),
        helper.make_node("Add", ["zeros", "low"], ["rest1"]),
        helper.make_node("Tile", ["rest1", "reps"], ["rest"]),
        helper.make_node("Concat", ["background", "zeros", "rest"], ["output"], axis=1),
        helper.make_node("Identity", ["output"], ["aux16"]),
        helper.make_node("Identity", ["output"], ["aux32"]),
    ]
    inits = [
        numpy_helper.from_array(mean, "mean"),
        numpy_helper.from_array(std, "std"),
        numpy_helper.from_array(np.array([0], np.int64), "s0"),
        numpy_helper.from_array(np.array([1], np.int64), "s1"),
        numpy_helper.from_array(np.array([2], np.int64), "s2"),
        numpy_helper.from_array(np.array([1], np.int64), "ax1"),
        numpy_helper.from_array(np.array(0.2, np.float32), "margin"),
        numpy_helper.from_array(np.array(50.0, np.float32), "gain"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(np.array(-10.0, np.float32), "low"),
        numpy_helper.from_array(np.array([1, 17, 1, 1], np.int64), "reps"),
    ]
    scores = [batch, 19, 512, 512]
    graph = helper.make_graph(
        nodes,
        "bisenet_like",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, 512, 512])],
        [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, scores)
            for n in ("output", "aux16", "aux32")
        ],
        inits,
    )
    return _save(graph, path)


def make_ghost(path: Path, batch: int | str = 1, tint: bool = False) -> Path:
    """GHOST-shaped, inputs in the order source [B,512], target [B,3,256,256] (in [-1, 1]) ->
    output [B,3,256,256] in [-1, 1]: the target unchanged, or (``tint``) half the target plus
    half tanh of the source's first three values per channel (each face's identity shows in
    its colour)."""
    nodes = [
        helper.make_node("Slice", ["source", "zero_i", "three", "one_i"], ["rgb"]),
        helper.make_node("Tanh", ["rgb"], ["bounded"]),
        helper.make_node("Unsqueeze", ["bounded", "axes"], ["rgb4"]),
    ]
    if tint:
        nodes += [
            helper.make_node("Add", ["target", "rgb4"], ["sum"]),
            helper.make_node("Mul", ["sum", "half"], ["output"]),
        ]
    else:
        nodes += [
            helper.make_node("Mul", ["rgb4", "zero"], ["z"]),
            helper.make_node("Add", ["target", "z"], ["output"]),
        ]
    inits = [
        numpy_helper.from_array(np.array([0], np.int64), "zero_i"),
        numpy_helper.from_array(np.array([3], np.int64), "three"),
        numpy_helper.from_array(np.array([1], np.int64), "one_i"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
    ]
    graph = helper.make_graph(
        nodes,
        "ghost_like",
        [
            helper.make_tensor_value_info("source", TensorProto.FLOAT, [batch, 512]),
            helper.make_tensor_value_info("target", TensorProto.FLOAT, [batch, 3, 256, 256]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, 3, 256, 256])],
        inits,
    )
    return _save(graph, path)


def make_converter(path: Path, seed: int = 3) -> tuple[Path, np.ndarray, np.ndarray]:
    """crossface-shaped: input [1,512] -> output [1,512] = input @ W + b. Returns W and b."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.1, (512, 512)).astype(np.float32)
    b = rng.normal(0, 0.1, (512,)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["input", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["output"]),
        ],
        "crossface_like",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 512])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 512])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    return _save(graph, path), w, b
