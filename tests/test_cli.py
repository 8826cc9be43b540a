from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from tests.helpers.realism import animated_face
from vcamswap.samples import sample_photo

ROOT = Path(__file__).resolve().parents[1]


def env_for(home: Path) -> dict[str, str]:
    return {**os.environ, "VCAMSWAP_HOME": str(home)}


def vcamswap(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``vcamswap ARGS`` in a subprocess with everything under ``home``; output captured."""
    return subprocess.run(
        [sys.executable, "-m", "vcamswap", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env_for(home),
        check=False,
    )


def test_demo_writes_a_side_by_side_swap(tmp_path: Path) -> None:
    out = tmp_path / "demo.mp4"
    result = vcamswap(tmp_path / "home", "demo", "--out", str(out), timeout=300)
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (1280, 480)
        images = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
        tags = dict(container.metadata)
    assert len(images) == 120
    # The swap changes the face and nothing else: pixels of the right half that differ from the
    # left (the camera) lie on the astronaut's face, found from the still photo and carried by
    # the clip's own motion (the label's corner excepted); most frames have the face swapped.
    # A frame the privacy guard blurred differs everywhere and is not a pasted face.
    photo = sample_photo("astronaut")
    on_face = away = guarded = 0
    for index, image in enumerate(images):
        changed = np.abs(image[:, :640].astype(int) - image[:, 640:].astype(int)).max(axis=2) > 40
        changed[-120:, -260:] = False
        points = animated_face(photo, index, 120, (640, 480))
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        w, h = x1 - x0, y1 - y0
        face = np.zeros_like(changed)
        face[
            max(0, int(y0 - 0.9 * h)) : int(y1 + 0.3 * h),
            max(0, int(x0 - 0.3 * w)) : int(x1 + 0.3 * w),
        ] = True
        outside = int((changed & ~face).sum())
        if outside > 0.2 * int((~face).sum()):
            guarded += 1
            continue
        on_face += int((changed & face).sum()) > 500
        away += outside > 200
    assert on_face >= 100 and away == 0, (on_face, away, guarded)
    assert tags.get("synthetic_media") == "true"
    assert tags.get("digital_source_type", "").endswith("compositeWithTrainedAlgorithmicMedia")
    assert not list(tmp_path.glob(".*part*")), "no partial file left behind"
    verified = vcamswap(tmp_path / "home", "verify", "--json", str(out))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)[0]["watermark"]["found"]


def test_bench_prints_one_json_object(tmp_path: Path) -> None:
    result = vcamswap(
        tmp_path / "home",
        "bench",
        "--engine",
        "lite",
        "--frames",
        "30",
        "--size",
        "320x240",
        "--json",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # 30 timed frames after the first swapped one and the warm-up, each with a swapped face
    # counted by the pipeline (not echoed from the request).
    assert data["engine"] == "lite" and data["frames"] == 30 and data["valid"] is True
    assert data["swapped_frames"] >= 27 and data["faces_swapped_mean"] >= 0.9
    assert data["dropped"] == 0
    assert data["fps"] > 0 and data["latency_ms"]["p95"] >= data["latency_ms"]["p50"] > 0
    assert set(data["stages_ms"]) == {
        "detect",
        "landmarks",
        "embed",
        "parse",
        "swap",
        "enhance",
        "paste",
        "transfer",
        "total",
    }
    assert data["machine"]["cores"] >= 1


def test_bench_on_frames_without_faces_is_invalid_and_exits_non_zero(tmp_path: Path) -> None:
    """The test pattern has no face: a lite run swaps nothing, and says so instead of
    reporting the speed of doing nothing."""
    result = vcamswap(
        tmp_path / "home",
        "bench",
        "--engine",
        "lite",
        "--frames",
        "20",
        "--size",
        "320x240",
        "--input",
        "pattern",
        "--first-swap-timeout",
        "3",
        "--json",
        timeout=300,
    )
    assert result.returncode == 1
    assert "no face was swapped" in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_with_a_corrupt_model_fails_in_one_line(tmp_path: Path) -> None:
    """A corrupt swapper file: one line naming the file, non-zero, no passthrough numbers."""
    pytest.importorskip("onnxruntime")
    models = tmp_path / "models"
    models.mkdir()
    for name in ("det_10g.onnx", "w600k_r50.onnx", "inswapper_128.onnx"):
        (models / name).write_bytes(b"this is not an onnx model" * 10)
    result = vcamswap(
        tmp_path / "home",
        "bench",
        "--engine",
        "neural",
        "--frames",
        "10",
        "--size",
        "320x240",
        "--models",
        str(models),
        "--json",
        timeout=300,
    )
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "could not be loaded" in result.stderr or "not start" in result.stderr


def test_bench_rejects_a_bad_size(tmp_path: Path) -> None:
    result = vcamswap(tmp_path / "home", "bench", "--size", "big", timeout=60)
    assert result.returncode == 2
    assert "expected WxH" in result.stderr


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="Windows delivers no SIGINT/SIGTERM to a "
    "child: send_signal(SIGINT) raises and SIGTERM is TerminateProcess",
)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_stops_within_a_second_of_a_signal(tmp_path: Path, signum: int) -> None:
    home = tmp_path / "home"
    out = tmp_path / "run.mp4"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vcamswap",
            "run",
            "--no-tray",
            "--camera",
            "pattern",
            "--output",
            f"file:{out}",
            "--engine",
            "lite",
            "--accept-consent",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env_for(home),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (out.exists() and out.stat().st_size > 0):
            time.sleep(0.1)
        assert out.exists(), "the daemon started recording"
        time.sleep(0.5)
        sent = time.monotonic()
        process.send_signal(signum)
        process.wait(timeout=5)
        assert time.monotonic() - sent < 1.0
    finally:
        if process.poll() is None:
            process.kill()
    output = process.stdout.read() if process.stdout else ""
    assert process.returncode == 0, output
    text = (home / "config.yaml").read_text()
    assert "consent_accepted: true" in text, "the acceptance is recorded"
    assert "# Set when you accepted the consent notice" in text, "comments are kept"
    assert "no source face" in output, "a missing face is explained, frames pass through"
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) > 5


def test_run_with_a_bad_config_exits_2_and_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("swap:\n  opacty: 0.5\n")
    result = vcamswap(
        tmp_path / "home",
        "run",
        "--config",
        str(config),
        "--camera",
        "pattern",
        "--output",
        "null",
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{config}:2: swap.opacty: unknown key; did you mean 'opacity'?" in result.stderr


def test_run_without_consent_in_a_pipe_says_how_to_accept(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vcamswap", "run", "--camera", "pattern", "--output", "null"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env_for(tmp_path / "home"),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 1
    assert "consent required" in result.stderr and "--accept-consent" in result.stderr
    assert "consent_accepted: false" in (tmp_path / "home" / "config.yaml").read_text()


def test_config_commands_a_new_user_meets(tmp_path: Path) -> None:
    """check-config on a fresh install, run --config on a missing file (whose suggestion
    works), doctor --config checking that file."""
    home = tmp_path / "home"
    fresh = vcamswap(home, "check-config")
    assert fresh.returncode == 0 and "valid" in fresh.stdout
    missing = tmp_path / "mine.yaml"
    refused = vcamswap(home, "run", "--config", str(missing), "--no-tray")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    suggestion = refused.stderr.split("`")[1]
    assert suggestion == f"vcamswap check-config --write-defaults {missing}"
    assert vcamswap(home, *suggestion.split()[1:]).returncode == 0
    assert vcamswap(home, "check-config", str(missing)).returncode == 0
    missing.write_text("swap:\n  opacity: lots\n")
    doctor = vcamswap(home, "doctor", "--config", str(missing), "--json")
    config_check = next(c for c in json.loads(doctor.stdout) if c["name"] == "config")
    assert config_check["level"] == "FAIL" and str(missing) in config_check["message"]


def test_a_recording_of_the_live_output_carries_the_machine_readable_label(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text(
        "safety:\n  consent_accepted: true\n  content_check:\n"
        "    enabled: false\ntray:\n  enabled: false\n"
    )
    out = tmp_path / "live.mp4"
    result = vcamswap(
        home,
        "run",
        "--camera",
        "pattern",
        "--output",
        f"file:{out}",
        "--engine",
        "lite",
        "--seconds",
        "3",
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        tags = dict(container.metadata)
    assert tags.get("synthetic_media") == "true" and "Synthetic media" in tags["comment"]
    assert tags["digital_source_type"].endswith("compositeWithTrainedAlgorithmicMedia")


def test_ctl_without_a_daemon_says_so_and_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = vcamswap(home, "ctl", "status", timeout=60)
    assert result.returncode == 1 and "vcamswap run" in result.stderr
    assert "Traceback" not in result.stderr
    assert not home.exists(), "ctl status created files"
