"""Building the neural engine's models on the inference thread: local or remote sessions, the
batched swapper, device compositing (crop, paste, enhancer and the detector's letterbox next
to the models) and the warm-up."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vcamswap.compositing import Look
from vcamswap.compositing.device import DeviceCompositor, EnhancerSlot
from vcamswap.compositing.host import blank_job
from vcamswap.config import Config
from vcamswap.errors import DegradedError
from vcamswap.inference.catalog import CATALOG, ModelSpec
from vcamswap.inference.devicebind import CAPTURE_RUNS
from vcamswap.inference.ghost import GhostSwapper
from vcamswap.inference.letterbox import DeviceLetterbox
from vcamswap.inference.models import (
    AlignedSwapper,
    ArcFaceEmbedder,
    GfpganEnhancer,
    InSwapper,
    ScrfdDetector,
    target_and_source,
)
from vcamswap.inference.onnxfile import read_emap, with_symbolic_batch
from vcamswap.inference.parsing import BiSeNetParser
from vcamswap.inference.providers import GPU_PROVIDERS
from vcamswap.inference.remote import RemoteModels
from vcamswap.inference.session import (
    BoundRunner,
    DeferredSession,
    SessionFactory,
    batches_like_single,
)
from vcamswap.processors.neural import NeuralModels
from vcamswap.types import NullStageRecorder

log = logging.getLogger(__name__)


def device_for(mode: str, session_providers: list[str]) -> str | None:
    """Where models.device_compositing puts the crop/paste work: 'cuda', 'cpu' or None (the
    host OpenCV path)."""
    on_gpu = bool(set(session_providers) & set(GPU_PROVIDERS))
    if mode == "off" or (mode == "auto" and not on_gpu):
        return None
    return "cuda" if on_gpu else "cpu"


def batched_swapper(factory: SessionFactory, path: Path) -> Any | None:
    """For swap.many_faces: a session of the swapper with a symbolic batch when its file fixes
    the batch at 1 (the published inswapper does) and the graph really batches, so all faces
    of a frame go in one call. None: use the file as it is."""
    try:
        data = with_symbolic_batch(path)
    except Exception as exc:  # unreadable here; the normal load reports it properly
        log.debug("batched swapper: %s", exc)
        return None
    if data is None:
        return None
    session = factory.create(data, what=f"{path.name} (batch made dynamic)")
    if batches_like_single(session):
        log.info("%s: batch dimension made dynamic, all faces of a frame in one call", path.name)
        return session
    log.info("%s fixes its batch at 1 inside the graph: one call per face", path.name)
    return None


class NeuralBuilder:
    """One load of the neural models. ``files``: the verified local model files by catalog
    name; ``remote``/``roles``: the Triton server and the roles it runs; ``io_binding``: force
    the swapper's IO binding on or off (None: on with CUDA)."""

    def __init__(
        self,
        config: Config,
        files: dict[str, Path],
        factory: SessionFactory,
        remote: RemoteModels | None,
        roles: set[str],
        io_binding: bool | None = None,
    ) -> None:
        self._config = config
        self._files = files
        self._factory = factory
        self._remote = remote
        self._roles = roles
        self._io_binding = io_binding

    def _session(self, spec: ModelSpec, cuda_graph: bool = False) -> Any:
        if self._remote is not None and spec.role in self._roles:
            return self._remote.session(spec)
        return self._factory.create(self._files[spec.name], cuda_graph=cuda_graph)

    def _where(self, spec: ModelSpec) -> Path:
        return self._files.get(spec.name, Path(spec.file))

    def _make(self, data: bytes, what: str, captured: bool) -> Any:
        """The compositing graphs: on CUDA even when the models use TensorRT."""
        return self._factory.create(data, what=what, cuda_graph=captured, tensorrt=False)

    def _device(self, role: str, session: Any) -> str | None:
        if role in self._roles:
            return None
        return device_for(self._config.models.device_compositing, session.get_providers())

    def detector(self) -> ScrfdDetector:
        spec = CATALOG["det_10g"]
        session = self._session(spec)
        device = self._device("detector", session)
        letterbox = None
        if device is not None:
            letterbox = DeviceLetterbox(self._make, session, spec.mean, spec.std, device)
            log.info("the detector's letterbox runs on %s next to it", device)
        return ScrfdDetector(session, spec, self._where(spec), letterbox=letterbox)

    def _swapper_of(self, spec: ModelSpec, path: Path) -> Callable[[Any, Any], AlignedSwapper]:
        """Wraps a session of the configured swapper: inswapper reads its emap from the file
        (or the server), GHOST loads its embedding converter (always local: it runs once per
        source face)."""
        if spec.companion is not None:
            companion = CATALOG[spec.companion]
            converter = self._factory.create(self._files[companion.name])
            return lambda session, bound: GhostSwapper(session, spec, converter, path, bound)
        if self._remote is not None and "swapper" in self._roles:
            emap = self._remote.emap(spec)
        else:
            emap = read_emap(path)
        return lambda session, bound: InSwapper(session, spec, emap, path, bound)

    def parser(self) -> BiSeNetParser | None:
        name = next((n for n, f in self._files.items() if CATALOG[n].role == "parser"), None)
        if name is None:
            return None
        spec = CATALOG[name]
        log.info("paste mask: face parser %s", name)
        return BiSeNetParser(self._session(spec), spec, self._where(spec))

    def swapper(self) -> tuple[AlignedSwapper, Any, str | None]:
        """The swapper, its session and where device compositing runs (None: on the host)."""
        config = self._config
        spec = CATALOG[config.models.swapper]
        path = self._where(spec)
        # A CUDA graph replays one captured launch sequence: one face at a time, fixed buffers.
        graph = config.models.cuda_graph and not config.swap.many_faces
        session = None
        boosted = config.swap.resolution > spec.input_size  # pixel boost: tiles in one call
        if (config.swap.many_faces or boosted) and "swapper" not in self._roles:
            session = batched_swapper(self._factory, path)
        if session is None:
            session = self._session(spec, cuda_graph=graph)
        make = self._swapper_of(spec, path)
        if self._remote is not None and "swapper" in self._roles:
            return make(session, None), session, None
        device = self._device("swapper", session)
        host_session = session
        if graph and device is not None:
            # The device path captures this session; the host path (its fallback) gets one
            # of its own, made only if it ever runs.
            host_session = DeferredSession(session, lambda: self._session(spec))
        bound = None
        on_cuda = "CUDAExecutionProvider" in session.get_providers()
        # The device path binds the swapper's buffers itself (a CUDA graph captures the first
        # binding it runs, so there must be only one).
        wanted = self._io_binding if self._io_binding is not None else on_cuda
        if device is None and ((graph and on_cuda) or wanted):
            # On CUDA: inputs and outputs in preallocated device buffers, one set per count.
            bound = BoundRunner(
                session,
                "cuda" if on_cuda else "cpu",
                output_like_input=target_and_source(session)[0],
            )
        swapper = make(host_session, bound)
        if bound is not None and graph and on_cuda:

            def plain() -> AlignedSwapper:
                fresh = self._session(spec)
                like = target_and_source(fresh)[0]
                return make(fresh, BoundRunner(fresh, "cuda", output_like_input=like))

            swapper = captured_or_plain(swapper, plain)
        return swapper, session, device

    def build(self) -> NeuralModels:
        detector = self.detector()
        arc = CATALOG["w600k_r50"]
        embedder = ArcFaceEmbedder(self._session(arc), arc, self._where(arc))
        swapper, swap_session, device = self.swapper()
        enhancer = enhance_session = None
        spec = CATALOG["gfpgan_1.4"]
        if self._config.swap.enhancer:
            enhance_session = self._session(spec)
            enhancer = GfpganEnhancer(enhance_session, spec, self._where(spec))
        compositor = None
        if device is not None:
            remote_enhancer = "enhancer" in self._roles
            slot = None
            if enhancer is not None:
                slot = EnhancerSlot(
                    spec,
                    session=None if remote_enhancer else enhance_session,
                    remote=enhancer if remote_enhancer else None,
                )
            compositor = DeviceCompositor(
                self._make,
                swap_session,
                swapper.spec,
                device,
                enhancer=slot,
                captured=self._config.models.cuda_graph and device == "cuda",
            )
            log.info(
                "device compositing on %s: crop, colour, paste%s run there",
                device,
                " and enhancer" if enhance_session is not None and not remote_enhancer else "",
            )
        models = NeuralModels(
            detector,
            embedder,
            swapper,
            enhancer,
            compositor,
            self._remote.waited.total if self._remote is not None else None,
            self.parser(),
        )
        warm_up(models)
        return models


