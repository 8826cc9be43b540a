"""Small ONNX graphs that do the neural engine's image work where its models run: the aligned
crop (with the swapper's normalisation) and the paste-back (with LAB colour transfer,
sharpening and feathered blending). On a GPU the frame (its window around the faces) goes up
and down once; between the stages it stays on the device (see ``compositing.device``).

Sampling is our own bilinear gather (Floor/Gather/Mul) rather than GridSample: GridSample's
CUDA kernel is registered for some opsets and domains only and silently falls back to the CPU
otherwise, while Gather runs on every execution provider. The geometry matches OpenCV's
``warpAffine`` (pixel centres at integer coordinates, black outside the frame)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vcamswap.compositing.graphs_color import color_transfer
from vcamswap.inference.onnxgraph import GraphBuilder, Shape, tensor_type, value_info


def _padded_table(g: GraphBuilder, images: str, channels: int) -> str:
    """[N, H, W, C] float -> a one-pixel black border on H and W, flattened to [P, C] (the
    images one after another)."""
    padded = g.op("Pad", images, g.const([0, 1, 1, 0, 0, 1, 1, 0], np.int64), mode="constant")
    return g.op("Reshape", padded, g.const([-1, channels], np.int64))


def _sample(
    g: GraphBuilder, table: str, x: str, y: str, width: str, height: str, base: str | None
) -> str:
    """Bilinear samples at (x, y) (float, any shape Q, pixel coordinates of the unpadded
    image) from ``table`` (padded, flattened [P, C]); out of range reads the black border.
    ``width``/``height``: the padded size as float scalars; ``base``: int64 row offset of each
    sample's image inside ``table`` (broadcast to Q) or None. Returns Q + [C]."""
    one = g.const(1.0)
    zero = g.const(0.0)
    last_x = g.op("Sub", width, one)
    last_y = g.op("Sub", height, one)
    x0, y0 = g.op("Floor", x), g.op("Floor", y)
    fx, fy = g.op("Sub", x, x0), g.op("Sub", y, y0)

    def index(v: str, shift: float, last: str) -> str:
        shifted = g.op("Add", v, g.const(shift))
        return g.op("Max", g.op("Min", shifted, last), zero)

    xa, xb = index(x0, 1.0, last_x), index(x0, 2.0, last_x)
    ya, yb = index(y0, 1.0, last_y), index(y0, 2.0, last_y)
    w64 = g.op("Cast", width, to=7)

    def gather(yi: str, xi: str) -> str:
        flat = g.op("Add", g.op("Mul", g.op("Cast", yi, to=7), w64), g.op("Cast", xi, to=7))
        if base is not None:
            flat = g.op("Add", flat, base)
        return g.op("Gather", table, flat, axis=0)

    def weight(w: str) -> str:
        return g.op("Unsqueeze", w, g.const([-1], np.int64))

    gx, gy = g.op("Sub", one, fx), g.op("Sub", one, fy)
    terms = [
        g.op("Mul", gather(ya, xa), weight(g.op("Mul", gx, gy))),
        g.op("Mul", gather(ya, xb), weight(g.op("Mul", fx, gy))),
        g.op("Mul", gather(yb, xa), weight(g.op("Mul", gx, fy))),
        g.op("Mul", gather(yb, xb), weight(g.op("Mul", fx, fy))),
    ]
    return g.op("Sum", *terms)


def _sample_frame(g: GraphBuilder, table: str, x: str, y: str, width: str, height: str) -> str:
    """Like ``_sample`` but straight from the unpadded uint8 frame ([H * W, C], no full-frame
    cast or pad): neighbours outside the frame get weight 0. Returns Q + [C] float."""
    one, zero = g.const(1.0), g.const(0.0)
    x0, y0 = g.op("Floor", x), g.op("Floor", y)
    fx, fy = g.op("Sub", x, x0), g.op("Sub", y, y0)

    def neighbours(v0: str, frac: str, size: str) -> list[tuple[str, str]]:
        """(clamped index, weight) for v0 and v0 + 1 along one axis."""
        last = g.op("Sub", size, one)
        out = []
        for v, w in ((v0, g.op("Sub", one, frac)), (g.op("Add", v0, one), frac)):
            inside = g.op("And", g.op("GreaterOrEqual", v, zero), g.op("LessOrEqual", v, last))
            out.append(
                (
                    g.op("Max", g.op("Min", v, last), zero),
                    g.op("Mul", w, g.op("Cast", inside, to=1)),
                )
            )
        return out

    w64 = g.op("Cast", width, to=7)
    terms = []
    for yi, wy in neighbours(y0, fy, height):
        for xi, wx in neighbours(x0, fx, width):
            flat = g.op("Add", g.op("Mul", g.op("Cast", yi, to=7), w64), g.op("Cast", xi, to=7))
            value = g.op("Cast", g.op("Gather", table, flat, axis=0), to=1)
            terms.append(
                g.op("Mul", value, g.op("Unsqueeze", g.op("Mul", wx, wy), g.const([-1], np.int64)))
            )
    return g.op("Sum", *terms)


