"""Doctor's checks of the engines: onnxruntime and CUDA, where compositing runs, the model
files, the content check and a remote model server."""

from __future__ import annotations

from collections.abc import Iterator

from vcamswap.config import AppPaths, Config
from vcamswap.errors import VCamSwapError
from vcamswap.platforms import Platform
from vcamswap.tools.doctor.check import Check, package_version


def onnxruntime_checks(platform: Platform) -> Iterator[Check]:
    from vcamswap.inference.providers import onnxruntime_info

    info = onnxruntime_info()
    if info is None:
        yield Check(
            "onnxruntime",
            "WARN",
            "not installed: the neural engine is unavailable",
            "pip install 'vcamswap[neural]' (CPU) or 'vcamswap[gpu]' (NVIDIA)",
        )
        return
    providers = info.providers
    yield Check("onnxruntime", "OK", f"{info.version}: providers {', '.join(providers)}")
    if package_version("onnxruntime-gpu") and "CUDAExecutionProvider" not in providers:
        yield Check(
            "cuda",
            "WARN",
            "onnxruntime-gpu is installed but CUDAExecutionProvider is "
            "missing: the CUDA/cuDNN libraries it needs were not found",
            platform.gpu_library_fix(),
        )
    if "CUDAExecutionProvider" in providers:
        yield cuda_starts(info.cuda_version, platform)
    if package_version("onnxruntime-gpu") and package_version("onnxruntime"):
        yield Check(
            "onnxruntime-packages",
            "WARN",
            "both onnxruntime and onnxruntime-gpu are installed; they provide the same module",
            "pip uninstall onnxruntime onnxruntime-gpu, then install one of them",
        )


def cuda_starts(cuda_version: str, platform: Platform) -> Check:
    """onnxruntime lists CUDA whenever its provider library is there, even when the CUDA or
    cuDNN libraries it needs are not: only a session tells."""
    from vcamswap.inference.providers import cuda_fallback_message, probe_providers

    try:
        got = probe_providers(["cuda"])
    except ImportError:
        return Check(
            "cuda",
            "WARN",
            "cannot check that CUDA starts without the onnx package",
            "pip install onnx",
        )
    except Exception as exc:
        return Check(
            "cuda",
            "FAIL",
            f"a CUDA session could not be created: {exc}",
            "reinstall onnxruntime-gpu with its CUDA libraries "
            "(pip install 'onnxruntime-gpu[cuda,cudnn]')",
        )
    if "CUDAExecutionProvider" not in got:
        message, _, fix = cuda_fallback_message("CUDAExecutionProvider", got).partition(". Fix: ")
        return Check(
            "cuda",
            "WARN",
            message,
            fix.removesuffix("; `vcamswap doctor` checks it")
            if platform.name == "linux"
            else platform.gpu_library_fix(),
        )
    built = cuda_version or "?"
    return Check("cuda", "OK", f"CUDAExecutionProvider starts (onnxruntime built for CUDA {built})")


def device_compositing_checks(config: Config, gpu_broken: bool) -> Iterator[Check]:
    """Where the neural engine's crop/paste work will run with this config and onnxruntime
    (``gpu_broken``: CUDA is listed but a session cannot start on it)."""
    from vcamswap.inference.providers import GPU_PROVIDERS, onnxruntime_info, resolve_providers
    from vcamswap.processors.neural_load import device_for

    info = onnxruntime_info()
    if info is None:
        return
    mode = config.models.device_compositing
    available = [p for p in info.providers if not (gpu_broken and p in GPU_PROVIDERS)]
    providers = resolve_providers(config.models.providers, available).providers
    device = device_for(mode, list(providers[:1]))
    if device == "cuda":
        graphs = " as CUDA graphs" if config.models.cuda_graph else ""
        yield Check(
            "device-compositing",
            "OK",
            f"{mode}: crop, colour, paste and enhancer run "
            f"on the GPU next to the models{graphs} (the window around the faces "
            "uploaded and downloaded once)",
        )
    elif device == "cpu":
        yield Check(
            "device-compositing",
            "WARN",
            "on, but the models run on "
            f"{providers[0]}: the paste graph is slower there than the OpenCV path "
            "(BENCHMARKS.md has the measured costs)",
            "set models.device_compositing: auto",
        )
    else:
        yield Check(
            "device-compositing",
            "OK",
            f"{mode}: the neural engine crops and pastes "
            f"with OpenCV on the CPU (models on {providers[0]})",
        )


def models_checks(config: Config, paths: AppPaths) -> Iterator[Check]:
    from vcamswap.inference.catalog import engine_models
    from vcamswap.processors.engines import model_store

    store = model_store(config, paths)
    parser = config.models.parser if config.swap.mask == "parser" else None
    for spec in engine_models(config.models.swapper, config.swap.enhancer, parser):
        result = store.verify(spec)
        if result.ok:
            yield Check(f"model {spec.name}", "OK", f"{result.path} verified")
        elif result.state == "missing":
            yield Check(
                f"model {spec.name}",
                "WARN",
                f"{spec.file} not downloaded (the lite engine is used)",
                f"vcamswap models fetch {spec.name}",
            )
        else:
            yield Check(
                f"model {spec.name}",
                "FAIL",
                result.message(store.accepted(spec)).split(". ")[0],
                f"delete {result.path} and run vcamswap models fetch {spec.name}",
            )


