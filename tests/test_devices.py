from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from tests.fakes import MemoryCameraBackend
from vcamswap.config import Config
from vcamswap.daemon.builders import build_sink, build_source
from vcamswap.devices.imaging import TextCardRenderer, fit_image
from vcamswap.devices.sinks import NullSink, RecordingSink, VirtualCameraSink
from vcamswap.devices.sources import (
    OpenCvCameraSource,
    TestPatternSource,
    VideoFileSource,
    find_linux_camera,
)
from vcamswap.errors import ConfigError, DeviceError
from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
from vcamswap.platforms import for_os
from vcamswap.processors.base import PassthroughProcessor


def test_fit_keeps_aspect_and_pads() -> None:
    image = np.full((100, 200, 3), 255, dtype=np.uint8)
    out = fit_image(image, 200, 200)
    assert out.shape == (200, 200, 3)
    assert out[0, 100].tolist() == [0, 0, 0] and out[100, 100].tolist() == [255, 255, 255]
    assert fit_image(image, 200, 100) is image


def test_virtual_camera_sink_sends_bgr_through_the_real_facade(
    memory_camera: type[MemoryCameraBackend],
) -> None:
    sink = VirtualCameraSink(width=320, height=240, fps=30, backend="memory")
    sink.open()
    frame = np.zeros((480, 640, 3), dtype=np.uint8)
    frame[:, :, 2] = 255  # red in BGR
    sink.send(frame)
    camera = memory_camera.instances[-1]
    assert (camera.width, camera.height) == (320, 240)
    import pyvirtualcam

    assert camera.fourcc == pyvirtualcam.util.encode_fourcc(pyvirtualcam.PixelFormat.BGR.value)
    assert camera.frames[0].reshape(240, 320, 3)[120, 160].tolist() == [0, 0, 255]
    sink.close()
    sink.close()
    assert camera.closed


def test_virtual_camera_follows_the_frame_size_and_reopens_on_change(
    memory_camera: type[MemoryCameraBackend],
) -> None:
    sink = VirtualCameraSink(
        width=None, height=None, fps=30, backend="memory", initial_size=(64, 48)
    )
    sink.open()
    sink.send(np.zeros((48, 64, 3), dtype=np.uint8))
    sink.send(np.zeros((96, 128, 3), dtype=np.uint8))
    first, second = memory_camera.instances
    assert first.closed and (second.width, second.height) == (128, 96)
    sink.close()


def test_missing_driver_gives_an_actionable_message(
    memory_camera: type[MemoryCameraBackend],
) -> None:
    sink = VirtualCameraSink(width=64, height=48, fps=30, backend="broken")
    with pytest.raises(DeviceError) as info:
        sink.open()
    message = str(info.value)
    assert "v4l2loopback module not loaded" in message
    assert "--output file:" in message
    assert "Fix:" in message


def test_pipeline_drives_the_virtual_camera(memory_camera: type[MemoryCameraBackend]) -> None:
    sink = VirtualCameraSink(
        width=None, height=None, fps=30, backend="memory", initial_size=(320, 240)
    )
    supervisor = Supervisor(
        TestPatternSource(320, 240, 30),
        PassthroughProcessor(),
        sink,
        TextCardRenderer(),
        options=PipelineOptions(default_size=(320, 240)),
    )
    status = supervisor.run_for(0.7)
    camera = memory_camera.instances[-1]
    assert len(camera.frames) >= 10
    assert status.output_fps > 20
    assert camera.closed


def test_recording_sink_writes_a_playable_mp4(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    sink = RecordingSink(path, fps=25)
    sink.open()
    for value in range(10):
        sink.send(np.full((49, 65, 3), value * 20, dtype=np.uint8))
    sink.close()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height) == (64, 48)
    assert len(frames) == 10


def test_recording_sink_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match="does not exist"):
        RecordingSink(tmp_path / "nope" / "out.mp4").open()


LINUX = for_os("linux", cameras=list)
"""The OS these capture tests describe (V4L2), whatever runs them: no permission prompt."""


class FakeCapture:
    def __init__(self, frames: int, opened: bool = True) -> None:
        self.frames = frames
        self.opened = opened
        self.props: dict[int, float] = {}
        self.released = False

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.opened

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return self.props.get(prop, 0.0)

    def read(self) -> tuple[bool, Any]:
        if self.frames <= 0:
            return False, None
        self.frames -= 1
        return True, np.zeros((720, 1280, 3), dtype=np.uint8)

    def release(self) -> None:
        self.released = True


def test_camera_source_negotiates_mjpg_at_720p_and_reports_loss() -> None:
    import cv2

    captures: list[FakeCapture] = []

    def factory(device: int | str, backend: int) -> FakeCapture:
        captures.append(FakeCapture(frames=2))
        return captures[-1]

    source = OpenCvCameraSource(0, 1280, 720, 30, capture_factory=factory, platform=LINUX)
    source.open()
    props = captures[0].props
    assert props[cv2.CAP_PROP_FOURCC] == cv2.VideoWriter.fourcc(*"MJPG")
    assert props[cv2.CAP_PROP_FRAME_WIDTH] == 1280
    assert source.read() is not None and source.read() is not None
    assert source.read() is None, "an unplugged camera reads as None"
    source.close()
    source.close()
    assert captures[0].released