"""(H, W, N) for a graph with fixed shapes (onnxruntime folds the shape arithmetic away and a
CUDA graph can capture it), or None for one graph that takes any frame size and face count."""


def _dims(shape: Shape) -> tuple[Any, Any, Any]:
    return ("H", "W", "N") if shape is None else shape


def _tile_values(
    name: str, dtype: Any, size: int, shape: Shape, tiles: int, split: bool
) -> list[Any]:
    """The swapper-side tensors of a crop of ``size`` px: ``name`` [N, 3, S, S]; with pixel
    boost ``name`` [N * T, 3, S/t, S/t] (T = tiles^2), or ``name0`` .. ``name{T-1}`` [N, 3,
    S/t, S/t] when ``split``. The crop graph's blobs and the paste graph's faces."""
    n = _dims(shape)[2]
    side, count = size // tiles, tiles * tiles
    if tiles == 1:
        return [value_info(name, dtype, [n, 3, size, size])]
    if split:
        return [value_info(f"{name}{i}", dtype, [n, 3, side, side]) for i in range(count)]
    total = "NT" if shape is None else shape[2] * count
    return [value_info(name, dtype, [total, 3, side, side])]


def crop_graph(
    size: int,
    mean: float,
    std: float,
    blob_dtype: Any = np.float32,
    shape: Shape = None,
    tiles: int = 1,
    split: bool = False,
) -> bytes:
    """Inputs ``frame`` uint8 [H, W, 3] (BGR) and ``inverse`` float [N, 2, 3] (crop pixel ->
    frame pixel). Outputs ``blob`` [N, 3, S, S] (RGB, (x - mean) / std, the model's dtype) and
    ``crop`` float [N, S, S, 3] (BGR 0..255, for the colour transfer).

    Pixel boost (``tiles`` > 1): the blob is the crop's tiles x tiles sub-sampled tiles of side
    S / tiles, [N * T, 3, S/t, S/t] with T = tiles^2, tile (a, b) of a face at row
    a * tiles + b; ``split`` outputs them as ``blob0`` .. ``blob{T-1}`` instead ([N, 3, S/t,
    S/t] each: a swapper that takes one image per call runs once per tile)."""
    g = GraphBuilder()
    table = g.op("Reshape", "frame", g.const([-1, 3], np.int64))  # a view, still uint8
    dims = g.op("Cast", g.op("Shape", "frame"), to=1)
    height = g.op("Gather", dims, g.const(0, np.int64), axis=0)
    width = g.op("Gather", dims, g.const(1, np.int64), axis=0)
    v, u = np.mgrid[:size, :size].astype(np.float32)
    grid = g.const(np.stack([u.ravel(), v.ravel(), np.ones(size * size, np.float32)], axis=1))
    points = g.op("MatMul", grid, g.op("Transpose", "inverse", perm=[0, 2, 1]))  # [N, S*S, 2]
    x = g.op("Gather", points, g.const(0, np.int64), axis=2)
    y = g.op("Gather", points, g.const(1, np.int64), axis=2)
    sampled = _sample_frame(g, table, x, y, width, height)  # [N, S*S, 3]
    crop = g.op("Reshape", sampled, g.const([-1, size, size, 3], np.int64), out="crop")
    rgb = g.op("Gather", crop, g.const([2, 1, 0], np.int64), axis=3)
    normed = g.op("Div", g.op("Sub", rgb, g.const(mean)), g.const(std))
    nchw = g.op("Transpose", normed, perm=[0, 3, 1, 2])
    h, w, n = _dims(shape)
    side = size // tiles
    count = tiles * tiles
    if tiles == 1:
        g.op("Cast", nchw, to=tensor_type(blob_dtype), out="blob")
    else:
        grid = g.op("Reshape", nchw, g.const([-1, 3, side, tiles, side, tiles], np.int64))
        ordered = g.op("Transpose", grid, perm=[0, 3, 5, 1, 2, 4])  # [N, a, b, 3, S, S]
        cast = g.op("Cast", ordered, to=tensor_type(blob_dtype))
        if split:
            flat = g.op("Reshape", cast, g.const([-1, count, 3, side, side], np.int64))
            for i in range(count):
                g.op("Gather", flat, g.const(i, np.int64), axis=1, out=f"blob{i}")
        else:
            g.op("Reshape", cast, g.const([-1, 3, side, side], np.int64), out="blob")
    return g.model(
        [value_info("frame", np.uint8, [h, w, 3]), value_info("inverse", np.float32, [n, 2, 3])],
        [
            *_tile_values("blob", blob_dtype, size, shape, tiles, split),
            value_info("crop", np.float32, [n, size, size, 3]),
        ],
        "vcamswap_crop",
    )


