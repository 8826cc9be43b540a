"""Engine selection and assembly: which swap processor the config asks for, and why."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vcamswap.config import AppPaths, Config
from vcamswap.errors import ConfigError, DegradedError, ModelError
from vcamswap.inference.catalog import CATALOG, ModelSpec, engine_models
from vcamswap.inference.devicepath import DeviceFaces, DeviceLetterbox, DevicePath
from vcamswap.inference.landmarks import DlibLandmarker
from vcamswap.inference.models import (
    ArcFaceEmbedder,
    GfpganEnhancer,
    InSwapper,
    ScrfdDetector,
)
from vcamswap.inference.onnxfile import read_emap, with_symbolic_batch
from vcamswap.inference.remote import RemoteModels
from vcamswap.inference.session import (
    BoundRunner,
    SessionFactory,
    SessionOptions,
    batches_like_single,
)
from vcamswap.inference.store import ModelStore, Override
from vcamswap.processors.base import Processor, ProcessorChain
from vcamswap.processors.faces import folder_resolver
from vcamswap.processors.label import LabelStyle, SyntheticLabelProcessor
from vcamswap.processors.lite import LiteOptions, LiteSwapProcessor, lite_face_cache
from vcamswap.processors.neural import NeuralModels, NeuralOptions, NeuralSwapProcessor
from vcamswap.runtime import RuntimeState
from vcamswap.safety.content import (
    ContentClassifier,
    build_content_classifier,
    screened_resolver,
)
from vcamswap.types import StageRecorder

log = logging.getLogger(__name__)


def model_store(config: Config, paths: AppPaths, folder: Path | None = None) -> ModelStore:
    overrides = {name: Override(o.path, o.sha256) for name, o in config.models.overrides.items()}
    unknown = set(overrides) - set(CATALOG)
    if unknown:
        raise ConfigError(f"models.overrides: unknown model(s) {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(CATALOG)}")
    return ModelStore(folder or config.models.folder or paths.models_dir,
                      paths.cache_dir / "model-digests.json", overrides)


def choose_engine(config: Config, store: ModelStore) -> str:
    """'neural' or 'lite'. ``auto`` takes neural only when onnxruntime is installed and every
    needed file verifies; it says why in one log line either way."""
    engine = config.swap.engine
    if engine == "lite":
        return "lite"
    needed = local_models(config)
    if importlib.util.find_spec("onnxruntime") is None:
        reason = "onnxruntime is not installed (pip install 'vcamswap[neural]' or '[gpu]')"
        if engine == "neural":
            raise ModelError(f"the neural engine needs onnxruntime: {reason}")
        log.info("engine auto: using lite because %s", reason)
        return "lite"
    if remote_roles(config) and importlib.util.find_spec("tritonclient") is None:
        reason = ("models.remote.url is set but the Triton client is not installed "
                  "(pip install 'vcamswap[remote]')")
        if engine == "neural":
            raise ModelError(f"the neural engine cannot reach its remote models: {reason}")
        log.info("engine auto: using lite because %s", reason)
        return "lite"
    if engine == "neural":
        store.require(needed)
        return "neural"
    bad = [v for v in (store.verify(spec) for spec in needed) if not v.ok]
    if bad:
        log.info("engine auto: using lite because the neural model files are not ready (%s); "
                 "`vcamswap models list` says what is missing",
                 ", ".join(f"{v.spec.file}: {v.state}" for v in bad))
        return "lite"
    log.info("engine auto: using neural (all model files verified)")
    return "neural"


def remote_roles(config: Config) -> set[str]:
    """The model roles that run on the Triton server (none without models.remote.url)."""
    remote = config.models.remote
    return set(remote.models) if remote.url else set()


def local_models(config: Config) -> list[ModelSpec]:
    """The neural model files this machine needs (the remote ones stay on the server)."""
    roles = remote_roles(config)
    return [spec for spec in engine_models(config.models.swapper, config.swap.enhancer)
            if spec.role not in roles]


GPU_PROVIDERS = ("CUDAExecutionProvider", "TensorrtExecutionProvider")


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
        log.info("%s: batch dimension made dynamic, all faces of a frame in one call",
                 path.name)
        return session
    log.info("%s fixes its batch at 1 inside the graph: one call per face", path.name)
    return None


def neural_loader(config: Config, store: ModelStore, paths: AppPaths,
                  providers: tuple[str, ...] | None = None,
                  io_binding: bool | None = None) -> Callable[[], NeuralModels]:
    """A function that builds the neural models; call it on the inference thread. Models whose
    role is in models.remote.models run on the Triton server at models.remote.url."""
    def load() -> NeuralModels:
        files = store.require(local_models(config))
        factory = SessionFactory(SessionOptions(
            providers=providers or tuple(config.models.providers),
            trt_cache_dir=paths.cache_dir / "tensorrt"))
        roles = remote_roles(config)
        remote = None
        if roles:
            settings = config.models.remote
            remote = RemoteModels(settings.url or "", ca_file=settings.ca_file,
                                  timeout_s=settings.timeout_ms / 1000.0, names=settings.names)
            log.info("remote inference: %s run on %s (face crops leave this machine)",
                     ", ".join(sorted(roles)), remote.endpoint)

        def session(spec: ModelSpec, cuda_graph: bool = False) -> Any:
            if remote is not None and spec.role in roles:
                return remote.session(spec)
            return factory.create(files[spec.name], cuda_graph=cuda_graph)

        def where(spec: ModelSpec) -> Path:
            return files.get(spec.name, Path(spec.file))

        det_spec, arc_spec = CATALOG["det_10g"], CATALOG["w600k_r50"]
        swap_spec = CATALOG[config.models.swapper]
        def make(data: bytes, what: str, captured: bool) -> Any:
            return factory.create(data, what=what, cuda_graph=captured)

        det_session = session(det_spec)
        letterbox = None
        det_device = None if "detector" in roles else device_for(
            config.models.device_compositing, det_session.get_providers())
        if det_device is not None:
            letterbox = DeviceLetterbox(make, det_session, det_spec.mean, det_spec.std,
                                        det_device)
        detector = ScrfdDetector(det_session, det_spec, where(det_spec), letterbox=letterbox)
        embedder = ArcFaceEmbedder(session(arc_spec), arc_spec, where(arc_spec))
        # A CUDA graph replays one captured launch sequence: one face at a time, fixed buffers.
        graph = config.models.cuda_graph and not config.swap.many_faces
        swap_path = where(swap_spec)
        swap_session = None
        if config.swap.many_faces and "swapper" not in roles:
            swap_session = batched_swapper(factory, swap_path)
        if swap_session is None:
            swap_session = session(swap_spec, cuda_graph=graph)
        bound = None
        device = None
        if remote is not None and "swapper" in roles:
            emap = remote.emap(swap_spec)
        else:
            emap = read_emap(swap_path)
            device = device_for(config.models.device_compositing,
                                swap_session.get_providers())
            on_cuda = "CUDAExecutionProvider" in swap_session.get_providers()
            # The device path binds the swapper's buffers itself (a CUDA graph captures the
            # first binding it runs, so there must be only one).
            if device is None and (graph or (io_binding if io_binding is not None
                                             else on_cuda)):
                # On CUDA: inputs and outputs in preallocated device buffers, one set per count.
                bound = BoundRunner(swap_session, "cuda" if on_cuda else "cpu",
                                    output_like_input=0)
        swapper = InSwapper(swap_session, swap_spec, emap, swap_path, bound)
        enhancer = None
        enhance_session = None
        if config.swap.enhancer:
            spec = CATALOG["gfpgan_1.4"]
            enhance_session = session(spec)
            enhancer = GfpganEnhancer(enhance_session, spec, where(spec))
        path = None
        if device is not None:
            local_enhancer = enhance_session if "enhancer" not in roles else None
            path = DevicePath(make, swap_session, swap_spec, device, enhancer=local_enhancer,
                              enhance_spec=CATALOG["gfpgan_1.4"],
                              captured=config.models.cuda_graph and device == "cuda")
            log.info("device compositing on %s: crop, colour, paste%s%s run there", device,
                     " and enhancer" if path.enhances else "",
                     " and the detector's letterbox" if letterbox is not None else "")
        size = swap_spec.input_size
        try:  # warm-up: first runs allocate (a slow remote server is not fatal here)
            detector.detect(np.zeros((480, 640, 3), np.uint8))
            latent = np.ones((1, 512), np.float32) / np.sqrt(512.0)
            if path is not None:
                identity = swapper.matrix(np.array([[40, 50], [88, 50], [64, 70], [46, 92],
                                                    [82, 92]], np.float64))
                path.run(np.zeros((480, 640, 3), np.uint8), DeviceFaces(
                    [identity], latent, np.ones((1, size, size), np.float32)))
            else:
                swapper.swap([np.zeros((size, size, 3), np.uint8)], latent)
        except DegradedError as exc:
            log.warning("warm-up: %s", exc)
        return NeuralModels(detector, embedder, swapper, enhancer, path)
    return load


def content_classifier(config: Config, paths: AppPaths, *, always: bool = False,
                       threads: int = 1) -> ContentClassifier | None:
    """safety.content_check as a classifier (None when turned off, unless ``always``: the
    `content-check` command is the check itself). One thread by default: the live check must
    not compete with the swap."""
    check = config.safety.content_check
    store = model_store(config, paths)
    return build_content_classifier(
        check.enabled or always, check.model, check.threshold,
        verify=lambda name: store.require([CATALOG[name]])[name], threads=threads)


def build_swap_processor(config: Config, paths: AppPaths, state: RuntimeState,
                         stages: StageRecorder | None = None,
                         resolve: Callable[[str | None], Path] | None = None,
                         store: ModelStore | None = None, offline: bool = False,
                         content: ContentClassifier | None = None) -> Processor:
    """``offline``: files, where detection runs inline so results do not depend on timing.
    ``content``: every source face passes the content check before it is loaded."""
    swap = config.swap
    store = store or model_store(config, paths)
    resolve = screened_resolver(resolve or folder_resolver(swap.faces_dir or paths.faces_dir),
                                content)
    swapper: Processor
    if choose_engine(config, store) == "neural":
        swapper = NeuralSwapProcessor(
            neural_loader(config, store, paths), resolve, state,
            NeuralOptions(detect_every=swap.neural_detect_every, many_faces=swap.many_faces,
                          sources=tuple(swap.sources),
                          color_correction=swap.color_correction,
                          opacity=swap.opacity, sharpness=swap.sharpness,
                          enhancer_every=swap.enhancer_every,
                          detect_async=swap.neural_detect_async and not offline), stages)
    else:
        landmarker = DlibLandmarker()
        swapper = LiteSwapProcessor(
            landmarker, lite_face_cache(landmarker, resolve,
                                        (swap.faces_dir or paths.faces_dir) / ".cache"), state,
            LiteOptions(detect_every=swap.detect_every, many_faces=swap.many_faces,
                        color_correction=swap.color_correction, opacity=swap.opacity,
                        sharpness=swap.sharpness, detect_async=not offline), stages)
    chain: list[Processor] = [swapper]
    label = config.safety.label
    if label.enabled:
        chain.append(SyntheticLabelProcessor(LabelStyle(label.text, label.position, label.scale,
                                                        label.opacity)))
    else:
        log.warning("the synthetic-media label is off: you are responsible for telling viewers "
                    "that this video is synthetic")
    return ProcessorChain(chain)
