"""swap and governor: the face swap and the quality governor."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from vcamswap.config.sections.base import Engine, MaskRegion, OnFaceLost, Section, yaml_switch


class SwapConfig(Section):
    """What happens to each frame."""

    enabled: bool = Field(True, description="Swap faces; off passes the camera through.")
    engine: Engine = Field(
        "auto",
        description="'neural' (SCRFD + ArcFace + inswapper, needs the model files, fast on a "
        "GPU), 'lite' (dlib landmarks, CPU real time, no downloads) or 'auto' (neural when its "
        "verified model files are present, else lite).",
    )
    faces_dir: Path | None = Field(
        None,
        description="Folder of source face photos. Empty uses the user data folder "
        "(e.g. ~/.local/share/vcamswap/faces).",
    )
    face: str | None = Field(
        None,
        description="Name of the current source face in the faces folder, or a path to an "
        "image. Empty uses the first face in the folder.",
    )
    sources: list[str] = Field(
        default_factory=list,
        description="Neural engine with many_faces: several source faces (names or paths); "
        "each face in the frame gets the source it resembles most (ArcFace similarity). "
        "Empty: every face gets the current face.",
    )
    enhancer: bool = Field(False, description="Run the GFPGAN face enhancer (neural engine).")
    enhancer_every: int = Field(
        1,
        ge=1,
        le=10,
        description="Run the enhancer on every Nth frame; in between the "
        "cached result is pasted again.",
    )
    mouth_mask: bool = Field(False, description="Keep the target's own mouth (lip sync).")
    color_correction: bool = Field(
        True, description="Match the swapped face's colour to the target's skin."
    )
    opacity: float = Field(
        1.0, ge=0.0, le=1.0, description="Blend of the swapped face over the original (0..1)."
    )
    sharpness: float = Field(
        0.0, ge=0.0, le=1.0, description="Unsharp mask applied to the swapped face (0..1)."
    )
    many_faces: bool = Field(
        False, description="Swap every face in the frame instead of only the largest."
    )
    on_face_lost: OnFaceLost = Field(
        "passthrough",
        description="Privacy guard: what to show when the swap fails on a frame after a face "
        "was tracked. 'passthrough' shows the camera frame, 'blur' blurs the last known face "
        "region, 'freeze' repeats the last swapped frame, 'placeholder' shows a still card.",
    )
    shape_transfer: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="Lite engine: how far the face's shape (jaw line, where the eyes, nose "
        "and mouth sit) moves from yours towards the source photo's, the camera's pixels "
        "around it warped to match; 0 keeps your face's shape and only changes its skin and "
        "features. Expression (eyes, mouth) stays yours; it fades on a turned head.",
    )
    detect_every: int = Field(
        10,
        ge=1,
        le=300,
        description="Lite engine: run the face detector every Nth frame (on a side thread); "
        "faces are tracked from their landmarks in between.",
    )
    neural_detect_every: int = Field(
        1,
        ge=1,
        le=30,
        description="Neural engine: run SCRFD every Nth frame; in between the last keypoints "
        "are reused (smoothed). 2 roughly halves detection cost at the price of one frame of "
        "lag on fast motion.",
    )
    mask: Literal["auto", "box", "parser"] = Field(
        "auto",
        description="Neural engine: the paste mask. 'parser' runs a face parser on each face "
        "and pastes only the chosen face regions, so hands, microphones, hair and glasses in "
        "front of the face stay visible; 'box' pastes the whole feathered face square; 'auto' "
        "uses the parser when its model (models.parser) is downloaded, else the box.",
    )
    mask_regions: list[MaskRegion] = Field(
        default_factory=lambda: list[MaskRegion](
            ["skin", "brows", "eyes", "nose", "mouth", "lips"]
        ),
        description="With the parser mask: the face regions the swapped face replaces (skin, "
        "brows, eyes, glasses, ears, nose, mouth, lips). Leave out 'glasses' to keep the "
        "camera's glasses over the swap; 'mouth' is the inside of the mouth (teeth, tongue), "
        "'lips' the lips; hair, neck, clothes and anything unlabelled always stay the camera's.",
    )

    @field_validator("mask_regions")
    @classmethod
    def _some_regions(cls, value: list[MaskRegion]) -> list[MaskRegion]:
        if not value:
            raise ValueError(
                "list at least one region (skin, brows, eyes, glasses, ears, nose, mouth, "
                "lips), or set swap.mask: box"
            )
        return list(dict.fromkeys(value))

    parser_every: int = Field(
        1,
        ge=1,
        le=10,
        description="Neural engine, parser mask: run the face parser every Nth frame; in "
        "between each face keeps its last mask (it moves with the face).",
    )
    resolution: Literal[128, 256, 512] = Field(
        128,
        description="Neural engine: 'pixel boost'. The swapped face's side in pixels; above the "
        "swapper's own (inswapper 128, GHOST 256) the face is swapped as 2x2 or 4x4 "
        "interleaved tiles of a larger crop, for a sharper face on large faces at 4x or 16x "
        "the swapper's work.",
    )
    smoothing: bool = Field(
        True,
        description="Neural engine: steady faces. Filter each face's keypoints over time "
        "(One-Euro: steady at rest, no lag in motion) and smooth its colour match and mask "
        "across frames.",
    )
    neural_detect_async: bool = Field(
        True,
        description="Neural engine, live: run SCRFD on a side thread on the newest frame while "
        "the swap uses the latest keypoints (at most a frame older); faster on every machine "
        "measured (BENCHMARKS.md). Files always detect inline.",
    )


class GovernorConfig(Section):
    """Adaptive quality: hold the camera's frame rate when processing cannot keep up."""

    mode: Literal["auto", "off", "pinned"] = Field(
        "auto",
        description="'auto' steps quality down a per-engine ladder when the swap falls behind "
        "the camera (enhancer every Nth frame, then off; detection less often; smaller "
        "detector input; face blended at lower resolution) and back up when there is "
        "headroom; 'off' always runs full quality; 'pinned' holds `level`.",
    )
    level: int = Field(
        0,
        ge=0,
        le=20,
        description="With mode 'pinned': the ladder step to hold (0 = full quality; "
        "`vcamswap ctl status` lists the steps of the running engine).",
    )
    _mode_switch = field_validator("mode", mode="before")(yaml_switch)
    window_s: float = Field(
        2.0,
        ge=0.5,
        le=30.0,
        description="Seconds of measurements behind each decision; every change waits at "
        "least this long, a step up that had to be undone waits twice as long next time.",
    )