def _gaussian_1d(sigma: float) -> np.ndarray[Any, np.dtype[np.float32]]:
    """OpenCV's kernel for 8-bit images: ksize = round(sigma * 6 + 1) | 1."""
    ksize = round(sigma * 6 + 1) | 1
    x = np.arange(ksize) - (ksize - 1) / 2.0
    kernel = np.exp(-(x**2) / (2 * sigma**2))
    result: np.ndarray[Any, np.dtype[np.float32]] = (kernel / kernel.sum()).astype(np.float32)
    return result


def _sharpen(g: GraphBuilder, image: str, amount: str) -> str:
    """Unsharp mask on [N, 3, S, S] (sigma 1.5, mirrored border): image * (1 + a) - blur * a."""
    kernel = _gaussian_1d(1.5)
    half = len(kernel) // 2
    padded = g.op(
        "Pad", image, g.const([0, 0, half, half, 0, 0, half, half], np.int64), mode="reflect"
    )
    rows = g.op(
        "Conv", padded, g.const(np.tile(kernel.reshape(1, 1, -1, 1), (3, 1, 1, 1))), group=3
    )
    blurred = g.op(
        "Conv", rows, g.const(np.tile(kernel.reshape(1, 1, 1, -1), (3, 1, 1, 1))), group=3
    )
    sharp = g.op(
        "Sub", g.op("Mul", image, g.op("Add", amount, g.const(1.0))), g.op("Mul", blurred, amount)
    )
    return g.op("Clip", sharp, g.const(0.0), g.const(255.0))


def _untiled(g: GraphBuilder, size: int, tiles: int, split: bool) -> str:
    """The model's output as [N, 3, S, S]: pixel-boost tiles put back together."""
    if tiles == 1:
        return "face"
    side, count = size // tiles, tiles * tiles
    if split:
        axis = g.const([1], np.int64)
        stacked = g.op(
            "Concat", *(g.op("Unsqueeze", f"face{i}", axis) for i in range(count)), axis=1
        )
    else:
        stacked = "face"
    grid = g.op("Reshape", stacked, g.const([-1, tiles, tiles, 3, side, side], np.int64))
    ordered = g.op("Transpose", grid, perm=[0, 3, 4, 1, 5, 2])  # [N, 3, S, a, S, b]
    return g.op("Reshape", ordered, g.const([-1, 3, size, size], np.int64))


