"""Engine selection: which swap processor the config asks for, and why."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from vcamswap.config import AppPaths, Config
from vcamswap.errors import ConfigError
from vcamswap.inference.landmarks import DlibLandmarker
from vcamswap.processors.base import Processor, ProcessorChain
from vcamswap.processors.faces import folder_resolver
from vcamswap.processors.label import LabelStyle, SyntheticLabelProcessor
from vcamswap.processors.lite import LiteOptions, LiteSwapProcessor, lite_face_cache
from vcamswap.runtime import RuntimeState
from vcamswap.types import StageRecorder

log = logging.getLogger(__name__)


def choose_engine(config: Config) -> str:
    """'lite' or 'neural'. The neural engine is not in this version, so 'auto' picks lite."""
    if config.swap.engine == "neural":
        raise ConfigError("swap.engine: the neural engine is not part of this version yet; "
                          "set swap.engine to 'lite' or 'auto'")
    if config.swap.engine == "auto":
        log.info("engine auto: using lite (dlib landmarks, CPU) because this version has no "
                 "neural engine")
    return "lite"


def build_swap_processor(config: Config, paths: AppPaths, state: RuntimeState,
                         stages: StageRecorder | None = None,
                         resolve: Callable[[str | None], Path] | None = None) -> Processor:
    """The swap processor for ``swap.engine`` followed by the visible label when enabled."""
    choose_engine(config)
    swap = config.swap
    landmarker = DlibLandmarker()
    faces = lite_face_cache(landmarker, resolve or folder_resolver(
        swap.faces_dir or paths.faces_dir))
    options = LiteOptions(detect_every=swap.detect_every, many_faces=swap.many_faces,
                          color_correction=swap.color_correction, opacity=swap.opacity,
                          sharpness=swap.sharpness)
    chain: list[Processor] = [LiteSwapProcessor(landmarker, faces, state, options, stages)]
    label = config.safety.label
    if label.enabled:
        chain.append(SyntheticLabelProcessor(LabelStyle(label.text, label.position, label.scale,
                                                        label.opacity)))
    else:
        log.warning("the synthetic-media label is off: you are responsible for telling viewers "
                    "that this video is synthetic")
    return ProcessorChain(chain)
