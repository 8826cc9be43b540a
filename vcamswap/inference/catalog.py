"""The model catalog: every neural model declared as data (file, digests, size, URLs, licence,
input geometry and normalisation), verified before anything loads it.

Digests: a file is accepted only if its sha256 is one listed here (or the user's own, set in
``models.overrides``). Where several conversions of a model circulate, each known digest is
listed. Sources of each digest are named beside it; none of these files is redistributed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["detector", "embedder", "swapper", "enhancer", "content", "parser", "converter"]

INSIGHTFACE_LICENCE = (
    "insightface models: non-commercial research use only "
    "(https://github.com/deepinsight/insightface#license)"
)
VISO = "https://github.com/visomaster/visomaster-assets/releases/download/v1.0.0"
HF_FF = "https://huggingface.co/facefusion/models-3.0.0/resolve/main"
HF_DLC = "https://huggingface.co/hacksider/deep-live-cam/resolve/main"
FF_ASSETS = "https://github.com/facefusion/facefusion-assets/releases/download"
PARSING = "https://github.com/yakhyo/face-parsing/releases/download/weights"
PARSER_LICENCE = (
    "BiSeNet face parsing (yakhyo/face-parsing): MIT; trained on CelebAMask-HQ, whose images "
    "are for non-commercial research: check before commercial use"
)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model file and how to feed it."""

    name: str
    file: str
    role: Role
    sha256: tuple[str, ...]
    size: int | None
    urls: tuple[str, ...]
    licence: str
    input_size: int
    mean: float
    std: float
    template: str | None = None
    note: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)
    output_range: tuple[float, float] = (0.0, 1.0)
    """Swappers: the output's value range for RGB 0..1 (inswapper 0..1, GHOST -1..1)."""
    companion: str | None = None
    """Another catalog model this one needs (GHOST's embedding converter)."""