def test_camera_that_will_not_open_names_the_fix() -> None:
    source = OpenCvCameraSource(
        3, 640, 480, 30, platform=LINUX, capture_factory=lambda d, b: FakeCapture(0, opened=False)
    )
    with pytest.raises(DeviceError, match="unplugged or used by another app"):
        source.open()


def test_find_camera_by_name(tmp_path: Path) -> None:
    for index, name in ((0, "Integrated Webcam"), (10, "VCamSwap")):
        (tmp_path / f"video{index}").mkdir()
        (tmp_path / f"video{index}" / "name").write_text(name + "\n")
    assert find_linux_camera("vcamswap", tmp_path) == "/dev/video10"
    assert find_linux_camera("integrated", tmp_path) == "/dev/video0"
    assert find_linux_camera("other", tmp_path) is None


def test_video_file_source_loops_at_its_own_fps(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    sink = RecordingSink(path, fps=24)
    for value in range(5):
        sink.send(np.full((48, 64, 3), value * 40, dtype=np.uint8))
    sink.close()
    source = VideoFileSource(path)
    source.open()
    assert source.nominal_fps == pytest.approx(24)
    frames = [source.read() for _ in range(12)]
    assert all(f is not None for f in frames)
    source.close()


def test_missing_video_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match="does not exist"):
        VideoFileSource(tmp_path / "none.mp4").open()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(DeviceError, match="cannot decode"):
        VideoFileSource(bad).open()


def test_specs_build_the_right_parts(tmp_path: Path) -> None:
    config = Config()
    assert isinstance(build_source("pattern", config.camera), TestPatternSource)
    assert isinstance(build_source("file:x.mp4", config.camera), VideoFileSource)
    assert isinstance(build_source(0, config.camera, LINUX), OpenCvCameraSource)
    assert isinstance(build_sink("null", config.output, (64, 48)), NullSink)
    assert isinstance(build_sink(f"file:{tmp_path}/o.mp4", config.output, (64, 48)), RecordingSink)
    assert isinstance(build_sink("virtual", config.output, (64, 48)), VirtualCameraSink)
    with pytest.raises(ConfigError, match="unknown output"):
        build_sink("hdmi", config.output, (64, 48))


def test_placeholder_card_has_the_requested_size() -> None:
    card = TextCardRenderer().render("Camera unavailable", 640, 360)
    assert card.shape == (360, 640, 3) and card.dtype == np.uint8
    assert card.std() > 0, "the card shows text"


def test_camera_transform_mirror_rotate_zoom() -> None:
    import numpy as np

    from tests.fakes import ScriptedSource
    from vcamswap.devices.transform import CameraTransform, TransformedSource

    image = np.zeros((4, 6, 3), dtype=np.uint8)
    image[0, 0] = 255  # top-left marker
    assert CameraTransform(mirror=True).apply(image)[0, 5, 0] == 255
    rotated = CameraTransform(rotate=90).apply(image)
    assert rotated.shape == (6, 4, 3) and rotated[0, 3, 0] == 255, "clockwise"
    assert CameraTransform(rotate=270).apply(image)[5, 0, 0] == 255
    assert CameraTransform(rotate=180).apply(image)[3, 5, 0] == 255
    gradient = np.tile(np.arange(200, dtype=np.uint8)[None, :, None], (100, 1, 3))
    zoomed = CameraTransform(zoom=2.0).apply(gradient)
    assert zoomed.shape == gradient.shape
    assert 45 <= int(zoomed[50, 0, 0]) <= 55 and 145 <= int(zoomed[50, 199, 0]) <= 155
    left = CameraTransform(zoom=2.0, pan=(-1.0, 0.0)).apply(gradient)
    assert int(left[50, 0, 0]) <= 2, "pan -1 puts the crop at the left edge"
    assert CameraTransform().identity and not CameraTransform(mirror=True).identity
    source = TransformedSource(ScriptedSource(width=6, height=4), CameraTransform(rotate=90))
    source.open()
    frame = source.read()
    assert frame is not None and frame.shape == (6, 4, 3)
    assert "rotated 90" in source.description


def test_build_source_applies_camera_options_once() -> None:
    from vcamswap.config.models import CameraConfig
    from vcamswap.daemon.builders import build_source
    from vcamswap.devices.sources import TestPatternSource
    from vcamswap.devices.transform import TransformedSource

    plain = build_source("pattern", CameraConfig(width=320, height=240))
    assert isinstance(plain, TestPatternSource), "no wrapper when no option is set"
    mirrored = build_source("pattern", CameraConfig(width=320, height=240, mirror=True, rotate=90))
    assert isinstance(mirrored, TransformedSource)
    mirrored.open()
    image = mirrored.read()
    assert image is not None and image.shape == (320, 240, 3)
