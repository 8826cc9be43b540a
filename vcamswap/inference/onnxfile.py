"""Reading and rewriting ONNX files with the onnx package (no OpenCV: the model server's
environment imports this too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["read_emap", "with_symbolic_batch"]


def read_emap(path: Path) -> np.ndarray[Any, Any]:
    """The inswapper's last initializer (512x512), read without keeping the model in memory."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path), load_external_data=False)
    if not model.graph.initializer:
        raise ValueError(f"{path.name} has no initializers: not an inswapper model")
    emap = numpy_helper.to_array(model.graph.initializer[-1]).astype(np.float32)
    del model
    return emap


def with_symbolic_batch(path: Path) -> bytes | None:
    """The model at ``path`` serialized with dimension 0 of every input and output symbolic
    ("batch"), or None when its inputs do not all have a batch dimension fixed at 1. Whether
    the graph really batches must be checked by running it (``session.batches_like_single``):
    a Reshape to a fixed shape inside would break or mix the rows."""
    import onnx

    model = onnx.load(str(path))
    values = list(model.graph.input) + list(model.graph.output)
    if not model.graph.input or any(
        not v.type.tensor_type.shape.dim or v.type.tensor_type.shape.dim[0].dim_value != 1
        for v in model.graph.input
    ):
        return None
    for value in values:
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].dim_param = "batch"
    data: bytes = model.SerializeToString()
    return data