CATALOG: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="det_10g",
            file="det_10g.onnx",
            role="detector",
            # visomaster-assets v1.0.0 models_data.py (one source; the insightface buffalo_l file)
            sha256=("5838f7fe053675b1c7a08b633df49e7af5495cee0493c7dcf6697200b85b5b91",),
            size=None,
            urls=(f"{VISO}/det_10g.onnx",),
            licence=INSIGHTFACE_LICENCE,
            input_size=640,
            mean=127.5,
            std=128.0,
            note="SCRFD-10G from insightface buffalo_l (v0.7 release zip)",
        ),
        ModelSpec(
            name="w600k_r50",
            file="w600k_r50.onnx",
            role="embedder",
            # visomaster-assets v1.0.0 models_data.py (one source; the insightface buffalo_l file)
            sha256=("4c06341c33c2ca1f86781dab0e829f88ad5b64be9fba56e56bc9ebdefc619e43",),
            size=None,
            urls=(f"{VISO}/w600k_r50.onnx", f"{HF_FF}/arcface_w600k_r50.onnx"),
            licence=INSIGHTFACE_LICENCE,
            input_size=112,
            mean=127.5,
            std=127.5,
            template="arcface_112",
            note="ArcFace R50 from insightface buffalo_l",
        ),
        ModelSpec(
            name="inswapper_128",
            file="inswapper_128.onnx",
            role="swapper",
            # Git LFS pointers in two unrelated public repositories agree on this digest
            sha256=("e4a3f08c753cb72d04e10aa0f7dbe3deebbf39567d4ead6dce08e98aa49e16af",),
            size=554_253_681,
            urls=(f"{HF_DLC}/inswapper_128.onnx", f"{HF_FF}/inswapper_128.onnx"),
            licence=INSIGHTFACE_LICENCE,
            input_size=128,
            mean=0.0,
            std=255.0,
            template="arcface_128",
        ),
        ModelSpec(
            name="inswapper_128_fp16",
            file="inswapper_128_fp16.onnx",
            role="swapper",
            # a 277,680,829 B fp16 conversion in public repositories; visomaster's own fp16 one.
            sha256=(
                "c4eccca86ad177586c85c28bf1a64a9d9ed237e283a15818d831f7facfd3f420",
                "6d51a9278a1f650cffefc18ba53f38bf2769bf4bbff89267822cf72945f8a38b",
            ),
            size=None,
            urls=(
                f"{HF_DLC}/inswapper_128_fp16.onnx",
                f"{HF_FF}/inswapper_128_fp16.onnx",
                f"{VISO}/inswapper_128.fp16.onnx",
            ),
            licence=INSIGHTFACE_LICENCE,
            input_size=128,
            mean=0.0,
            std=255.0,
            template="arcface_128",
            note="fp16 conversions differ; each known digest is accepted",
        ),
        ModelSpec(
            name="gfpgan_1.4",
            file="GFPGANv1.4.onnx",
            role="enhancer",
            # visomaster-assets v1.0.0 models_data.py (one source)
            sha256=("6548e54cbcf248af385248f0c1193b359c37a0f98b836282b09cf48af4fd2b73",),
            size=340_256_686,
            urls=(f"{VISO}/GFPGANv1.4.onnx", f"{HF_DLC}/GFPGANv1.4.onnx"),
            licence="GFPGAN: Apache-2.0 code (TencentARC); check the weights' terms",
            input_size=512,
            mean=127.5,
            std=127.5,
            template="ffhq_512",
        ),
        ModelSpec(
            name="gpen_bfr_512",
            file="GPEN-BFR-512.onnx",
            role="enhancer",
            sha256=("0960f836488735444d508b588e44fb5dfd19c68fde9163ad7878aa24d1d5115e",),
            size=None,
            urls=(f"{VISO}/GPEN-BFR-512.onnx",),
            licence="GPEN: non-commercial (Alibaba DAMO)",
            input_size=512,
            mean=127.5,
            std=127.5,
            template="ffhq_512",
            note="slot: not wired to a processor yet",
        ),
        ModelSpec(
            name="gpen_bfr_256",
            file="GPEN-BFR-256.onnx",
            role="enhancer",
            sha256=("aa5bd3ab238640a378c59e4a560f7a7150627944cf2129e6311ae4720e833271",),
            size=None,
            urls=(f"{VISO}/GPEN-BFR-256.onnx",),
            licence="GPEN: non-commercial (Alibaba DAMO)",
            input_size=256,
            mean=127.5,
            std=127.5,
            template="ffhq_512",
            note="slot: not wired to a processor yet",
        ),
        ModelSpec(
            name="ghost_3_256",
            file="ghost_3_256.onnx",
            role="swapper",
            # One source: a public fetch script pinning the facefusion-assets models-3.0.0 file
            sha256=("308d87f565e881b8872a5cbe711f97faeda6643e5d2b95ef757cc92a58662abd",),
            size=None,
            urls=(
                f"{FF_ASSETS}/models-3.0.0/ghost_3_256.onnx",
                f"{HF_FF}/ghost_3_256.onnx",
            ),
            licence="GHOST (ai-forever/ghost): Apache-2.0 (the project's LICENSE)",
            input_size=256,
            mean=127.5,
            std=127.5,
            template="arcface_112_v1",
            output_range=(-1.0, 1.0),
            companion="crossface_ghost",
            note="256 px swapper under a permissive licence; needs crossface_ghost",
        ),
        ModelSpec(
            name="crossface_ghost",
            file="crossface_ghost.onnx",
            role="converter",
            # One source: the same fetch script (facefusion-assets models-3.4.0)
            sha256=("9ec5862d9ff1f723a7380ea89baf87cddec9c56670d4db766702657939284957",),
            size=None,
            urls=(
                f"{FF_ASSETS}/models-3.4.0/crossface_ghost.onnx",
                "https://huggingface.co/facefusion/models-3.4.0/resolve/main/crossface_ghost.onnx",
            ),
            licence="FaceFusion's ArcFace-to-GHOST embedding map, published with the GHOST "
            "models; no separate licence stated: check facefusion-assets before commercial use",
            input_size=512,
            mean=0.0,
            std=1.0,
            note="maps an ArcFace embedding into GHOST's identity space (once per source face)",
        ),
        ModelSpec(
            name="bisenet_resnet_34",
            file="bisenet_resnet_34.onnx",
            role="parser",
            # Two public projects pin this digest and size for the yakhyo/face-parsing release
            sha256=("5b805bba7b5660ab7070b5a381dcf75e5b3e04199f1e9387232a77a00095102e",),
            size=93_632_554,
            urls=(f"{PARSING}/resnet34.onnx",),
            licence=PARSER_LICENCE,
            input_size=512,
            mean=0.0,
            std=255.0,
            note="face parser for occlusion-aware masks (19 CelebAMask-HQ classes)",
        ),
        ModelSpec(
            name="bisenet_resnet_18",
            file="bisenet_resnet_18.onnx",
            role="parser",
            # Two public projects pin this digest and size for the yakhyo/face-parsing release
            sha256=("0d9bd318e46987c3bdbfacae9e2c0f461cae1c6ac6ea6d43bbe541a91727e33f",),
            size=53_205_364,
            urls=(f"{PARSING}/resnet18.onnx",),
            licence=PARSER_LICENCE,
            input_size=512,
            mean=0.0,
            std=255.0,
            note="smaller, faster face parser",
        ),
        ModelSpec(
            name="nudenet_640m",
            file="nudenet_640m.onnx",
            role="content",
            # One source: a public fetch script pinning the v3.4-weights release assets; its 320n
            # digest equals the nudenet 3.4.2 wheel's 320n.onnx, measured here.
            sha256=("04fe3d77980780c1f8297dc6d7f942fd5b3abe6942a188f742a85241e4f634eb",),
            size=None,
            urls=(
                "https://github.com/notAI-tech/NudeNet/releases/download/v3.4-weights/640m.onnx",
            ),
            licence="NudeNet 640m detector: AGPL-3.0 (the nudenet project's licence file)",
            input_size=640,
            mean=0.0,
            std=255.0,
            note="optional content-check model (safety.content_check.model: nudenet_640m), "
            "more accurate than the packaged 320n",
        ),
    )
}


def engine_models(swapper: str, enhancer: bool, parser: str | None = None) -> list[ModelSpec]:
    """The models the neural engine needs for these settings (``parser``: the face parser the
    mask uses, None for the box mask)."""
    names = ["det_10g", "w600k_r50", swapper]
    companion = CATALOG[swapper].companion
    names += [companion] if companion else []
    names += ["gfpgan_1.4"] if enhancer else []
    names += [parser] if parser else []
    return [CATALOG[name] for name in names]
