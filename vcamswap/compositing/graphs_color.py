"""The device path's colour transfer as ONNX ops: sRGB <-> Lab in OpenCV's 8-bit scaling and
Reinhard's mean-and-spread transfer inside a mask, with each face's statistics smoothed across
frames (see ``compositing.graphs``)."""

from __future__ import annotations

import numpy as np

from vcamswap.inference.onnxgraph import GraphBuilder

# sRGB (D65) -> XYZ with the white point divided out (rows), as OpenCV's Lab conversion does.
_RGB2XYZ = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=np.float64,
)
_WHITE = np.array([0.950456, 1.0, 1.088754])
_TO_XYZN = (_RGB2XYZ / _WHITE[:, None]).astype(np.float32)
_FROM_XYZN = np.linalg.inv(_RGB2XYZ / _WHITE[:, None]).astype(np.float32)


def _srgb_to_lab(g: GraphBuilder, rgb: str) -> str:
    """[N, 3, P] RGB 0..255 -> Lab in OpenCV's 8-bit scaling (L * 2.55, a + 128, b + 128)."""
    c = g.op("Div", rgb, g.const(255.0))
    linear = g.op(
        "Where",
        g.op("LessOrEqual", c, g.const(0.04045)),
        g.op("Div", c, g.const(12.92)),
        g.op("Pow", g.op("Div", g.op("Add", c, g.const(0.055)), g.const(1.055)), g.const(2.4)),
    )
    xyz = g.op("MatMul", g.const(_TO_XYZN), linear)
    f = g.op(
        "Where",
        g.op("Greater", xyz, g.const(0.008856)),
        g.op("Pow", g.op("Max", xyz, g.const(0.0)), g.const(1.0 / 3.0)),
        g.op("Add", g.op("Mul", xyz, g.const(7.787)), g.const(16.0 / 116.0)),
    )
    fx, fy, fz = g.ops("Split", [f, g.const([1, 1, 1], np.int64)], 3, axis=1)
    lightness = g.op(
        "Mul", g.op("Sub", g.op("Mul", fy, g.const(116.0)), g.const(16.0)), g.const(255.0 / 100.0)
    )
    a = g.op("Add", g.op("Mul", g.op("Sub", fx, fy), g.const(500.0)), g.const(128.0))
    b = g.op("Add", g.op("Mul", g.op("Sub", fy, fz), g.const(200.0)), g.const(128.0))
    return g.op("Concat", lightness, a, b, axis=1)


def _lab_to_srgb(g: GraphBuilder, lab: str) -> str:
    """The inverse of ``_srgb_to_lab``, clipped to 0..255."""
    lightness, a, b = g.ops("Split", [lab, g.const([1, 1, 1], np.int64)], 3, axis=1)
    fy = g.op(
        "Div",
        g.op("Add", g.op("Mul", lightness, g.const(100.0 / 255.0)), g.const(16.0)),
        g.const(116.0),
    )
    fx = g.op("Add", fy, g.op("Div", g.op("Sub", a, g.const(128.0)), g.const(500.0)))
    fz = g.op("Sub", fy, g.op("Div", g.op("Sub", b, g.const(128.0)), g.const(200.0)))
    f = g.op("Concat", fx, fy, fz, axis=1)
    xyz = g.op(
        "Where",
        g.op("Greater", f, g.const(0.206893)),
        g.op("Mul", g.op("Mul", f, f), f),
        g.op("Div", g.op("Sub", f, g.const(16.0 / 116.0)), g.const(7.787)),
    )
    linear = g.op("Max", g.op("MatMul", g.const(_FROM_XYZN), xyz), g.const(0.0))
    c = g.op(
        "Where",
        g.op("LessOrEqual", linear, g.const(0.0031308)),
        g.op("Mul", linear, g.const(12.92)),
        g.op(
            "Sub",
            g.op("Mul", g.op("Pow", linear, g.const(1.0 / 2.4)), g.const(1.055)),
            g.const(0.055),
        ),
    )
    return g.op("Clip", g.op("Mul", c, g.const(255.0)), g.const(0.0), g.const(255.0))


def _masked_stats(g: GraphBuilder, lab: str, mask: str, count: str) -> tuple[str, str]:
    """Per face and channel: mean and population standard deviation inside ``mask``."""
    axes = g.const([2], np.int64)
    mean = g.op("Div", g.op("ReduceSum", g.op("Mul", lab, mask), axes, keepdims=1), count)
    centred = g.op("Sub", lab, mean)
    var = g.op(
        "Div",
        g.op("ReduceSum", g.op("Mul", g.op("Mul", centred, centred), mask), axes, keepdims=1),
        count,
    )
    return mean, g.op("Sqrt", var)


def color_transfer(
    g: GraphBuilder, face: str, target: str, mask: str, enabled: str, previous: str, keep: str
) -> tuple[str, str]:
    """Reinhard transfer in Lab ([N, 3, P] RGB 0..255 each): ``face``'s mean and spread inside
    ``mask`` [N, 1, P] become ``target``'s, the spread ratio clamped to 0.5..2; faces with
    fewer than 16 mask pixels, or ``enabled`` < 0.5, keep ``face``. Statistics [N, 4, 3]:
    source mean and spread, target mean and spread; the target's used are ``keep`` [N, 1, 1]
    of ``previous`` (the face's last frame) and the rest this frame's. Returns (image,
    statistics used)."""
    count = g.op("ReduceSum", mask, g.const([2], np.int64), keepdims=1)  # [N, 1, 1]
    safe = g.op("Max", count, g.const(1.0))
    # Face and target through one Lab conversion and one set of statistics (fewer kernels).
    both = _srgb_to_lab(g, g.op("Concat", face, target, axis=0))  # [2N, 3, P]
    mean, sd = _masked_stats(
        g, both, g.op("Concat", mask, mask, axis=0), g.op("Concat", safe, safe, axis=0)
    )
    src, _ = g.ops("Split", [both], 2, axis=0)  # equal halves: face, target
    mu_s, mu_t = g.ops("Split", [mean], 2, axis=0)
    sd_s, sd_t = g.ops("Split", [sd], 2, axis=0)
    row = g.const([-1, 1, 3], np.int64)
    current = g.op("Concat", *(g.op("Reshape", v, row) for v in (mu_s, sd_s, mu_t, sd_t)), axis=1)
    # Only the target's statistics are smoothed: the source's describe this frame's face.
    share = g.op("Mul", keep, g.const(np.array([0, 0, 1, 1], np.float32).reshape(1, 4, 1)))
    stats = g.op(
        "Add",
        g.op("Mul", previous, share),
        g.op("Mul", current, g.op("Sub", g.const(1.0), share)),
    )
    column = g.const([-1, 3, 1], np.int64)
    mu_s, sd_s, mu_t, sd_t = (
        g.op("Reshape", v, column) for v in g.ops("Split", [stats], 4, axis=1)
    )
    eps = g.const(1e-3)
    ratio = g.op(
        "Clip",
        g.op("Div", g.op("Add", sd_t, eps), g.op("Add", sd_s, eps)),
        g.const(0.5),
        g.const(2.0),
    )
    shifted = g.op("Add", g.op("Mul", src, ratio), g.op("Sub", mu_t, g.op("Mul", mu_s, ratio)))
    out = _lab_to_srgb(g, g.op("Clip", shifted, g.const(0.0), g.const(255.0)))
    use = g.op(
        "And",
        g.op("GreaterOrEqual", count, g.const(16.0)),
        g.op("GreaterOrEqual", enabled, g.const(0.5)),
    )
    return g.op("Where", use, out, face), stats
