"""How convincing the lite engine's swap is, judged from its outputs alone.

Every ordered pair of five people from package-shipped photos (scikit-image's astronaut,
matplotlib's Grace Hopper, three faces of insightface's group photo ``t1.jpg``), plus each target
under warm and dim light, is swapped as one still frame through ``LiteSwapProcessor``. Per pair:

- identity: dlib's 128-d descriptor of the output against the source's and the target's
  (distance to the source; whether the output is closer to the source than to the target);
- seam: on a 3 px band around the edge of the region the swap changed (|output - target| > 12
  grey levels, cleaned, largest blob), mean Sobel gradient of the output over the target's;
- ring dE: CIEDE2000 between a 6 px ring just inside that edge and one just outside, in the
  output, minus the same in the target.

Then on clips: temporal jitter (mean frame-to-frame displacement of independently detected
landmarks, output over input, on a head-motion clip) and false faces (swapped regions away from
the real face on the demo's astronaut clip, whose patch the HOG detector can take for a face).

    python -m benchmarks.realism --out DIR [--grid GRID.png --before OLD_DIR --pairs ...]

(from the repository root: it judges with ``tests/helpers/realism.py``, and a tree checked out
elsewhere is measured by running it there with ``PYTHONPATH=.``).

``--out`` gets one PNG per pair and ``metrics.json``; ``--grid`` composes source | target |
before | after rows from ``--before`` (the same script run on an older tree) and ``--out``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tests.helpers.realism import animated_face, face_points, on_face, seam_metrics
from vcamswap.inference.landmarks import DlibLandmarker
from vcamswap.processors.lite import LiteSwapProcessor
from vcamswap.processors.lite_options import LiteOptions

try:
    from vcamswap.processors.lite_source import lite_face_cache
except ImportError:  # the tree before the lite source module (a "before" run)
    from vcamswap.processors.lite import lite_face_cache  # type: ignore[attr-defined,no-redef]
from vcamswap.runtime import RuntimeState, Toggles
from vcamswap.samples import animate, sample_photo
from vcamswap.types import BgrImage, Frame

PEOPLE = ("astronaut", "grace_hopper", "t1_2", "t1_3", "t1_4")
LIGHTS = ("warm", "dim")
JUDGE = DlibLandmarker()


def t1_face(index: int) -> BgrImage:
    """Face ``index`` (left to right) of insightface's group photo, with margin, upscaled 2x."""
    import importlib.util

    spec = importlib.util.find_spec("insightface")
    assert spec is not None and spec.submodule_search_locations
    path = Path(spec.submodule_search_locations[0]) / "data" / "images" / "t1.jpg"
    image = cv2.imread(str(path))
    boxes = sorted(JUDGE.detect(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), 1), key=lambda b: b.left)
    box = boxes[index]
    h, w = image.shape[:2]
    mx, my = box.width * 0.8, box.height * 0.9
    x0, y0 = max(0, int(box.left - mx)), max(0, int(box.top - my))
    x1, y1 = min(w, int(box.right + mx)), min(h, int(box.bottom + my * 0.8))
    crop: BgrImage = cv2.resize(
        image[y0:y1, x0:x1], None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC
    )
    return crop


def person(name: str) -> BgrImage:
    if name.startswith("t1_"):
        return t1_face(int(name[3:]))
    image = sample_photo(name)
    scale = 640 / max(image.shape[:2])
    resized: BgrImage = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return resized


def lit(image: BgrImage, light: str) -> BgrImage:
    """The target under another light: warm (a yellow cast, brighter) or dim (darker, bluish)."""
    f = image.astype(np.float32)
    gain = np.array([0.8, 1.0, 1.15] if light == "warm" else [0.7, 0.6, 0.55], np.float32)
    out: BgrImage = np.clip(f * gain, 0, 255).astype(np.uint8)
    return out


def descriptor(image: BgrImage) -> np.ndarray[Any, Any] | None:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    boxes = JUDGE.detect(gray, 1)
    if not boxes:
        return None
    box = max(boxes, key=lambda b: b.area)
    found: np.ndarray[Any, Any] = JUDGE.descriptor(image, JUDGE.landmarks(gray, box))
    return found


def processor(source: Path, **options: Any) -> LiteSwapProcessor:
    landmarker = DlibLandmarker()
    swap = LiteSwapProcessor(
        landmarker,
        lite_face_cache(landmarker, lambda _name: source),
        RuntimeState(Toggles()),
        LiteOptions(**{"detect_async": False, **options}),
    )
    swap.start()
    return swap


def pairs(
    out: Path, options: dict[str, Any], lights: tuple[str, ...] = LIGHTS
) -> list[dict[str, Any]]:
    photos = {name: person(name) for name in PEOPLE}
    identities = {name: descriptor(image) for name, image in photos.items()}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for source, target in itertools.permutations(PEOPLE, 2):
            path = Path(tmp) / f"{source}.png"
            cv2.imwrite(str(path), photos[source])
            for light in ("", *lights):
                image = lit(photos[target], light) if light else photos[target]
                swap = processor(path, **options)
                started = time.perf_counter()
                result = swap.process(Frame(image, 1, 0.0))
                elapsed = (time.perf_counter() - started) * 1000.0
                swap.close()
                name = f"{source}--{target}{'-' + light if light else ''}"
                cv2.imwrite(str(out / f"{name}.png"), result.image)
                row: dict[str, Any] = {"pair": name, "swapped": result.swapped, "ms": elapsed}
                got, src, tgt = descriptor(result.image), identities[source], identities[target]
                if got is not None and src is not None and tgt is not None:
                    row["to_source"] = float(np.linalg.norm(got - src))
                    row["to_target"] = float(np.linalg.norm(got - tgt))
                row.update(seam_metrics(image, result.image) or {})
                rows.append(row)
                print(json.dumps(row))
    return rows


