"""Offline mode: images and videos through the live path's processors, labels, audio."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from vcamswap.config import AppPaths, Config
from vcamswap.errors import DeviceError, FaceError, VCamSwapError
from vcamswap.offline.image import swap_image
from vcamswap.offline.video import VideoJob, VideoOptions
from vcamswap.processors.engines import build_swap_processor
from vcamswap.runtime import RuntimeState
from vcamswap.safety.guard import PrivacyGuard
from vcamswap.samples import animate, sample_photo, sample_photo_path
from vcamswap.types import FrameProcessor

FRAMES, FPS = 36, 24


def make_clip(path: Path, audio_codec: str = "aac", seconds: float = FRAMES / FPS) -> Path:
    photo = sample_photo("astronaut")
    with av.open(str(path), mode="w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = 640, 480, "yuv420p"
        audio = out.add_stream(audio_codec, rate=48000)
        audio.layout = "mono"
        for index in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(
                animate(photo, index, FRAMES, (640, 480)), format="bgr24"
            )
            frame.pts = index
            for packet in video.encode(frame):
                out.mux(packet)
        samples = int(48000 * seconds)
        fmt = "s16" if audio_codec.startswith("pcm") else "fltp"
        tone = np.sin(2 * math.pi * 440 * np.arange(samples) / 48000).astype(np.float32)
        data = (tone * 20000).astype(np.int16) if fmt == "s16" else tone
        step = 1024
        for start in range(0, samples, step):
            chunk = data[start : start + step].reshape(1, -1)
            sound = av.AudioFrame.from_ndarray(chunk, format=fmt, layout="mono")
            sound.sample_rate = 48000
            sound.pts = start
            for packet in audio.encode(sound):
                out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode():
                out.mux(packet)
    return path


def processor(paths: AppPaths) -> FrameProcessor:
    config = Config()
    config.swap.engine = "lite"
    face = sample_photo_path("grace_hopper")
    return build_swap_processor(
        config, paths, RuntimeState(), resolve=lambda _n: face, offline=True
    )


def probe(path: Path) -> dict[str, object]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        info: dict[str, object] = {
            "frames": frames,
            "fps": Fraction(video.average_rate),
            "tags": dict(container.metadata),
        }
    with av.open(str(path)) as container:
        if container.streams.audio:
            audio = container.streams.audio[0]
            samples = sum(f.samples for f in container.decode(audio))
            info["audio_seconds"] = samples / audio.codec_context.sample_rate
            info["audio_codec"] = audio.codec_context.name
    return info


def test_video_keeps_frames_fps_audio_and_is_labelled(tmp_path: Path, app_paths: AppPaths) -> None:
    clip = make_clip(tmp_path / "in.mp4")
    before = clip.read_bytes()
    out = tmp_path / "out.mp4"
    result = VideoJob(processor(app_paths), PrivacyGuard("passthrough"), clip, out).run()
    assert clip.read_bytes() == before, "the input is never modified"
    src, dst = probe(clip), probe(out)
    assert dst["frames"] == src["frames"] == FRAMES and dst["fps"] == src["fps"] == FPS
    assert result.audio == "copy" and dst["audio_codec"] == "aac"
    assert abs(float(dst["audio_seconds"]) - float(src["audio_seconds"])) < 0.05  # type: ignore[arg-type]
    tags = dst["tags"]
    assert isinstance(tags, dict) and "Synthetic media" in tags.get("comment", "")
    assert tags.get("synthetic_media") == "true"
    assert result.swapped_frames >= FRAMES - 2


def test_audio_the_container_cannot_hold_is_re_encoded(tmp_path: Path, app_paths: AppPaths) -> None:
    clip = make_clip(tmp_path / "in.mkv", audio_codec="pcm_s16le")
    out = tmp_path / "out.mp4"
    result = VideoJob(processor(app_paths), PrivacyGuard("passthrough"), clip, out).run()
    dst = probe(out)
    assert result.audio == "re-encoded to aac" and dst["audio_codec"] == "aac"
    assert abs(float(dst["audio_seconds"]) - FRAMES / FPS) < 0.1  # type: ignore[arg-type]
    assert dst["frames"] == FRAMES


def test_trim_with_start_and_end(tmp_path: Path, app_paths: AppPaths) -> None:
    clip = make_clip(tmp_path / "in.mp4")
    out = tmp_path / "cut.mp4"
    VideoJob(
        processor(app_paths),
        PrivacyGuard("passthrough"),
        clip,
        out,
        VideoOptions(start=0.5, end=1.0),
    ).run()
    dst = probe(out)
    assert dst["frames"] == 12
    assert abs(float(dst["audio_seconds"]) - 0.5) < 0.1  # type: ignore[arg-type]


def test_interruption_leaves_no_output(tmp_path: Path, app_paths: AppPaths) -> None:
    clip = make_clip(tmp_path / "in.mp4")
    out = tmp_path / "out.mp4"

    def interrupt(done: int, _total: int | None, _elapsed: float) -> None:
        if done == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        VideoJob(
            processor(app_paths), PrivacyGuard("passthrough"), clip, out, progress=interrupt
        ).run()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_image_swap_is_labelled_visibly_and_in_metadata(
    tmp_path: Path, app_paths: AppPaths
) -> None:
    src = tmp_path / "in.png"
    Image.open(sample_photo_path("astronaut")).save(src)
    for name in ("out.png", "out.jpg", "out.webp"):
        out = tmp_path / name
        assert swap_image(processor(app_paths), PrivacyGuard("passthrough"), src, out) == 1
        picture = Image.open(out)
        exif = picture.getexif()
        assert "Synthetic media" in exif.get(0x010E, ""), name
        assert "VCamSwap" in exif.get(0x0131, ""), name
        if name.endswith(".png"):
            assert picture.text.get("synthetic_media") == "true"  # type: ignore[attr-defined]
        xmp = picture.info.get("xmp") or picture.info.get("XML:com.adobe.xmp", "")
        text = xmp.decode() if isinstance(xmp, bytes) else xmp
        assert "compositeWithTrainedAlgorithmicMedia" in text
        original = np.asarray(Image.open(src).convert("RGB"))
        swapped = np.asarray(picture.convert("RGB"))
        corner = np.abs(swapped[-40:, -150:].astype(int) - original[-40:, -150:])
        assert (corner.max(axis=2) > 100).sum() > 50, "the visible badge is in the corner"


def test_image_without_a_face_is_refused(tmp_path: Path, app_paths: AppPaths) -> None:
    src = tmp_path / "wall.png"
    Image.fromarray(np.full((200, 300, 3), 90, np.uint8)).save(src)
    with pytest.raises(FaceError, match="no face found in"):
        swap_image(processor(app_paths), PrivacyGuard("passthrough"), src, tmp_path / "o.png")
    assert not (tmp_path / "o.png").exists()


def test_bad_video_inputs_give_clear_messages(tmp_path: Path, app_paths: AppPaths) -> None:
    guard = PrivacyGuard("passthrough")
    with pytest.raises(DeviceError, match="does not exist"):
        VideoJob(processor(app_paths), guard, tmp_path / "none.mp4", tmp_path / "o.mp4").run()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 but then nothing")
    with pytest.raises(DeviceError, match="cannot read"):
        VideoJob(processor(app_paths), guard, broken, tmp_path / "o.mp4").run()
    clip = make_clip(tmp_path / "in.mp4")
    with pytest.raises(VCamSwapError, match="never modified"):
        VideoJob(processor(app_paths), guard, clip, clip).run()
    with pytest.raises(VCamSwapError, match=r"use \.mp4"):
        VideoJob(processor(app_paths), guard, clip, tmp_path / "o.avi").run()
    with pytest.raises(VCamSwapError, match="cannot write"):
        VideoJob(processor(app_paths), guard, clip, tmp_path / "missing" / "o.mp4").run()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4", "in.mp4"]


def test_swap_cli_end_to_end(tmp_path: Path) -> None:
    src = tmp_path / "in.jpg"
    Image.open(sample_photo_path("astronaut")).convert("RGB").save(src)
    env = {**os.environ, "VCAMSWAP_HOME": str(tmp_path / "home")}
    base = [
        sys.executable,
        "-m",
        "vcamswap",
        "swap",
        "--face",
        str(sample_photo_path("grace_hopper")),
        "--input",
        str(src),
    ]
    refused = subprocess.run(
        [*base, "--output", str(tmp_path / "o.jpg")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert refused.returncode == 1 and "--accept-consent" in refused.stderr
    done = subprocess.run(
        [*base, "--output", str(tmp_path / "o.jpg"), "--accept-consent"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "labelled synthetic" in done.stdout and (tmp_path / "o.jpg").is_file()
    bad = subprocess.run(
        [*base[:-2], "--input", str(tmp_path / "x.gif"), "--output", str(tmp_path / "o.jpg")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1 and "unsupported input" in bad.stderr


def test_auto_encoder_falls_back_to_software_when_no_hardware_encoder_opens() -> None:
    from vcamswap.offline.video import HARDWARE, pick_encoder

    chosen = pick_encoder("h264")
    assert chosen == "libx264" or chosen in HARDWARE["h264"]
    if not Path("/dev/nvidia0").exists() and not Path("/dev/dri").exists():
        assert chosen == "libx264"  # this machine: NVENC is compiled in but cannot open
    assert pick_encoder("vp9") in (*HARDWARE["vp9"], "libvpx-vp9")


def test_unknown_encoder_is_a_clear_error(tmp_path: Path, app_paths: AppPaths) -> None:
    clip = make_clip(tmp_path / "in.mp4")
    with pytest.raises(VCamSwapError, match="not available in this FFmpeg build"):
        VideoJob(
            processor(app_paths),
            PrivacyGuard("passthrough"),
            clip,
            tmp_path / "o.mp4",
            VideoOptions(encoder="h264_imaginary"),
        ).run()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
