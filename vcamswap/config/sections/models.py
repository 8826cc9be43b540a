"""models: the neural engine's files, providers and remote server."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from vcamswap.config.sections.base import ModelRole, Section, yaml_switch


class ModelOverride(Section):
    """A user-supplied model file replacing a catalog entry."""

    path: Path = Field(description="Path to the ONNX file.")
    sha256: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$", description="Expected sha256 digest of that file."
    )


class RemoteConfig(Section):
    """Run some neural models on a Triton Inference Server (a GPU box on your network).
    Face crops leave this machine: opt in only for a server you trust."""

    url: str | None = Field(
        None,
        description="Triton's gRPC address, grpc://HOST:8001 or grpcs://HOST:PORT (TLS); empty "
        "runs every model here. Plaintext to a non-loopback host logs a warning.",
    )
    ca_file: Path | None = Field(
        None, description="grpcs: the CA certificate (PEM) that signed the server's."
    )
    models: list[ModelRole] = Field(
        default_factory=lambda: list[ModelRole](["swapper", "enhancer"]),
        description="Which models run remotely. The detector's input is 25x a face crop, so "
        "it stays local by default.",
    )
    names: dict[str, str] = Field(
        default_factory=dict,
        description="Served model name per catalog name when they differ (e.g. "
        "inswapper_128: swapper).",
    )
    timeout_ms: float = Field(
        300.0,
        ge=10.0,
        le=10000.0,
        description="Per-request timeout; a late or lost server is skipped (the privacy guard "
        "decides what shows) and retried with a backoff, never stalling the camera.",
    )

    @field_validator("url")
    @classmethod
    def _grpc_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("grpc://", "grpcs://")):
            raise ValueError("use grpc://HOST:PORT or grpcs://HOST:PORT (Triton's gRPC port)")
        return value or None


class ModelsConfig(Section):
    """Neural model files and how they run."""

    folder: Path | None = Field(
        None,
        description="Folder of downloaded model files. Empty uses the user data folder "
        "(e.g. ~/.local/share/vcamswap/models).",
    )
    providers: list[str] = Field(
        default_factory=lambda: ["auto"],
        description="onnxruntime execution providers in order of preference: 'auto' "
        "(CUDA > TensorRT > CoreML > DirectML > OpenVINO > CPU) or names such as 'cuda', 'cpu'.",
    )
    swapper: Literal["inswapper_128", "inswapper_128_fp16", "ghost_3_256"] = Field(
        "inswapper_128",
        description="Which swapper: inswapper_128 (fp16 is faster on GPUs; insightface "
        "non-commercial licence) or ghost_3_256 (GHOST, 256 px, Apache-2.0; needs its "
        "embedding converter crossface_ghost too).",
    )
    parser: Literal["bisenet_resnet_34", "bisenet_resnet_18"] = Field(
        "bisenet_resnet_34",
        description="The face parser for swap.mask: parser (resnet_18 is smaller and faster, "
        "resnet_34 draws cleaner edges).",
    )
    cuda_graph: bool = Field(
        True,
        description="CUDA only (ignored on other providers and behind TensorRT): replay the "
        "swapper as a captured CUDA graph (one face at a time, ignored with many_faces) and, "
        "with device compositing, the crop/paste graphs (one capture per window size and face "
        "count); both cut the per-frame launch cost (BENCHMARKS.md). A model or graph "
        "onnxruntime cannot capture runs without, with one warning.",
    )
    device_compositing: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Neural engine: crop, colour-correct, paste and enhance faces on the "
        "models' device (the part of the frame around the faces uploaded and downloaded once) "
        "instead of on the CPU. 'auto' "
        "turns it on when the swapper runs on CUDA or TensorRT; 'on' also on other providers "
        "(on a CPU it is slower than OpenCV); 'off' always uses the CPU path.",
    )
    _compositing_switch = field_validator("device_compositing", mode="before")(yaml_switch)
    overrides: dict[str, ModelOverride] = Field(
        default_factory=dict,
        description="Per catalog model name, your own file and its sha256 instead of the "
        "catalog's.",
    )
    remote: RemoteConfig = Field(
        default_factory=RemoteConfig, description="Remote inference (Triton)."
    )
