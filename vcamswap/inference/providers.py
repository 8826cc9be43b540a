"""Execution providers: config names resolved against what this onnxruntime build offers, the
GPU libraries it loads on demand, a probe of what a session really gets, and the facts about the
installed onnxruntime that other packages (doctor, bench) report. The only onnxruntime imports
outside sessions and IO binding are here."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ALIASES = {
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "trt": "TensorrtExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
    "dml": "DmlExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
GPU_PROVIDERS = ("CUDAExecutionProvider", "TensorrtExecutionProvider")
AUTO_ORDER = (
    "CUDAExecutionProvider",
    "TensorrtExecutionProvider",
    "CoreMLExecutionProvider",
    "DmlExecutionProvider",
    "OpenVINOExecutionProvider",
    "CPUExecutionProvider",
)


@dataclass(frozen=True, slots=True)
class ProviderChoice:
    providers: tuple[str, ...]
    warnings: tuple[str, ...]


def resolve_providers(requested: Sequence[str], available: Sequence[str]) -> ProviderChoice:
    """Turn config names ('auto', 'cuda', 'cpu', or full provider names) into the ordered list
    this onnxruntime can use; every unavailable request becomes a warning, CPU is the floor."""
    chosen: list[str] = []
    warnings: list[str] = []
    for name in requested or ["auto"]:
        if name.lower() == "auto":
            chosen.extend(p for p in AUTO_ORDER if p in available and p not in chosen)
            continue
        full = ALIASES.get(name.lower(), name)
        if full in available:
            if full not in chosen:
                chosen.append(full)
        else:
            hint = (
                " (install onnxruntime-gpu: pip install 'vcamswap[gpu]')"
                if full in ("CUDAExecutionProvider", "TensorrtExecutionProvider")
                else ""
            )
            warnings.append(
                f"execution provider {name!r} is not available in this "
                f"onnxruntime (has: {', '.join(available)}){hint}"
            )
    if "CPUExecutionProvider" not in chosen and "CPUExecutionProvider" in available:
        chosen.append("CPUExecutionProvider")
    return ProviderChoice(tuple(chosen), tuple(warnings))


def without_tensorrt(providers: Sequence[str], available: Sequence[str]) -> tuple[str, ...]:
    """``providers`` with TensorRT replaced by CUDA (when this onnxruntime has it)."""
    trt, cuda = "TensorrtExecutionProvider", "CUDAExecutionProvider"
    if trt not in providers:
        return tuple(providers)
    out: list[str] = []
    for name in providers:
        if name == trt:
            if cuda in available and cuda not in providers:
                out.append(cuda)
        elif name not in out:
            out.append(name)
    return tuple(out)


def preload_gpu_libraries(ort: Any) -> str:
    """Let onnxruntime-gpu find CUDA and cuDNN installed as wheels
    (``pip install 'onnxruntime-gpu[cuda,cudnn]'``): it loads them only when asked, and
    without them its CUDA provider silently falls back to the CPU. Returns what it printed."""
    preload = getattr(ort, "preload_dlls", None)  # onnxruntime-gpu 1.21 and newer
    if preload is None:
        return ""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            preload()
    except Exception as exc:  # a broken install: the session's own fallback check reports it
        return f"{printed.getvalue()}{type(exc).__name__}: {exc}"
    return printed.getvalue().strip()


def gpu_fallback_message(ort: Any, wanted: str, got: Sequence[str]) -> str:
    """Why the models are on the CPU although ``wanted`` was asked for and listed."""
    if wanted == "TensorrtExecutionProvider" and "CUDAExecutionProvider" in got:
        return (
            f"{wanted} could not start (the TensorRT libraries were not found), so the "
            "models run on CUDA: pip install the tensorrt package matching your CUDA, or "
            "set models.providers: [cuda] to stop asking for TensorRT"
        )
    cuda = getattr(ort, "cuda_version", "") or ""
    built = f" (this onnxruntime-gpu was built for CUDA {cuda} and cuDNN 9)" if cuda else ""
    return (
        f"{wanted} could not start, so the models run on {', '.join(got)}, far slower: "
        f"the CUDA or cuDNN libraries it needs were not found{built}. Fix: pip install "
        "'onnxruntime-gpu[cuda,cudnn]' (the libraries as wheels), or add the CUDA and "
        "cuDNN library folders to LD_LIBRARY_PATH; `vcamswap doctor` checks it"
    )


def probe_providers(providers: Sequence[str]) -> list[str]:
    """The providers a one-node session really gets when ``providers`` are asked for
    (onnxruntime lists a GPU provider whose libraries are missing as available). Needs onnx."""
    from onnx import TensorProto, helper

    value = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    result = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "probe", [value], [result]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    import onnxruntime as ort

    chosen = resolve_providers(providers, ort.get_available_providers()).providers
    if set(chosen) & set(GPU_PROVIDERS):
        preload_gpu_libraries(ort)
    options = ort.SessionOptions()
    options.log_severity_level = 4  # the caller reports the outcome, not onnxruntime's log
    session = ort.InferenceSession(
        model.SerializeToString(), sess_options=options, providers=list(chosen)
    )
    return list(session.get_providers())


@dataclass(frozen=True, slots=True)
class OrtInfo:
    """The installed onnxruntime: version, the providers it lists, the CUDA it was built for."""

    version: str
    providers: tuple[str, ...]
    cuda_version: str


def onnxruntime_info() -> OrtInfo | None:
    """None when onnxruntime is not installed."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    return OrtInfo(
        ort.__version__,
        tuple(ort.get_available_providers()),
        getattr(ort, "cuda_version", "") or "",
    )


def cuda_fallback_message(wanted: str, got: Sequence[str]) -> str:
    """``gpu_fallback_message`` for the installed onnxruntime."""
    import onnxruntime as ort

    return gpu_fallback_message(ort, wanted, got)


def cpu_session(path: Path) -> Any:
    """A plain CPU session of the model at ``path`` (checks and exports, not the frame path)."""
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