def paste_graph(
    size: int,
    low: float,
    high: float,
    face_dtype: Any = np.float32,
    shape: Shape = None,
    tiles: int = 1,
    split: bool = False,
) -> bytes:
    """Inputs: ``frame`` uint8 [H, W, 3] BGR; ``face`` [N, 3, S, S] (the model's output: RGB in
    low..high); ``crop`` float [N, S, S, 3] (the target crops, BGR 0..255); ``alpha`` float
    [N, S, S] (each face's paste mask); ``matrix`` float [N, 2, 3] (frame pixel -> crop pixel);
    ``params`` float [2]: colour transfer on (>= 0.5) and sharpening amount. Output ``out``
    uint8 [H, W, 3]: the faces pasted in order, each over the ones before (as the CPU path).
    ``stats`` float [N, 4, 3] and ``keep`` float [N, 1, 1]: each face's colour statistics of
    its last frame and the share of them to keep; output ``stats_out``: the ones used.
    ``tiles``/``split``: the face arrives as pixel-boost tiles (see ``crop_graph``)."""
    g = GraphBuilder()
    span = g.const(high - low)
    untiled = _untiled(g, size, tiles, split)
    face = g.op("Div", g.op("Sub", g.op("Cast", untiled, to=1), g.const(low)), span)
    face = g.op("Mul", g.op("Clip", face, g.const(0.0), g.const(1.0)), g.const(255.0))
    flat = g.const([0, 3, size * size], np.int64)
    face_flat = g.op("Reshape", face, flat)  # [N, 3, P] RGB
    target = g.op(
        "Reshape",
        g.op(
            "Transpose",
            g.op("Gather", "crop", g.const([2, 1, 0], np.int64), axis=3),
            perm=[0, 3, 1, 2],
        ),
        flat,
    )
    # The colour statistics use the mask's inner half, whatever the opacity scaled it to.
    alpha_flat = g.op("Reshape", "alpha", g.const([0, 1, size * size], np.int64))
    half = g.op("Mul", g.op("ReduceMax", alpha_flat, axes=[2], keepdims=1), g.const(0.5))
    mask = g.op("Cast", g.op("Greater", alpha_flat, half), to=1)
    color, amount = g.ops("Split", ["params", g.const([1, 1], np.int64)], 2, axis=0)
    corrected, stats = color_transfer(g, face_flat, target, mask, color, "stats", "keep")
    g.op("Identity", stats, out="stats_out")
    square = g.const([0, 3, size, size], np.int64)
    sharp = _sharpen(g, g.op("Reshape", corrected, square), amount)
    bgr = g.op("Gather", sharp, g.const([2, 1, 0], np.int64), axis=1)
    rgba = g.op("Concat", bgr, g.op("Unsqueeze", "alpha", g.const([1], np.int64)), axis=1)
    table = _padded_table(g, g.op("Transpose", rgba, perm=[0, 2, 3, 1]), 4)
    # Every frame pixel through each face's matrix: [N, H, W] crop coordinates.
    dims = g.op("Shape", "frame")
    h = g.op("Gather", dims, g.const(0, np.int64), axis=0)
    w = g.op("Gather", dims, g.const(1, np.int64), axis=0)
    zero_i, one_i = g.const(0, np.int64), g.const(1, np.int64)
    xs = g.op("Cast", g.op("Range", zero_i, w, one_i), to=1)
    ys = g.op("Cast", g.op("Range", zero_i, h, one_i), to=1)
    xs = g.op("Unsqueeze", xs, g.const([0], np.int64))  # [1, W]
    ys = g.op("Unsqueeze", ys, g.const([1], np.int64))  # [H, 1]
    m = g.ops(
        "Split",
        [g.op("Reshape", "matrix", g.const([-1, 6, 1], np.int64)), g.const([1] * 6, np.int64)],
        6,
        axis=1,
    )  # six [N, 1, 1]
    u = g.op("Add", g.op("Add", g.op("Mul", m[0], xs), g.op("Mul", m[1], ys)), m[2])
    v = g.op("Add", g.op("Add", g.op("Mul", m[3], xs), g.op("Mul", m[4], ys)), m[5])
    side = g.const(float(size + 2))
    faces = g.op("Gather", g.op("Shape", "matrix"), g.const(0, np.int64), axis=0)
    base = g.op(
        "Reshape",
        g.op("Mul", g.op("Range", zero_i, faces, one_i), g.const((size + 2) ** 2, np.int64)),
        g.const([-1, 1, 1], np.int64),
    )
    sampled = _sample(g, table, u, v, side, side, base)  # [N, H, W, 4]
    colour, alpha = g.ops("Split", [sampled, g.const([3, 1], np.int64)], 2, axis=3)
    # Sequential "over": out = frame * prod(1 - a) + sum_n f_n a_n prod_{j > n}(1 - a_j).
    keep = g.op("Log", g.op("Max", g.op("Sub", g.const(1.0), alpha), g.const(1e-6)))
    zero_axis = g.const(0, np.int64)
    after = g.op("Exp", g.op("CumSum", keep, zero_axis, exclusive=1, reverse=1))
    total = g.op("Exp", g.op("ReduceSum", keep, g.const([0], np.int64), keepdims=0))
    layers = g.op(
        "ReduceSum",
        g.op("Mul", g.op("Mul", colour, alpha), after),
        g.const([0], np.int64),
        keepdims=0,
    )
    blended = g.op("Add", g.op("Mul", g.op("Cast", "frame", to=1), total), layers)
    rounded = g.op("Round", g.op("Clip", blended, g.const(0.0), g.const(255.0)))
    g.op("Cast", rounded, to=2, out="out")
    h, w, n = _dims(shape)
    return g.model(
        [
            value_info("frame", np.uint8, [h, w, 3]),
            *_tile_values("face", face_dtype, size, shape, tiles, split),
            value_info("crop", np.float32, [n, size, size, 3]),
            value_info("alpha", np.float32, [n, size, size]),
            value_info("matrix", np.float32, [n, 2, 3]),
            value_info("params", np.float32, [2]),
            value_info("stats", np.float32, [n, 4, 3]),
            value_info("keep", np.float32, [n, 1, 1]),
        ],
        [value_info("out", np.uint8, [h, w, 3]), value_info("stats_out", np.float32, [n, 4, 3])],
        "vcamswap_paste",
    )
