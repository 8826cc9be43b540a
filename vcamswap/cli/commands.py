"""Command handlers. Each returns an exit code; heavy modules are imported inside."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from vcamswap.config import AppPaths, Config, ensure_config, load_config
from vcamswap.errors import ConfigError
from vcamswap.i18n import _

log = logging.getLogger("vcamswap")


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def load_user_config(args: argparse.Namespace, paths: AppPaths) -> Config:
    """The --config file (must exist) or the user config (created with defaults on first run)."""
    path: Path | None = getattr(args, "config", None)
    if path is not None:
        if not path.is_file():
            raise ConfigError(
                _(
                    "config file {file} does not exist; create it with "
                    "`vcamswap check-config --write-defaults {file}` or drop --config"
                ).format(file=path)
            )
        return load_config(path)
    config, created = ensure_config(paths.config_file)
    if created:
        log.info("wrote the default configuration to %s", paths.config_file)
    return config


def ui_language(args: argparse.Namespace, paths: AppPaths) -> str:
    """``ui.language`` from the config file the command will read ("auto" when there is no
    file, no setting or a file that does not parse: the command itself reports that)."""
    import yaml

    path: Path = getattr(args, "config", None) or paths.config_file
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        language = data["ui"]["language"]
    except Exception:
        return "auto"
    return language if isinstance(language, str) else "auto"


def cmd_check_config(args: argparse.Namespace) -> int:
    from vcamswap.config.loader import write_text_atomic
    from vcamswap.config.render import render_default_yaml

    target: Path | None = getattr(args, "write_defaults", None)
    if target is not None:
        if target.exists():
            raise ConfigError(
                f"{target} already exists; check it with "
                f"`vcamswap check-config {target}` or pick a new file name"
            )
        write_text_atomic(target, render_default_yaml())
        _out(f"wrote the default configuration to {target}")
        return 0
    path: Path = args.path or AppPaths.for_user().config_file
    if not path.is_file():
        if args.path is None:
            _out(
                f"{path} does not exist yet: the defaults are used, and they are valid "
                "(`vcamswap run` writes them there on first start)"
            )
            return 0
        raise ConfigError(
            f"{path}: no such file; create it with `vcamswap check-config --write-defaults {path}`",
            [f"{path}:1: (file): no such file"],
        )
    load_config(path)
    _out(f"{path}: OK")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """`vcamswap run`: the command line into RunOptions; the daemon's App does the rest."""
    from vcamswap.daemon.app import App, RunOptions

    paths = AppPaths.for_user()
    config = load_user_config(args, paths)
    return App(
        RunOptions(
            config_file=args.config,
            camera=args.camera,
            output=args.output,
            face=args.face,
            engine=args.engine,
            remote=args.remote,
            camera_mode=args.camera_mode,
            at_login=args.at_login,
            tray=not args.no_tray,
            seconds=args.seconds,
            verbose=args.verbose,
            accept_consent=args.accept_consent,
        ),
        paths,
        config,
    ).run()


def cmd_bench(args: argparse.Namespace) -> int:
    from vcamswap.tools.bench import BenchRequest, run_bench

    if args.config is not None:
        raise ConfigError(
            f"bench does not read a config file ({args.config}): it measures built-in "
            "settings that its own flags change (--engine, --swapper, --mask, --resolution, "
            "--models, ...; see vcamswap bench --help)"
        )
    size = None
    if args.size:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError as exc:
            raise ConfigError(f"--size {args.size!r}: expected WxH such as 1280x720") from exc
        size = (w, h)
    result = run_bench(
        BenchRequest(
            engine=args.engine,
            input=args.input,
            frames=args.frames,
            size=size,
            paced=args.paced,
            models=args.models,
            providers=args.providers,
            faces_per_frame=args.faces_per_frame,
            enhancer=args.enhancer,
            watermark=not args.no_watermark,
            swapper=args.swapper,
            mask=args.mask,
            resolution=args.resolution,
            pin_faces=args.pin_faces,
            cuda_graph=args.cuda_graph,
            detect_every=args.detect_every,
            governor=args.governor,
            cpu_load=args.cpu_load,
            content_check_s=args.content_check,
            remote=args.remote,
            detect_async=args.detect_async,
            first_swap_s=args.first_swap_timeout,
            device_compositing=args.device_compositing,
            io_binding={"auto": None, "on": True, "off": False}[args.io_binding],
        ),
        AppPaths.for_user(),
    )
    if args.json:
        _out(json.dumps(result))
    else:
        for key, value in result.items():
            _out(f"{key}: {value}")
    if not result["valid"] and not args.allow_missing_faces:
        sys.stderr.write(
            f"vcamswap: only {result['swapped_frames']} of {result['frames']} timed frames had a "
            "swapped face on an input with a face in every frame: the numbers above are not "
            "the swap's speed (--allow-missing-faces accepts them)\n"
        )
        return 1
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from vcamswap.tools.demo import run_demo

    out = run_demo(args.out, AppPaths.for_user(), virtual=args.virtual)
    _out(f"wrote {out} (left: original clip, right: lite-engine swap with the synthetic label)")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from vcamswap.tools.doctor import run_doctor

    paths = AppPaths.for_user()
    if args.config is not None:
        if not args.config.is_file():
            raise ConfigError(
                f"--config {args.config}: no such file; create it with "
                f"`vcamswap check-config --write-defaults {args.config}`"
            )
        from dataclasses import replace

        paths = replace(paths, config_file=args.config)
    checks = list(run_doctor(paths))
    if args.json:
        _out(json.dumps([check.to_dict() for check in checks], indent=1))
    else:
        for check in checks:
            fix = f"  -> {check.fix}" if check.fix and check.level != "OK" else ""
            _out(f"{check.level:5} {check.name}: {check.message}{fix}")
    return 1 if any(check.level == "FAIL" for check in checks) else 0
