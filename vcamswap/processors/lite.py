"""Lite engine: a real-time CPU face swap from dlib's 68 landmarks.

Per frame: track each face from its last landmarks (detection only every N frames, on a
downscaled image), 68 landmarks, temporal smoothing, a piecewise-affine warp of the source
texture onto the target mesh inside the face box only, LAB colour transfer, a feathered blend
that keeps the target's eyes and mouth interior so gaze and expression stay live.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from typing import Any

import cv2
import numpy as np

from vcamswap.compositing.blend import blend_into, sharpen
from vcamswap.compositing.shading import match_sharpness, relight
from vcamswap.errors import FaceLostError
from vcamswap.inference.landmarks import DlibLandmarker, GrayImage, HogDetector
from vcamswap.processors import lite_shape, mesh
from vcamswap.processors.detection import BackgroundDetector, detect_scaled
from vcamswap.processors.lite_options import LITE_LADDER, LiteOptions, lite_options_at
from vcamswap.processors.lite_patch import face_patch
from vcamswap.processors.lite_source import (
    LiteFaceCache,
    SourceMesh,
    build_source_mesh,
    load_mesh,
)
from vcamswap.processors.lite_track import (
    CONFIDENT_SCORE,
    LIKENESS,
    REFRESH,
    SHOWN,
    START_SCORE,
    Track,
    box_of,
    iou,
    tracking_blend,
)
from vcamswap.runtime import RuntimeState
from vcamswap.types import (
    BgrImage,
    FaceBox,
    Frame,
    NullStageRecorder,
    Points,
    StageRecorder,
    timed_stage,
)

log = logging.getLogger(__name__)


class LiteSwapProcessor:
    """FrameProcessor for the lite engine. Reads the current face and mouth-mask toggle from
    RuntimeState once per frame; loads each source face once (cached by content hash)."""

    def __init__(
        self,
        landmarker: DlibLandmarker,
        faces: LiteFaceCache,
        state: RuntimeState,
        options: LiteOptions = LiteOptions(),
        stages: StageRecorder | None = None,
    ) -> None:
        self._landmarker = landmarker
        self._faces = faces
        self._state = state
        self._base = options
        self._options = options
        self._stages = stages or NullStageRecorder()
        self._tracks: list[Track] = []
        self._ring_triangles: dict[int, np.ndarray[Any, np.dtype[np.int32]]] = {}
        self._count = 0
        self._last_submit = -(10**9)
        self._lost = False  # a tracked face disappeared and none was found since
        self._prefetcher: DlibLandmarker | None = None
        self._detector: BackgroundDetector[GrayImage, FaceBox] | None = None
        self._near: HogDetector | None = None
        """The inference thread's second detector, for ``_rescue``. Each thread detects with a
        detector of its own (one dlib detector used by two threads at once aborts); all are
        made in ``start`` from the landmarker's, so none is built while frames flow."""

    def _stage(self, name: str) -> AbstractContextManager[None]:
        return timed_stage(self._stages, name)

    def quality_levels(self) -> tuple[str, ...]:
        return tuple(name for name, _ in LITE_LADDER)

    def set_quality(self, level: int) -> None:
        """The governor's step (called on the inference thread between frames)."""
        self._options = lite_options_at(self._base, level)

    def _find(self, gray: GrayImage, detector: HogDetector | None = None) -> list[FaceBox]:
        opts = self._options
        detect = self._landmarker.detect if detector is None else detector.detect
        return detect_scaled(detect, gray, opts.detect_max_side, opts.upsample, opts.min_score)

    def prefetch(self, name: str) -> None:
        """Build ``name``'s mesh on the calling thread with a landmarker of its own (dlib
        objects are not shared across threads); a library face loads its stored mesh."""
        if self._prefetcher is None:
            self._prefetcher = self._landmarker.for_thread()
        helper = self._prefetcher
        stored = self._faces.stored

        def build(image: BgrImage, label: str, digest: str) -> SourceMesh:
            mesh = load_mesh(stored / f"{digest}.lite.npz") if stored else None
            return mesh if mesh is not None else build_source_mesh(helper, image, label)

        self._faces.prefetch(name, build)

    def start(self) -> None:
        self._landmarker.load()
        self._near = self._landmarker.hog()
        if self._prefetcher is None:
            self._prefetcher = self._landmarker.for_thread()
        if self._options.detect_async:
            side = self._landmarker.hog()
            self._detector = BackgroundDetector(lambda gray: self._find(gray, side))
            self._detector.start()

    def close(self) -> None:
        self._tracks = []
        if self._detector is not None:
            self._detector.close()
            self._detector = None

    def process(self, frame: Frame) -> Frame:
        toggles = self._state.get()
        source = self._faces.get(toggles.face)
        gray = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY)
        self._count += 1
        due = (
            not self._tracks
            or self._count - self._last_submit >= self._options.detect_every
            or any(track.likeness < REFRESH or track.suspect for track in self._tracks)
        )
        if self._detector is not None:
            detection = self._detector.poll()
            if detection is not None:
                with self._stage("detect"):
                    self._merge(gray, detection.boxes)
            if due and self._detector.idle:
                self._detector.submit(gray)
                self._last_submit = self._count
        elif due:
            with self._stage("detect"):
                self._merge(gray, self._find(gray))
            self._last_submit = self._count
        had_faces = bool(self._tracks)
        if self._count % self._options.landmarks_every == 0 or not had_faces:
            with self._stage("landmarks"):
                self._follow(gray, frame.captured_at)
        if not self._tracks:
            if had_faces or self._lost:
                self._lost = True
                raise FaceLostError("the tracked face was lost")
            return frame
        self._lost = False
        for track in self._tracks:
            dst = mesh.with_forehead(track.points)
            track.turn(mesh.coverage(source.points, dst, source.triangles))
        if any(track.fade < SHOWN or track.suspect for track in self._tracks):
            # A head turned too far for the mesh, or landmarks that failed the plausibility
            # check this frame: the guard takes the frame.
            return frame
        out = frame.image.copy()
        with self._stage("swap"):
            for track in self._tracks:
                self._swap_one(out, frame.image, source, track, toggles.mouth_mask)
        regions = tuple(box_of(mesh.with_forehead(t.points)) for t in self._tracks)
        return frame.with_image(out, swapped=True, regions=regions)

    def _merge(self, gray: GrayImage, found: list[FaceBox]) -> None:
        """Match detections to tracks by overlap; start tracks for new faces; a track missed
        by two detections in a row ends. Without ``many_faces`` there is one track, see
        ``_merge_one``."""
        if not self._options.many_faces:
            self._merge_one(gray, found)
            return
        kept: list[Track] = []
        for box in found:
            match = max(self._tracks, key=lambda t: iou(t.box, box), default=None)
            if match is not None and iou(match.box, box) > 0.3:
                self._confirm(gray, match, box)
                kept.append(match)
            else:
                points = self._landmarker.landmarks(gray, box)
                kept.append(Track.start(points, box))
        for track in self._tracks:
            if not any(track is k for k in kept):
                track.misses += 1
                if track.misses < 2:
                    kept.append(track)
        self._tracks = kept

    def _merge_one(self, gray: GrayImage, found: list[FaceBox]) -> None:
        """One face: the detector's most confident box, never a second track. A detection
        that confirms the track resets its misses; a confident one elsewhere replaces it (the
        track drifted off the face); a weak one elsewhere (a face-like patch) is ignored; a
        new track needs a score of at least ``START_SCORE``."""
        ranked = sorted(found, key=lambda b: b.score, reverse=True)
        track = self._tracks[0] if self._tracks else None
        if track is not None:
            confirming = [b for b in ranked if iou(track.box, b) > 0.3]
            if confirming:
                self._confirm(gray, track, confirming[0])
                return
            track.misses += 1
            confident = [b for b in ranked if b.score >= CONFIDENT_SCORE]
            if not confident and track.misses < 2:
                return
        starts = [b for b in ranked if b.score >= START_SCORE]
        if not starts:
            self._tracks = []
            return
        points = self._landmarker.landmarks(gray, starts[0])
        self._tracks = [Track.start(points, starts[0])]

    def _confirm(self, gray: GrayImage, track: Track, box: FaceBox) -> None:
        """A detection overlapping ``track``: the position stays the track's (newer than an
        async detection's), the size comes from the detector."""
        sized = track.sized_like(box)
        track.confirm(self._landmarker.landmarks(gray, sized), sized)

    def _rescuer(self) -> HogDetector:
        if self._near is None:  # process() before start(): tests, one-off use
            self._near = self._landmarker.hog()
        return self._near

    def _rescue(self, gray: GrayImage, track: Track) -> bool:
        """Landmarks that fail a check get one second chance in the same frame: the detector
        on the region around the track (a few milliseconds), and the track re-anchored on
        what it finds there. Where the head moved away there is no face to find, and the
        frame goes to the guard. Measured on the sample clip's small face (eye distance about
        40 px), where the shape predictor now and then jumps to a wrong fit: without this,
        0-11 of 20 frames went to the guard per run."""
        box = track.box
        margin = box.width
        h, w = gray.shape[:2]
        x0, y0 = max(0, int(box.left - margin)), max(0, int(box.top - margin))
        x1, y1 = min(w, int(box.right + margin)), min(h, int(box.bottom + margin))
        if x1 - x0 < 40 or y1 - y0 < 40:
            return False
        found = [
            FaceBox(b.left + x0, b.top + y0, b.right + x0, b.bottom + y0, b.score)
            for b in self._rescuer().detect(gray[y0:y1, x0:x1], 1 if box.width < 100 else 0)
            if b.score >= START_SCORE
        ]
        if not found:
            return False
        best = max(found, key=lambda b: b.score)
        points = self._landmarker.landmarks(gray, best)
        if (
            track.template is not None
            and float(np.sum(mesh.aligned_patch(gray, points) * track.template)) < LIKENESS
        ):
            return False  # a face-like patch (HOG fires on motion blur), not this face
        track.confirm(points, best)
        track.suspect = False
        return True

    def _follow(self, gray: GrayImage, now: float) -> None:
        h, w = gray.shape[:2]
        alive: list[Track] = []
        for track in self._tracks:
            new = self._landmarker.landmarks(gray, track.box)
            old_iod, new_iod = mesh.inter_ocular(track.raw), mesh.inter_ocular(new)
            jump = float(np.linalg.norm(new.mean(axis=0) - track.raw.mean(axis=0)))
            centre = new.mean(axis=0)
            if (
                new_iod < 4
                or abs(new_iod - old_iod) > 0.4 * old_iod
                or jump > old_iod
                or not (0 <= centre[0] < w and 0 <= centre[1] < h)
                or not track.plausible(gray, new)
            ):
                if self._rescue(gray, track):
                    alive.append(track)
                    continue
                if not track.suspect:  # one doubtful frame: shown to the guard, kept for one
                    track.suspect = True
                    alive.append(track)
                continue
            track.suspect = False
            track.raw = tracking_blend(track.raw, new)
            track.points = track.smooth(new, now, new_iod)
            alive.append(track)
        self._tracks = alive

    def _reshape(self, out: BgrImage, source: SourceMesh, track: Track) -> Points:
        """The face in ``out`` reshaped towards the source's proportions (in place); the
        landmarks the source's texture then goes on."""
        points = track.points
        strength = lite_shape.strength_for(points, self._options.shape_transfer)
        morphed = lite_shape.morph_points(points, source.points, strength)
        triangles = self._ring_triangles.get(id(source))
        if triangles is None:
            triangles = lite_shape.ring_triangles(source.points)
            self._ring_triangles = {id(source): triangles}
        moved: lite_shape.Reshape | None = track.reshape
        if moved is None or not moved.fits(points, morphed):
            h, w = out.shape[:2]
            moved = lite_shape.reshape((w, h), points, morphed, triangles)
            track.reshape = moved
        if moved is None:
            return points
        image = moved.apply(out)
        ph, pw = image.shape[:2]
        out[moved.top : moved.top + ph, moved.left : moved.left + pw] = image
        return moved.points

    def _swap_one(
        self,
        out: BgrImage,
        original: BgrImage,
        source: SourceMesh,
        track: Track,
        mouth_mask: bool,
    ) -> None:
        scale = self._options.face_scale
        points = track.points
        if self._options.shape_transfer > 0.0:  # at full size, whatever the face_scale
            points = self._reshape(out, source, track)
            original = out
        if scale < 1.0:
            points = (points * scale).astype(np.float32)
        h, w = out.shape[:2]
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        patch = face_patch(track.patch, source, points, mouth_mask, size)
        track.patch = patch
        if patch is None:
            return
        ph, pw = patch.alpha.shape
        left, top = patch.left, patch.top
        warped, alpha = patch.warped, patch.alpha
        if scale < 1.0:  # the patch in full-frame pixels
            left, top = round(left / scale), round(top / scale)
            full_w, full_h = min(w - left, round(pw / scale)), min(h - top, round(ph / scale))
            if full_w < 4 or full_h < 4:
                return
            region = cv2.resize(
                original[top : top + full_h, left : left + full_w],
                (pw, ph),
                interpolation=cv2.INTER_AREA,
            )
        else:
            region = original[top : top + ph, left : left + pw]
        if self._options.color_correction:
            warped = match_sharpness(warped, region, patch.weight)
            warped = relight(warped, region, patch.weight, patch.face_size, alpha=alpha)
        warped = sharpen(warped, self._options.sharpness)
        strength = self._options.opacity * track.fade
        if strength < 1.0:
            alpha = alpha * np.float32(strength)
        if scale < 1.0:
            warped = cv2.resize(warped, (full_w, full_h), interpolation=cv2.INTER_LINEAR)
            alpha = cv2.resize(alpha, (full_w, full_h), interpolation=cv2.INTER_LINEAR)
        blend_into(out, warped, alpha, left, top)
