"""Building small ONNX graphs in code: a node collector with generated names, and typed graph
inputs and outputs. Used by the detector's device letterbox and the device compositor's graphs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

OPSET = 17

Shape = tuple[int, int, int] | None
"""A graph's fixed (rows, columns, faces), or None for symbolic dimensions."""


@dataclass
class GraphBuilder:
    """Collects nodes and constants; every op has one output with a generated name."""

    nodes: list[Any] = field(default_factory=list)
    inits: list[Any] = field(default_factory=list)
    count: int = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attrs: Any) -> str:
        from onnx import helper

        target = out or self.name("t")
        self.nodes.append(helper.make_node(op_type, list(inputs), [target], **attrs))
        return target

    def ops(self, op_type: str, inputs: list[str], outputs: int, **attrs: Any) -> list[str]:
        from onnx import helper

        targets = [self.name("t") for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, targets, **attrs))
        return targets

    def const(self, value: Any, dtype: Any = np.float32) -> str:
        from onnx import numpy_helper

        target = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), target))
        return target

    def model(self, inputs: list[Any], outputs: list[Any], name: str) -> bytes:
        from onnx import helper

        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="vcamswap"
        )
        model.ir_version = 8
        data: bytes = model.SerializeToString()
        return data


def tensor_type(dtype: Any) -> int:
    from onnx import TensorProto

    return {
        np.dtype(np.float32): TensorProto.FLOAT,
        np.dtype(np.float16): TensorProto.FLOAT16,
        np.dtype(np.uint8): TensorProto.UINT8,
    }[np.dtype(dtype)]


def value_info(name: str, dtype: Any, shape: list[Any]) -> Any:
    from onnx import helper

    return helper.make_tensor_value_info(name, tensor_type(dtype), shape)
