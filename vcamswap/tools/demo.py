"""`vcamswap demo`: the lite engine on built-in material, end to end through the live pipeline.

Grace Hopper's portrait (matplotlib) is the source face; a clip animated from NASA's astronaut
portrait (scikit-image) is the camera. The output is a side-by-side mp4 (original | swapped,
labelled), and optionally the virtual camera."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from vcamswap.config import AppPaths, Config
from vcamswap.devices.imaging import TextCardRenderer
from vcamswap.devices.sinks import RecordingSink, VirtualCameraSink
from vcamswap.devices.sources import VideoFileSource
from vcamswap.errors import DeviceError
from vcamswap.labels import container_tags
from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
from vcamswap.processors.engines import build_swap_processor
from vcamswap.runtime import RuntimeState
from vcamswap.samples import sample_clip, sample_photo_path
from vcamswap.types import Frame, FrameProcessor

log = logging.getLogger(__name__)
DEMO_FRAMES = 120


class SideBySideProcessor:
    """Shows the camera frame and the processed frame next to each other."""

    def __init__(self, inner: FrameProcessor) -> None:
        self._inner = inner

    def start(self) -> None:
        self._inner.start()

    def close(self) -> None:
        self._inner.close()

    def process(self, frame: Frame) -> Frame:
        result = self._inner.process(frame)
        return result.with_image(np.hstack([frame.image, result.image]))


def run_demo(out: Path, paths: AppPaths, *, virtual: bool = False) -> Path:
    clip = sample_clip(paths.cache_dir, "astronaut", (640, 480), DEMO_FRAMES)
    face = sample_photo_path("grace_hopper")
    config = Config()
    config.swap.engine = "lite"
    state = RuntimeState()
    swap = build_swap_processor(config, paths, state, resolve=lambda _name: face)
    out = out.expanduser().resolve()
    partial = out.with_name(f".{out.stem}.part{out.suffix}")
    supervisor = Supervisor(
        VideoFileSource(clip, loop=False),
        SideBySideProcessor(swap),
        RecordingSink(partial, fps=30.0, tags=container_tags()),
        TextCardRenderer(),
        state=state,
        options=PipelineOptions(
            paced=False, lockstep=True, max_frames=DEMO_FRAMES, default_size=(1280, 480)
        ),
    )
    supervisor.start()
    supervisor.wait(300)
    supervisor.stop()
    status = supervisor.status()
    if status.frames_processed == 0 or not partial.is_file():
        raise DeviceError(f"the demo produced no frames ({status.last_error or 'unknown'})")
    partial.replace(out)
    log.info("demo: %d frames, lite stages %s", status.frames_processed, status.stages_ms)
    if virtual:
        stream_to_virtual_camera(clip, paths, face)
    return out


def stream_to_virtual_camera(
    clip: Path, paths: AppPaths, face: Path, seconds: float = 20.0
) -> None:
    """Play the swapped clip on the virtual camera for ``seconds`` if a driver exists."""
    config = Config()
    state = RuntimeState()
    sink = VirtualCameraSink(width=None, height=None, fps=30.0, initial_size=(640, 480))
    try:
        sink.open()
    except DeviceError as exc:
        log.warning("%s", exc)
        return
    sink.close()
    supervisor = Supervisor(
        VideoFileSource(clip),
        build_swap_processor(config, paths, state, resolve=lambda _name: face),
        sink,
        TextCardRenderer(),
        state=state,
        options=PipelineOptions(default_size=(640, 480)),
    )
    log.info("streaming the demo to the virtual camera for %.0f s", seconds)
    supervisor.run_for(seconds)
