"""Reading and rewriting ONNX files with the onnx package (no OpenCV: the model server's
environment imports this too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["read_emap"]


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