def captured_or_plain(
    swapper: AlignedSwapper, plain: Callable[[], AlignedSwapper]
) -> AlignedSwapper:
    """onnxruntime captures a CUDA graph on one of a session's first runs, not when it is made:
    run the host path's captured swapper through its capture now, at load, and use a plain
    session if that fails (else every frame would fail)."""
    size = swapper.spec.input_size
    latent = swapper.latent(np.ones(512, np.float32))
    try:
        for _ in range(CAPTURE_RUNS):
            swapper.swap([np.zeros((size, size, 3), np.uint8)], latent)
    except DegradedError:
        raise
    except Exception as exc:
        log.warning(
            "%s: CUDA graph capture failed (%s); running it without", swapper.spec.name, exc
        )
        return plain()
    return swapper


def warm_up(models: NeuralModels) -> None:
    """First runs allocate; a slow remote server is not fatal here."""
    blank, job = blank_job(models.swapper)
    try:
        models.detector.detect(blank)
        if models.compositor is not None:
            models.compositor.composite(blank, job, Look(), None, NullStageRecorder())
        else:
            size = models.swapper.spec.input_size
            models.swapper.swap([np.zeros((size, size, 3), np.uint8)], job.latents)
    except DegradedError as exc:
        log.warning("warm-up: %s", exc)