def jitter(
    source: Path, target: str, options: dict[str, Any], frames: int = 90
) -> dict[str, float]:
    """Frame-to-frame landmark motion of the output face over the input face's."""
    photo = person(target)
    swap = processor(source, **options)
    moves: dict[str, list[float]] = {"in": [], "out": []}
    last: dict[str, np.ndarray[Any, Any] | None] = {"in": None, "out": None}
    for index in range(frames):
        frame = animate(photo, index, frames, (640, 480))
        result = swap.process(Frame(frame, index, 0.0))
        for key, image in (("in", frame), ("out", result.image)):
            points = face_points(image)
            points = points[17:68] if points is not None else None  # brows, eyes, nose, mouth
            previous = last[key]
            if points is not None and previous is not None:
                moves[key].append(float(np.linalg.norm(points - previous, axis=1).mean()))
            last[key] = points
    swap.close()
    ratio = statistics.fmean(moves["out"]) / max(statistics.fmean(moves["in"]), 1e-6)
    return {"jitter_ratio": round(ratio, 3), "frames": len(moves["out"])}


def false_faces(source: Path, options: dict[str, Any], frames: int = 120) -> dict[str, int]:
    """The demo's clip: swapped regions that do not overlap the astronaut's real face."""
    photo = sample_photo("astronaut")
    swap = processor(source, **options)
    false = swapped = 0
    for index in range(frames):
        frame = animate(photo, index, frames, (640, 480))
        truth = animated_face(photo, index, 120, (640, 480))
        result = swap.process(Frame(frame, index, 0.0))
        if not result.swapped:
            continue
        swapped += 1
        if truth is not None:
            false += sum(not on_face(region, truth) for region in result.regions)
    swap.close()
    return {"frames": frames, "swapped_frames": swapped, "false_regions": false}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    judged = [r for r in rows if "to_source" in r]
    seams = [r["seam"] for r in rows if "seam" in r]
    rings = [r["ring_dE"] for r in rows if "ring_dE" in r]
    return {
        "pairs": len(rows),
        "swapped": sum(bool(r["swapped"]) for r in rows),
        "judged": len(judged),
        "identity_moved": sum(r["to_source"] < r["to_target"] for r in judged),
        "mean_to_source": round(statistics.fmean(r["to_source"] for r in judged), 3),
        "within_0.6": sum(r["to_source"] <= 0.6 for r in judged),
        "seam_median": round(statistics.median(seams), 3),
        "seam_max": round(max(seams), 3),
        "ring_dE_median": round(statistics.median(rings), 2),
        "ms_median": round(statistics.median(r["ms"] for r in rows), 1),
    }


def grid(before: Path, after: Path, out: Path, names: list[str]) -> None:
    """Rows of source | target | before | after, 180 px tall each."""
    rows = []
    for name in names:
        source, target = name.split("--")
        base = target.split("-")[0]
        tiles = [
            person(source),
            lit(person(base), target[len(base) + 1 :]) if "-" in target else person(base),
        ]
        tiles += [cv2.imread(str(folder / f"{name}.png")) for folder in (before, after)]
        rows.append(
            np.hstack([cv2.resize(t, (int(t.shape[1] * 180 / t.shape[0]), 180)) for t in tiles])
        )
    width = max(r.shape[1] for r in rows)
    padded = [cv2.copyMakeBorder(r, 0, 4, 0, width - r.shape[1], cv2.BORDER_CONSTANT) for r in rows]
    cv2.imwrite(str(out), np.vstack(padded))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--grid", type=Path)
    parser.add_argument("--before", type=Path)
    parser.add_argument("--pairs", nargs="*", default=[])
    parser.add_argument("--skip-clips", action="store_true")
    parser.add_argument("--clips-only", action="store_true")
    parser.add_argument(
        "--plain", action="store_true", help="only the 20 plain pairs (no warm or dim light)"
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a LiteOptions field for every swap, e.g. shape_transfer=0.6 (repeatable)",
    )
    args = parser.parse_args()
    options = {k: float(v) for k, v in (item.split("=", 1) for item in args.option)}
    if args.grid is not None:
        grid(args.before, args.out, args.grid, args.pairs)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    lights = () if args.plain else LIGHTS
    rows = [] if args.clips_only else pairs(args.out, options, lights)
    result: dict[str, Any] = {"summary": summary(rows) if rows else {}, "rows": rows}
    if not args.skip_clips:
        source = args.out / "source.png"
        cv2.imwrite(str(source), person("grace_hopper"))
        result["jitter"] = jitter(source, "astronaut", options)
        result["false_faces"] = false_faces(source, options)
    (args.out / "metrics.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    main()
