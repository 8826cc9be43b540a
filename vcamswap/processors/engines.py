"""Engine selection and assembly: which swap processor the config asks for, and why."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path

from vcamswap.config import AppPaths, Config
from vcamswap.errors import ConfigError, ModelError
from vcamswap.inference.catalog import CATALOG, ModelSpec, engine_models
from vcamswap.inference.landmarks import DlibLandmarker
from vcamswap.inference.remote import RemoteModels
from vcamswap.inference.session import SessionFactory, SessionOptions
from vcamswap.inference.store import ModelStore, Override
from vcamswap.processors.base import ProcessorChain
from vcamswap.processors.faces import folder_resolver
from vcamswap.processors.label import LabelStyle, SyntheticLabelProcessor, WatermarkProcessor
from vcamswap.processors.lite import LiteSwapProcessor
from vcamswap.processors.lite_options import LiteOptions
from vcamswap.processors.lite_source import lite_face_cache
from vcamswap.processors.neural import NeuralModels, NeuralOptions, NeuralSwapProcessor
from vcamswap.processors.neural_load import NeuralBuilder
from vcamswap.runtime import RuntimeState
from vcamswap.safety.content import (
    ContentClassifier,
    build_content_classifier,
    screened_resolver,
)
from vcamswap.safety.watermark import Codebook, Watermarker
from vcamswap.types import FrameProcessor, StageRecorder

log = logging.getLogger(__name__)


def model_store(config: Config, paths: AppPaths, folder: Path | None = None) -> ModelStore:
    overrides = {name: Override(o.path, o.sha256) for name, o in config.models.overrides.items()}
    unknown = set(overrides) - set(CATALOG)
    if unknown:
        raise ConfigError(
            f"models.overrides: unknown model(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(CATALOG)}"
        )
    return ModelStore(
        folder or config.models.folder or paths.models_dir,
        paths.cache_dir / "model-digests.json",
        overrides,
    )


def choose_engine(config: Config, store: ModelStore) -> str:
    """'neural' or 'lite' (see ``engine_choice``)."""
    return engine_choice(config, store)[0]


def engine_choice(config: Config, store: ModelStore) -> tuple[str, str]:
    """('neural' or 'lite', why). ``auto`` takes neural only when onnxruntime is installed and
    every needed file verifies; it says why in one log line either way."""
    engine = config.swap.engine
    if engine == "lite":
        return "lite", "swap.engine: lite"
    needed = local_models(config, store)
    if importlib.util.find_spec("onnxruntime") is None:
        reason = "onnxruntime is not installed (pip install 'vcamswap[neural]' or '[gpu]')"
        if engine == "neural":
            raise ModelError(f"the neural engine needs onnxruntime: {reason}")
        log.info("engine auto: using lite because %s", reason)
        return "lite", f"auto: {reason}"
    if remote_roles(config) and importlib.util.find_spec("tritonclient") is None:
        reason = (
            "models.remote.url is set but the Triton client is not installed "
            "(pip install 'vcamswap[remote]')"
        )
        if engine == "neural":
            raise ModelError(f"the neural engine cannot reach its remote models: {reason}")
        log.info("engine auto: using lite because %s", reason)
        return "lite", f"auto: {reason}"
    if engine == "neural":
        store.require(needed)
        return "neural", "swap.engine: neural"
    bad = [v for v in (store.verify(spec) for spec in needed) if not v.ok]
    if bad:
        missing = ", ".join(f"{v.spec.file}: {v.state}" for v in bad)
        log.info(
            "engine auto: using lite because the neural model files are not ready (%s); "
            "`vcamswap models list` says what is missing",
            missing,
        )
        return "lite", f"auto: neural model files not ready ({missing})"
    log.info("engine auto: using neural (all model files verified)")
    return "neural", "auto: all neural model files verified"


def remote_roles(config: Config) -> set[str]:
    """The model roles that run on the Triton server (none without models.remote.url)."""
    remote = config.models.remote
    return set(remote.models) if remote.url else set()


def parser_model(config: Config, store: ModelStore | None) -> str | None:
    """The face parser the neural engine's mask uses: models.parser with swap.mask 'parser',
    or with 'auto' when its file is verified in ``store``; None for the box mask."""
    mode = config.swap.mask
    if mode == "box":
        return None
    name = config.models.parser
    if mode == "parser" or (store is not None and store.verify(CATALOG[name]).ok):
        return name
    return None


def local_models(config: Config, store: ModelStore | None = None) -> list[ModelSpec]:
    """The neural model files this machine needs (the remote ones stay on the server)."""
    roles = remote_roles(config)
    parser = parser_model(config, store)
    return [
        spec
        for spec in engine_models(config.models.swapper, config.swap.enhancer, parser)
        if spec.role not in roles
    ]


def neural_loader(
    config: Config,
    store: ModelStore,
    paths: AppPaths,
    providers: tuple[str, ...] | None = None,
    io_binding: bool | None = None,
) -> Callable[[], NeuralModels]:
    """A function that builds the neural models; call it on the inference thread. Models whose
    role is in models.remote.models run on the Triton server at models.remote.url."""

    def load() -> NeuralModels:
        files = store.require(local_models(config, store))
        factory = SessionFactory(
            SessionOptions(
                providers=providers or tuple(config.models.providers),
                trt_cache_dir=paths.cache_dir / "tensorrt",
            )
        )
        roles = remote_roles(config)
        remote = None
        if roles:
            settings = config.models.remote
            remote = RemoteModels(
                settings.url or "",
                ca_file=settings.ca_file,
                timeout_s=settings.timeout_ms / 1000.0,
                names=settings.names,
            )
            log.info(
                "remote inference: %s run on %s (face crops leave this machine)",
                ", ".join(sorted(roles)),
                remote.endpoint,
            )
        return NeuralBuilder(config, files, factory, remote, roles, io_binding).build()

    return load


def content_classifier(
    config: Config, paths: AppPaths, *, always: bool = False, threads: int = 1
) -> ContentClassifier | None:
    """safety.content_check as a classifier (None when turned off, unless ``always``: the
    `content-check` command is the check itself). One thread by default: the live check must
    not compete with the swap."""
    check = config.safety.content_check
    store = model_store(config, paths)
    return build_content_classifier(
        check.enabled or always,
        check.model,
        check.threshold,
        verify=lambda name: store.require([CATALOG[name]])[name],
        threads=threads,
    )


def build_swap_processor(
    config: Config,
    paths: AppPaths,
    state: RuntimeState,
    stages: StageRecorder | None = None,
    resolve: Callable[[str | None], Path] | None = None,
    store: ModelStore | None = None,
    offline: bool = False,
    content: ContentClassifier | None = None,
) -> FrameProcessor:
    """``offline``: files, where detection runs inline so results do not depend on timing.
    ``content``: every source face passes the content check before it is loaded."""
    swap = config.swap
    store = store or model_store(config, paths)
    resolve = screened_resolver(
        resolve
        or folder_resolver(swap.faces_dir or paths.faces_dir, config.safety.max_image_pixels),
        content,
    )
    swapper: FrameProcessor
    engine, reason = engine_choice(config, store)
    if engine == "neural":
        swapper = NeuralSwapProcessor(
            neural_loader(config, store, paths),
            resolve,
            state,
            NeuralOptions(
                detect_every=swap.neural_detect_every,
                many_faces=swap.many_faces,
                sources=tuple(swap.sources),
                color_correction=swap.color_correction,
                opacity=swap.opacity,
                sharpness=swap.sharpness,
                enhancer_every=swap.enhancer_every,
                detect_async=swap.neural_detect_async and not offline,
                smoothing=swap.smoothing,
                resolution=swap.resolution,
                parser=parser_model(config, store) is not None,
                parser_every=swap.parser_every,
                mask_regions=tuple(swap.mask_regions),
            ),
            stages,
        )
    else:
        landmarker = DlibLandmarker()
        swapper = LiteSwapProcessor(
            landmarker,
            lite_face_cache(landmarker, resolve, (swap.faces_dir or paths.faces_dir) / ".cache"),
            state,
            LiteOptions(
                detect_every=swap.detect_every,
                many_faces=swap.many_faces,
                color_correction=swap.color_correction,
                opacity=swap.opacity,
                sharpness=swap.sharpness,
                detect_async=not offline,
                shape_transfer=swap.shape_transfer,
            ),
            stages,
        )
    finishers: list[FrameProcessor] = []
    label = config.safety.label
    if label.enabled:
        finishers.append(
            SyntheticLabelProcessor(
                LabelStyle(label.text, label.position, label.scale, label.opacity)
            )
        )
    else:
        log.warning(
            "the synthetic-media label is off: you are responsible for telling viewers "
            "that this video is synthetic"
        )
    if config.safety.watermark.enabled:
        finishers.append(WatermarkProcessor(Watermarker(Codebook())))
    else:
        log.warning(
            "the hidden watermark is off: recordings of this output will not be "
            "recognisable as synthetic once re-encoded"
        )
    return ProcessorChain([swapper], finishers, engine=engine, engine_reason=reason)
