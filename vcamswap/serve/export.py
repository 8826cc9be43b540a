"""`vcamswap serve export`: a model repository for NVIDIA's Triton container (onnxruntime
backend): ``REPO/<model>/config.pbtxt`` + ``REPO/<model>/1/model.onnx`` per catalog model found,
with dynamic batching, GPU instance groups and, optionally, the TensorRT FP16 accelerator.

A model whose ONNX batch dimension is fixed at 1 gets a symbolic one when the graph still runs
with a batch of 2 (checked with onnxruntime when it is installed); otherwise it is served with
``max_batch_size: 0`` (one face per request, batched by the client). A swapper also gets its
``<name>_emap`` companion (the 512x512 matrix clients need to build the source latent).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from vcamswap.errors import VCamSwapError
from vcamswap.inference.catalog import ModelSpec
from vcamswap.inference.onnxfile import read_emap, with_symbolic_batch
from vcamswap.inference.providers import cpu_session, onnxruntime_info
from vcamswap.inference.remote import EMAP_SUFFIX
from vcamswap.inference.session import batches_like_single
from vcamswap.serve.server import find_models

EXPORT_DELAY_US = 500

_TYPES = {1: "TYPE_FP32", 10: "TYPE_FP16", 6: "TYPE_INT32", 7: "TYPE_INT64"}


def _io(model: Any) -> tuple[list[tuple[str, int, list[int]]], list[tuple[str, int, list[int]]]]:
    """(name, onnx elem type, dims with -1 for symbolic) of the graph inputs and outputs."""
    inits = {i.name for i in model.graph.initializer}

    def dims(value: Any) -> list[int]:
        return [
            d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim
        ]

    inputs = [
        (v.name, v.type.tensor_type.elem_type, dims(v))
        for v in model.graph.input
        if v.name not in inits
    ]
    outputs = [(v.name, v.type.tensor_type.elem_type, dims(v)) for v in model.graph.output]
    return inputs, outputs


def _runs_with_batch_two(path: Path) -> bool | None:
    """True/False when onnxruntime can tell, None when it is not installed."""
    if onnxruntime_info() is None:
        return None
    try:
        session = cpu_session(path)
    except Exception:
        return False
    return batches_like_single(session)


def _make_batch_dynamic(source: Path, target: Path) -> bool:
    """Copy ``source`` with dim 0 of every input and output symbolic; True when it runs."""
    data = with_symbolic_batch(source)
    if data is None:
        return False
    target.write_bytes(data)
    return _runs_with_batch_two(target) is not False


def _tensor_block(kind: str, items: list[tuple[str, int, list[int]]], batched: bool) -> str:
    rows = []
    for name, elem, dims in items:
        shape = dims[1:] if batched else [d if d > 0 else -1 for d in dims]
        rows.append(
            f'  {{\n    name: "{name}"\n    data_type: {_TYPES.get(elem, "TYPE_FP32")}\n'
            f"    dims: [ {', '.join(str(d) for d in shape)} ]\n  }}"
        )
    return f"{kind} [\n" + ",\n".join(rows) + "\n]\n"


def model_config(
    name: str,
    inputs: list[tuple[str, int, list[int]]],
    outputs: list[tuple[str, int, list[int]]],
    max_batch: int,
    instances: int,
    tensorrt: bool,
    gpu: bool = True,
) -> str:
    batched = max_batch > 0
    text = (
        f'name: "{name}"\nbackend: "onnxruntime"\nmax_batch_size: {max_batch}\n'
        + _tensor_block("input", inputs, batched)
        + _tensor_block("output", outputs, batched)
    )
    if batched:  # the container's GPU instances: a short wait gathers concurrent streams
        text += f"dynamic_batching {{\n  max_queue_delay_microseconds: {EXPORT_DELAY_US}\n}}\n"
    text += (
        f"instance_group [\n  {{\n    kind: {'KIND_GPU' if gpu else 'KIND_CPU'}\n"
        f"    count: {instances if gpu else 1}\n  }}\n]\n"
    )
    if tensorrt and gpu:
        text += (
            "optimization {\n  execution_accelerators {\n    gpu_execution_accelerator : "
            '[ {\n      name : "tensorrt"\n      parameters { key: "precision_mode" '
            'value: "FP16" }\n      parameters { key: "max_workspace_size_bytes" '
            'value: "1073741824" }\n    } ]\n  }\n}\n'
        )
    return text


def _emap_model(spec: ModelSpec, source: Path, target: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    emap = read_emap(source).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Identity", ["emap_value"], ["emap"])],
        f"{spec.name}_emap",
        [helper.make_tensor_value_info("index", TensorProto.INT32, [1])],
        [helper.make_tensor_value_info("emap", TensorProto.FLOAT, [512, 512])],
        [numpy_helper.from_array(emap, "emap_value")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(target))


def export_repository(
    folder: Path, out: Path, *, max_batch: int = 8, instances: int = 1, tensorrt: bool = False
) -> list[str]:
    """Write the repository; returns one line per model for the user."""
    import onnx

    if out.exists() and any(out.iterdir()):
        raise VCamSwapError(f"{out} is not empty: give a new folder for the model repository")
    lines = []
    for spec, path in find_models(folder):
        model_dir = out / spec.name
        (model_dir / "1").mkdir(parents=True, exist_ok=True)
        target = model_dir / "1" / "model.onnx"
        inputs, outputs = _io(onnx.load(str(path), load_external_data=False))
        fixed_one = all(dims[:1] == [1] for _, _, dims in inputs)
        if fixed_one and _make_batch_dynamic(path, target):
            batch, how = max_batch, "batch dimension made dynamic"
        elif fixed_one:
            shutil.copyfile(path, target)
            batch, how = 0, "fixed batch of 1: clients batch, Triton queues"
        else:
            shutil.copyfile(path, target)
            batch, how = max_batch, "dynamic batch"
        (model_dir / "config.pbtxt").write_text(
            model_config(spec.name, inputs, outputs, batch, instances, tensorrt)
        )
        lines.append(f"{spec.name}: {how}{', TensorRT FP16' if tensorrt else ''}")
        if spec.role == "swapper":
            emap_dir = out / (spec.name + EMAP_SUFFIX)
            (emap_dir / "1").mkdir(parents=True, exist_ok=True)
            _emap_model(spec, path, emap_dir / "1" / "model.onnx")
            (emap_dir / "config.pbtxt").write_text(
                model_config(
                    spec.name + EMAP_SUFFIX,
                    [("index", 6, [1])],
                    [("emap", 1, [512, 512])],
                    0,
                    1,
                    False,
                    gpu=False,
                )
            )
            lines.append(f"{spec.name}{EMAP_SUFFIX}: the swapper's emap for clients")
    lines.append(
        f"run: docker run --gpus all -p 8001:8001 -v {out.resolve()}:/models "
        "nvcr.io/nvidia/tritonserver:<yy.mm>-py3 tritonserver --model-repository="
        "/models"
    )
    return lines
