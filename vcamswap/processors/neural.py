"""Neural engine: SCRFD detection, inswapper on aligned 128 crops (all faces of a frame in one
call when the model allows), optional GFPGAN, paste-back inside each face's box only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vcamswap.compositing import Compositor, EnhanceJob, FaceJob, HostCompositor, Look
from vcamswap.compositing.blend import feather_mask
from vcamswap.compositing.occlusion import OcclusionMasks
from vcamswap.errors import DegradedError, FaceError, FaceLostError
from vcamswap.ports import (
    DetectedFace,
    FaceDetector,
    FaceEmbedder,
    FaceEnhancer,
    FaceParser,
    FaceSwapper,
)
from vcamswap.processors.detection import BackgroundDetector
from vcamswap.processors.faces import SourceFaceCache
from vcamswap.processors.neural_options import NeuralOptions, neural_ladder, neural_options_at
from vcamswap.processors.neural_track import FaceTracks
from vcamswap.runtime import RuntimeState
from vcamswap.types import BgrImage, Frame, NullStageRecorder, StageRecorder, timed_stage

log = logging.getLogger(__name__)
__all__ = [
    "NeuralModels",
    "NeuralOptions",
    "NeuralSwapProcessor",
    "SourceIdentity",
    "assign_sources",
    "build_identity",
    "neural_options_at",
]


@dataclass(frozen=True, slots=True)
class SourceIdentity:
    """A source face: its normalised ArcFace embedding and the swapper latent made from it."""

    embedding: np.ndarray[Any, np.dtype[np.float32]]
    latent: np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True, slots=True)
class NeuralModels:
    detector: FaceDetector
    embedder: FaceEmbedder
    swapper: FaceSwapper
    enhancer: FaceEnhancer | None = None
    compositor: Compositor | None = None
    """Crop, swap, paste and enhance on the models' device (models.device_compositing); None
    composites on the host."""
    remote_wait: Callable[[], float] | None = None
    """Seconds spent waiting on a remote model server so far (None: all models are local)."""
    parser: FaceParser | None = None
    """The face parser for occlusion-aware masks (None: the box mask)."""


def build_identity(models: NeuralModels, image: BgrImage, name: str) -> SourceIdentity:
    faces = models.detector.detect(image)
    if not faces:
        raise FaceError(f"no face found in {name}: use a clear, frontal, well-lit photo")
    largest = max(faces, key=lambda f: f.box.area)
    raw = models.embedder.embed_raw(image, largest.kps).astype(np.float32)
    norm = float(np.linalg.norm(raw))
    if norm == 0:
        raise FaceError(f"the face in {name} gave an empty embedding: try another photo")
    return SourceIdentity(raw / np.float32(norm), models.swapper.latent(raw))


def assign_sources(targets: np.ndarray[Any, Any], sources: np.ndarray[Any, Any]) -> list[int]:
    """For each target embedding (rows, unit length), the index of the most similar source."""
    if len(sources) == 1:
        return [0] * len(targets)
    return [int(i) for i in np.argmax(targets @ sources.T, axis=1)]


class NeuralSwapProcessor:
    """FrameProcessor for the neural engine. Models are built by ``load`` on the inference
    thread (sessions must be created there); the source identity is cached per file hash."""

    def __init__(
        self,
        load: Callable[[], NeuralModels],
        resolve: Callable[[str | None], Path],
        state: RuntimeState,
        options: NeuralOptions = NeuralOptions(),
        stages: StageRecorder | None = None,
    ) -> None:
        self._load = load
        self._resolve = resolve
        self._state = state
        self._base = options
        self._options = options
        self._background: BackgroundDetector[BgrImage, DetectedFace] | None = None
        self._last_submit = -(10**9)
        self._stages = stages or NullStageRecorder()
        self._models: NeuralModels | None = None
        self._faces: SourceFaceCache[SourceIdentity] | None = None
        self._tracked: list[DetectedFace] = []
        self._tracks = FaceTracks(options.smoothing)
        self._masks: OcclusionMasks | None = None
        self._count = 0
        self._lost = False
        self._compositor: Compositor | None = None
        self._enhance_alpha: np.ndarray[Any, np.dtype[np.float32]] | None = None

    def _stage(self, name: str) -> AbstractContextManager[None]:
        return timed_stage(self._stages, name)

    def remote_wait_s(self) -> float:
        """Seconds this processor's models waited on a remote server (0 when all are local)."""
        models = self._models
        return models.remote_wait() if models is not None and models.remote_wait else 0.0

    def quality_levels(self) -> tuple[str, ...]:
        return tuple(name for name, _ in neural_ladder(self._base))

    def set_quality(self, level: int) -> None:
        """The governor's step (called on the inference thread between frames)."""
        self._options = neural_options_at(self._base, level)
        self._apply_detector_size()

    def _apply_detector_size(self) -> None:
        if self._models is not None:
            self._models.detector.resize(self._options.detector_size)

    def start(self) -> None:
        models = self._load()
        self._models = models
        self._compositor = models.compositor or HostCompositor(models.swapper, models.enhancer)
        self._apply_detector_size()
        if self._options.detect_async:
            self._background = BackgroundDetector(models.detector.detect)
            self._background.start()
        self._faces = SourceFaceCache(
            self._resolve, lambda image, name, _digest: build_identity(models, image, name)
        )
        if models.parser is not None and self._base.parser:
            self._masks = OcclusionMasks(models.parser, self._base.mask_regions)

    def close(self) -> None:
        if self._background is not None:
            self._background.close()
            self._background = None
        if self._compositor is not None:
            self._compositor.close()
        self._compositor = None
        self._models = None
        self._faces = None
        self._masks = None

    def prefetch(self, name: str) -> None:
        """Embed ``name`` now, off the frame path (onnxruntime sessions are thread-safe)."""
        if self._faces is not None:
            self._faces.prefetch(name)

    def _detect(self, frame: Frame, models: NeuralModels) -> list[DetectedFace]:
        return self._track(models.detector.detect(frame.image), frame.captured_at)

    def _update_faces(self, frame: Frame, models: NeuralModels) -> None:
        """Inline: detect every ``detect_every`` frames. Async: take the newest finished
        detection, and hand the side thread this frame whenever it is free and a detection is
        due (so ``detect_every`` still throttles it, e.g. from the governor)."""
        due = not self._tracked or (self._count - 1) % self._options.detect_every == 0
        background = self._background
        image = frame.image
        if background is None:
            if due:
                with self._stage("detect"):
                    self._tracked = self._detect(frame, models)
            return
        if background.error is not None:
            error, background.error = background.error, None
            raise error
        result = background.poll()
        if result is not None:
            with self._stage("detect"):
                self._tracked = self._track(result.boxes, frame.captured_at)
        if background.idle and (
            due or self._count - self._last_submit >= self._options.detect_every
        ):
            background.submit(image)
            self._last_submit = self._count
        if result is None and not self._tracked and self._count == 1:
            with self._stage("detect"):  # the very first frame waits for its faces once
                self._tracked = self._detect(frame, models)

    def _track(self, found: list[DetectedFace], now: float) -> list[DetectedFace]:
        """The faces to swap (the largest only without many_faces), each continuing its track
        with filtered keypoints."""
        found = sorted(found, key=lambda f: f.box.area, reverse=True)
        if not self._options.many_faces:
            found = found[:1]
        return self._tracks.update(found, now)

    def process(self, frame: Frame) -> Frame:
        models, faces = self._models, self._faces
        if models is None or faces is None:
            raise RuntimeError("NeuralSwapProcessor.process before start")
        toggles = self._state.get()
        with self._stage("embed"):
            source = faces.get(toggles.face)
        self._count += 1
        had_faces = bool(self._tracked)
        self._update_faces(frame, models)
        if not self._tracked:
            if had_faces or self._lost:
                self._lost = True
                raise FaceLostError("the tracked face was lost")
            return frame
        self._lost = False
        options = self._options
        tiles = max(1, options.resolution // models.swapper.spec.input_size)
        matrices = [models.swapper.matrix(face.kps) * tiles for face in self._tracked]
        latents = source.latent
        if options.sources:
            with self._stage("embed"):
                latents = self._mapped_latents(frame.image, models, faces)
        tracks = self._tracks.ids
        masks = None
        if self._masks is not None:
            with self._stage("parse"):
                refresh = (self._count - 1) % options.parser_every == 0
                side = models.swapper.spec.input_size * tiles
                masks = self._masks.masks(frame.image, matrices, side, tracks, refresh)
        job = FaceJob([face.kps for face in self._tracked], matrices, latents, tiles, masks, tracks)
        look = Look(
            options.color_correction, options.sharpness, options.opacity, toggles.mouth_mask
        )
        enhance = None
        enhancer = models.enhancer
        if toggles.enhancer and options.enhancer_allowed and enhancer is not None:
            enhance = EnhanceJob(
                [enhancer.matrix(face.kps) for face in self._tracked],
                self._enhance_mask(enhancer.spec.input_size),
                refresh=(self._count - 1) % options.enhancer_every == 0,
            )
        out = self._composite(frame.image, job, look, enhance)
        return frame.with_image(
            out, swapped=True, regions=tuple(face.box for face in self._tracked)
        )

    def _composite(
        self, image: BgrImage, job: FaceJob, look: Look, enhance: EnhanceJob | None
    ) -> BgrImage:
        """On the device compositor when there is one; if it fails at run time (a graph the
        provider cannot run, device memory), the rest of the run composites on the host."""
        compositor, models = self._compositor, self._models
        assert compositor is not None and models is not None
        try:
            return compositor.composite(image, job, look, enhance, self._stages)
        except DegradedError:
            raise
        except Exception as exc:
            if isinstance(compositor, HostCompositor):
                raise
            log.warning(
                "device compositing failed (%s); this run continues with the CPU path. "
                "Set models.device_compositing: off to skip it.",
                exc,
            )
        compositor.close()
        self._compositor = host = HostCompositor(models.swapper, models.enhancer)
        return host.composite(image, job, look, enhance, self._stages)

    def _enhance_mask(self, size: int) -> np.ndarray[Any, np.dtype[np.float32]]:
        if self._enhance_alpha is None or self._enhance_alpha.shape[0] != size:
            # Box mask, blurred over ~0.3 of the size, at the configured strength (80%).
            self._enhance_alpha = (
                feather_mask(size, border=0.05, blur=0.15) * self._options.enhancer_blend
            ).astype(np.float32)
        return self._enhance_alpha

    def _mapped_latents(
        self, image: BgrImage, models: NeuralModels, faces: SourceFaceCache[SourceIdentity]
    ) -> np.ndarray[Any, Any]:
        """One latent per tracked face: the source whose embedding is nearest the target's."""
        identities = [faces.get(name) for name in self._options.sources]
        targets = np.stack([models.embedder.embed(image, face.kps) for face in self._tracked])
        choice = assign_sources(targets, np.stack([s.embedding for s in identities]))
        return np.concatenate([identities[i].latent for i in choice])