def mask_and_swapper_checks(config: Config, paths: AppPaths) -> Iterator[Check]:
    """Which paste masks and swappers this machine can use (files downloaded and verified),
    and what to fetch for the others."""
    from vcamswap.compositing.occlusion import REGIONS
    from vcamswap.inference.catalog import CATALOG
    from vcamswap.processors.engines import model_store

    store = model_store(config, paths)
    swap = config.swap
    parsers = [s.name for s in CATALOG.values() if s.role == "parser" and store.verify(s).ok]
    name = config.models.parser
    fetch = f"vcamswap models fetch {name}"
    left_visible = sorted(set(REGIONS) - set(swap.mask_regions))
    if swap.mask != "box" and name in parsers:
        yield Check(
            "mask",
            "OK",
            f"face parser {name}: only {', '.join(swap.mask_regions)} are replaced; anything "
            f"else in front of the face (hands, microphones, hair"
            f"{', ' + ', '.join(left_visible) if left_visible else ''}) stays visible; "
            f"available: box, parser ({', '.join(parsers)})",
        )
    elif swap.mask == "parser":
        yield Check(
            "mask",
            "WARN",
            f"swap.mask is 'parser' but {name} is not ready, so the neural engine cannot "
            "start (auto uses the lite engine)",
            f"{fetch}, or set swap.mask: auto",
        )
    elif swap.mask == "box":
        yield Check(
            "mask",
            "OK",
            "box (the whole feathered face square); available: box"
            + (f", parser ({', '.join(parsers)})" if parsers else f"; {fetch} adds the parser"),
        )
    else:
        yield Check(
            "mask",
            "OK",
            f"box: objects in front of the face are covered by the swap until the face parser "
            f"is downloaded ({fetch}; swap.mask: auto then uses it)",
        )

    def ready(spec_name: str) -> bool:
        spec = CATALOG[spec_name]
        return store.verify(spec).ok and (
            spec.companion is None or store.verify(CATALOG[spec.companion]).ok
        )

    swappers = [s.name for s in CATALOG.values() if s.role == "swapper" and ready(s.name)]
    chosen = CATALOG[config.models.swapper]
    size = max(swap.resolution, chosen.input_size)
    others = [
        f"vcamswap models fetch {s.name}"
        for s in CATALOG.values()
        if s.role == "swapper"
        and s.name not in swappers
        and s.name != chosen.name
        and not s.name.endswith("_fp16")
    ]
    hint = f" (others: {'; '.join(others)})" if others else ""
    if chosen.name in swappers:
        yield Check(
            "swappers",
            "OK",
            f"using {chosen.name} at {size} px; available: {', '.join(swappers)}{hint}",
        )
    else:
        yield Check(
            "swappers",
            "WARN",
            f"models.swapper is {chosen.name}, not downloaded"
            + (f" (with its {chosen.companion})" if chosen.companion else "")
            + f"; available: {', '.join(swappers) or 'none'}{hint}",
            f"vcamswap models fetch {chosen.name}",
        )


def content_check_checks(config: Config) -> Iterator[Check]:
    check = config.safety.content_check
    if not check.enabled:
        yield Check(
            "content-check",
            "WARN",
            "off: explicit material is not refused; you are responsible for what you swap",
            "set safety.content_check.enabled: true",
        )
        return
    try:
        from vcamswap.inference.content import PACKAGED_SHA256, packaged_model
        from vcamswap.inference.store import file_sha256

        path = packaged_model()
        if file_sha256(path) != PACKAGED_SHA256:
            yield Check(
                "content-check",
                "FAIL",
                f"{path} is not the expected nudenet model",
                "pip install --force-reinstall nudenet==3.4.2",
            )
            return
        yield Check(
            "content-check",
            "OK",
            f"on (threshold {check.threshold}, live every "
            f"{check.live_interval_s:g} s, action {check.action}); model {path.name} "
            "from the nudenet package (AGPL-3.0)",
        )
    except VCamSwapError as exc:
        yield Check("content-check", "FAIL", str(exc).split(":")[0], "pip install nudenet==3.4.2")


def remote_checks(config: Config) -> Iterator[Check]:
    remote = config.models.remote
    if not remote.url:
        return
    try:
        from vcamswap.inference.catalog import CATALOG, engine_models
        from vcamswap.inference.remote import RemoteModels

        client = RemoteModels(
            remote.url,
            ca_file=remote.ca_file,
            timeout_s=max(remote.timeout_ms / 1000.0, 2.0),
            names=remote.names,
        )
        roles = set(remote.models)
        checked = []
        for spec in engine_models(config.models.swapper, config.swap.enhancer):
            if spec.role in roles:
                client.session(spec)
                checked.append(client.served_name(spec))
        if "swapper" in roles:
            client.emap(CATALOG[config.models.swapper])
        yield Check(
            "remote",
            "WARN" if not remote.url.startswith("grpcs://") else "OK",
            f"{remote.url}: {', '.join(checked)} ready. Face crops leave this machine "
            "for that server",
            "use grpcs:// (TLS) unless the network is private"
            if not remote.url.startswith("grpcs://")
            else "",
        )
    except VCamSwapError as exc:
        yield Check(
            "remote",
            "FAIL",
            str(exc).split(" Fix: ")[0],
            str(exc).split(" Fix: ")[-1] if " Fix: " in str(exc) else "",
        )
