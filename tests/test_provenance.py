"""Provenance that survives the virtual camera: the invisible watermark through re-encoding,
scaling and JPEG, no false positives, signed C2PA manifests, and `vcamswap verify` on the real
outputs of `swap`, `run --output file:` and the demo. The watermark's reader is judged on
transformations made here with libx264, OpenCV and JPEG, not by the embedder's own code."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import pytest

from tests.helpers.marks import (
    decode,
    encode,
    generated_scenes,
    jpeg,
    package_images,
    portrait_clip,
    psnr,
    rescaled,
)
from vcamswap.config import Config
from vcamswap.offline.verify import read_frames
from vcamswap.safety.c2pa_sign import (
    ManifestSigner,
    make_local_credentials,
    read_manifest,
)
from vcamswap.safety.watermark import Codebook, Payload, Watermarker
from vcamswap.samples import sample_photo, sample_photo_path
from vcamswap.types import BgrImage

SYNTHETIC = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return Codebook()


@pytest.fixture(scope="module")
def clip() -> list[BgrImage]:
    return portrait_clip(4.0)


@pytest.fixture(scope="module")
def marked(codebook: Codebook, clip: list[BgrImage]) -> list[BgrImage]:
    marker = Watermarker(codebook)
    return [marker.mark(image) for image in clip]


def window_share(codebook: Codebook, frames: list[BgrImage]) -> float:
    report = read_frames(codebook, ((i / 30.0, f) for i, f in enumerate(frames)))
    assert report.windows >= 2
    return report.windows_found / report.windows


def test_the_mark_is_invisible_by_psnr(clip: list[BgrImage], marked: list[BgrImage]) -> None:
    assert min(psnr(m, f) for m, f in zip(marked, clip, strict=True)) >= 40.0


def test_the_mark_survives_h264_at_1_mbit(codebook: Codebook, marked: list[BgrImage]) -> None:
    assert window_share(codebook, decode(encode(marked, bit_rate=1_000_000))) >= 0.95


def test_the_mark_survives_scaling_to_640x360_and_back(
    codebook: Codebook, marked: list[BgrImage]
) -> None:
    small = [rescaled(m, (640, 360), back=False) for m in marked]
    assert window_share(codebook, decode(encode(small, crf=23))) >= 0.95
    back = [rescaled(m, (640, 360)) for m in marked]
    assert window_share(codebook, decode(encode(back, crf=23))) >= 0.95


def test_the_mark_survives_a_90_percent_jpeg_of_each_frame(
    codebook: Codebook, marked: list[BgrImage]
) -> None:
    found = [codebook.read(jpeg(m, 90)) for m in marked[::3]]
    assert sum(r.found for r in found) >= 0.95 * len(found)
    assert all(Payload.of(r.payload).version == 1 for r in found if r.found)


def test_no_false_positives_on_a_thousand_unmarked_frames(
    codebook: Codebook, clip: list[BgrImage]
) -> None:
    photos = package_images()
    assert len(photos) >= 30, "the package photos are the varied part of this set"
    frames = list(clip) + decode(encode(clip, bit_rate=1_000_000))
    frames += photos + [cv2.resize(p, (1280, 720)) for p in photos] + [jpeg(p) for p in photos]
    frames += generated_scenes(max(0, 1000 - len(frames)))
    assert len(frames) >= 1000
    flagged = [i for i, image in enumerate(frames) if codebook.read(image).found]
    assert flagged == []


def test_local_signing_credentials_are_private_named_local_and_kept(tmp_path: Path) -> None:
    first = make_local_credentials(tmp_path / "c2pa")
    key = tmp_path / "c2pa" / "c2pa-local-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in first.private_key and first.local
    assert make_local_credentials(tmp_path / "c2pa") == first  # made once per installation
    from cryptography import x509

    leaf = x509.load_pem_x509_certificates(first.certificate_chain)[0]
    assert "local" in leaf.subject.rfc4514_string()


def test_a_signed_image_reads_back_and_tampering_shows(tmp_path: Path) -> None:
    image = tmp_path / "out.jpg"
    cv2.imwrite(str(image), sample_photo("astronaut"))
    assert not read_manifest(image).present
    ManifestSigner(tmp_path / "data").sign(image)
    report = read_manifest(image)
    assert report.present and report.valid_except_trust
    assert report.digital_source_type == SYNTHETIC
    data = bytearray(image.read_bytes())
    data[-4000] ^= 0xFF
    image.write_bytes(bytes(data))
    broken = read_manifest(image)
    assert broken.present and not broken.valid_except_trust and broken.problems


def test_certificate_without_key_is_a_clear_config_error() -> None:
    with pytest.raises(ValueError, match="set both certificate and private_key"):
        Config.model_validate({"safety": {"c2pa": {"certificate": "/x/chain.pem"}}})


def cli(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vcamswap", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "VCAMSWAP_HOME": str(home)},
        check=False,
    )


def verify(home: Path, *files: Path) -> tuple[int, list[dict[str, Any]]]:
    result = cli(home, "verify", "--json", *map(str, files))
    assert result.returncode in (0, 2, 3), result.stderr
    return result.returncode, json.loads(result.stdout)


@pytest.mark.slow
def test_verify_finds_every_mark_in_a_swapped_video_and_the_watermark_after_reencoding(
    tmp_path: Path, clip: list[BgrImage]
) -> None:
    home = tmp_path / "home"
    source = tmp_path / "clip.mp4"
    encode([rescaled(f, (640, 360), back=False) for f in clip[:60]], source, crf=18)
    out = tmp_path / "swapped.mp4"
    face = sample_photo_path("grace_hopper")
    result = cli(
        home, "swap", "--face", str(face), "--input", str(source), "--output", str(out),
        "--engine", "lite", "--accept-consent",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    code, reports = verify(home, out)
    assert code == 0
    [report] = reports
    assert report["watermark"]["found"] and report["watermark"]["share"] >= 0.95
    assert report["c2pa"]["present"] and report["c2pa"]["valid_except_trust"]
    assert report["c2pa"]["digital_source_type"] == SYNTHETIC
    assert report["iptc"]["digital_source_type"] == SYNTHETIC

    import av

    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    reencoded = tmp_path / "reencoded.mp4"
    encode(frames, reencoded, bit_rate=1_000_000)  # as a video app would: metadata dropped
    code, [again] = verify(home, reencoded)
    assert code == 0 and again["watermark"]["found"]
    assert not again["c2pa"]["present"] and "digital_source_type" not in again["iptc"]

    code, [original] = verify(home, source)
    assert code == 3 and not original["watermark"]["found"]
    code, [missing] = verify(home, tmp_path / "nope.mp4")
    assert code == 2 and "does not exist" in str(missing["error"])


@pytest.mark.slow
def test_verify_finds_the_watermark_in_a_recording_of_the_live_output(tmp_path: Path) -> None:
    from vcamswap.samples import sample_clip

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text(
        "safety:\n  consent_accepted: true\n  content_check:\n    enabled: false\n"
        "tray:\n  enabled: false\ncontrol:\n  port: 0\n"
    )
    clip = sample_clip(tmp_path / "cache", "astronaut", (640, 480), 90)
    recording = tmp_path / "live.mp4"
    result = cli(
        home, "run", "--no-tray", "--camera", f"file:{clip}", "--output", f"file:{recording}",
        "--engine", "lite", "--face", str(sample_photo_path("grace_hopper")), "--seconds", "12",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    code, [report] = verify(home, recording)
    assert code == 0 and report["watermark"]["found"], report
    assert not report["c2pa"]["present"]


def test_matroska_tags_count_whatever_their_case(tmp_path: Path, codebook: Codebook) -> None:
    """MKV and WebM store tag names upper-case; verify reads them."""
    import av

    from vcamswap.labels import container_tags
    from vcamswap.offline.verify import verify_file

    path = tmp_path / "tagged.mkv"
    with av.open(str(path), "w") as container:
        container.metadata.update(container_tags())
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for image in [rescaled(f, (320, 240), back=False) for f in portrait_clip(1.0)[:10]]:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    report = verify_file(codebook, path)
    assert report.iptc.get("digital_source_type") == SYNTHETIC
    assert report.marked and not report.watermark.found


def test_pictures_smaller_than_the_grid_are_not_read(codebook: Codebook) -> None:
    icon = cv2.resize(sample_photo("astronaut"), (48, 48), interpolation=cv2.INTER_AREA)
    assert codebook.read(icon).z <= 0.0


def test_verify_usage_errors_exit_2(tmp_path: Path) -> None:
    home = tmp_path / "home"
    nothing = cli(home, "verify")
    assert nothing.returncode == 2 and "name one or more files" in nothing.stderr
    zero = cli(home, "verify", "--camera", "pattern", "--seconds", "0")
    assert zero.returncode == 2 and "--seconds must be above 0" in zero.stderr
    assert "Traceback" not in nothing.stderr + zero.stderr


def test_a_broken_signing_setup_stops_swap_before_work_and_writes_nothing(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "chain.pem").write_text("not a certificate")
    (tmp_path / "key.pem").write_text("not a key")
    (home / "config.yaml").write_text(
        "safety:\n  consent_accepted: true\n  c2pa:\n"
        f"    certificate: {tmp_path / 'chain.pem'}\n    private_key: {tmp_path / 'key.pem'}\n"
    )
    out = tmp_path / "out.png"
    result = cli(
        home, "swap", "--face", str(sample_photo_path("grace_hopper")),
        "--input", str(sample_photo_path("astronaut")), "--output", str(out), "--engine", "lite",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "C2PA signing does not work" in result.stderr and "safety.c2pa" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".*out*"))
