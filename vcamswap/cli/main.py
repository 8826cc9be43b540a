"""`vcamswap` entry point. Parsing imports nothing heavy: cv2, dlib and onnxruntime load only
inside the commands that need them, so `--help` and `check-config` stay instant."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from vcamswap import __version__
from vcamswap.cli import commands
from vcamswap.errors import ConfigError, VCamSwapError

log = logging.getLogger("vcamswap")

Handler = Callable[[argparse.Namespace], int]


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=None, help="config file (default: the user config folder)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")


def _lazy(module: str, name: str) -> Handler:
    def handler(args: argparse.Namespace) -> int:
        import importlib

        target: Handler = getattr(importlib.import_module(module), name)
        return target(args)

    return handler


def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - argparse table
    parser = argparse.ArgumentParser(
        prog="vcamswap",
        description="Live face-swap virtual camera: your webcam in, the 'VCamSwap' camera out.",
    )
    parser.add_argument("--version", action="version", version=f"vcamswap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="run the daemon: camera -> swap -> virtual camera")
    _add_common(p)
    p.add_argument("--no-tray", action="store_true", help="run without a tray icon")
    p.add_argument(
        "--camera", default=None, help="camera: index, name, /dev/videoN, file:PATH or pattern"
    )
    p.add_argument("--output", default=None, help="output: virtual, file:PATH or null")
    p.add_argument("--engine", choices=["auto", "neural", "lite"], default=None)
    p.add_argument(
        "--face", default=None, help="source face: a name in the faces folder or an image path"
    )
    p.add_argument(
        "--camera-mode",
        choices=["always", "on-demand", "manual"],
        default=None,
        help="keep the camera open, open it while an app reads VCamSwap, or start "
        "paused (default: camera.mode)",
    )
    p.add_argument(
        "--remote",
        default=None,
        metavar="URL",
        help="run models.remote.models (swapper, enhancer) on this Triton server: "
        "grpc://HOST:8001 or grpcs://; face crops leave this machine",
    )
    p.add_argument(
        "--at-login",
        action="store_true",
        help="started by the login item: use camera.login_mode (on-demand on Linux, "
        "manual elsewhere) unless --camera-mode is given",
    )
    p.add_argument("--seconds", type=float, default=None, help="stop after this long")
    p.add_argument(
        "--accept-consent",
        action="store_true",
        help="accept the consent notice non-interactively (recorded in the config)",
    )
    p.set_defaults(handler=commands.cmd_run)

    p = sub.add_parser(
        "demo",
        help="swap a built-in sample face onto a built-in clip "
        "(lite engine, no downloads) and write a side-by-side mp4",
    )
    p.add_argument("--out", type=Path, default=Path("vcamswap-demo.mp4"))
    p.add_argument(
        "--virtual", action="store_true", help="also stream to the virtual camera if one exists"
    )
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=commands.cmd_demo)

    p = sub.add_parser("bench", help="measure the pipeline unpaced from a file into a null sink")
    _add_common(p)
    p.add_argument("--engine", choices=["passthrough", "copy", "lite", "neural"], default="lite")
    p.add_argument(
        "--input", default="sample", help="video file, 'sample' (built-in clip) or 'pattern'"
    )
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--size", default=None, help="WxH to scale the input to, e.g. 1280x720")
    p.add_argument(
        "--paced",
        action="store_true",
        help="pace the input at its fps (latency) instead of as fast as possible",
    )
    p.add_argument("--models", type=Path, default=None)
    p.add_argument("--providers", default=None)
    p.add_argument("--faces-per-frame", type=int, default=1)
    p.add_argument("--enhancer", action="store_true", help="neural: GFPGAN on every frame")
    p.add_argument(
        "--no-watermark",
        action="store_true",
        help="without the hidden watermark (to measure its cost; on by default)",
    )
    p.add_argument(
        "--swapper",
        choices=["inswapper_128", "inswapper_128_fp16", "ghost_3_256"],
        default="inswapper_128",
    )
    p.add_argument(
        "--mask",
        choices=["box", "parser"],
        default="box",
        help="neural: the paste mask (swap.mask); parser needs models.parser's file",
    )
    p.add_argument(
        "--resolution",
        type=int,
        choices=[128, 256, 512],
        default=128,
        help="neural: pixel boost (swap.resolution)",
    )
    p.add_argument(
        "--io-binding",
        choices=["auto", "on", "off"],
        default="auto",
        help="neural: swapper inputs/outputs in preallocated device buffers",
    )
    p.add_argument(
        "--device-compositing",
        choices=["auto", "on", "off"],
        default="auto",
        help="neural: crop, paste and enhance on the models' device "
        "(models.device_compositing; auto = on with CUDA/TensorRT)",
    )
    p.add_argument(
        "--cuda-graph",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="neural, CUDA: replay the swapper (one face) and the compositing "
        "graphs as CUDA graphs (models.cuda_graph, on by default)",
    )
    p.add_argument(
        "--detect-every", type=int, default=1, help="neural: run the detector every Nth frame"
    )
    p.add_argument(
        "--first-swap-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="fail when no face was swapped within S seconds (default 60)",
    )
    p.add_argument(
        "--allow-missing-faces",
        action="store_true",
        help="exit 0 even when fewer than 90%% of the timed frames had a swapped face "
        "on an input with a face in every frame (the run is marked invalid)",
    )
    p.add_argument(
        "--pin-faces",
        action="store_true",
        help="neural: run the detector but use fixed face positions (for "
        "random-weight benchmark models, which detect noise)",
    )
    p.add_argument(
        "--governor",
        choices=["off", "auto"],
        default="off",
        help="with --paced: the quality governor as in a live run (default off)",
    )
    p.add_argument(
        "--cpu-load",
        type=int,
        default=0,
        metavar="N",
        help="run N busy processes meanwhile (another app competing for the CPU)",
    )
    p.add_argument(
        "--detect-async",
        action="store_true",
        help="neural: run the detector on a side thread (swap.neural_detect_async)",
    )
    p.add_argument(
        "--remote",
        default=None,
        metavar="URL",
        help="neural: run the swapper and enhancer on this Triton server (grpc://HOST:8001)",
    )
    p.add_argument(
        "--content-check",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --paced: run the live content check every SECONDS",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=commands.cmd_bench)

    p = sub.add_parser("check-config", help="validate a config file; exit 2 listing problems")
    p.add_argument("path", nargs="?", type=Path, default=None)
    p.add_argument(
        "--write-defaults",
        type=Path,
        default=None,
        metavar="PATH",
        help="write the commented default configuration to PATH (a new file)",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=commands.cmd_check_config)

    p = sub.add_parser("doctor", help="check cameras, virtual camera, engines and models")
    _add_common(p)
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.set_defaults(handler=commands.cmd_doctor)

    p = sub.add_parser("models", help="list, verify and fetch the neural engine's model files")
    _add_common(p)
    p.add_argument("action", choices=["list", "verify", "fetch"])
    p.add_argument("name", nargs="?", default=None, help="one catalog model (default: all)")
    p.add_argument("--dir", type=Path, default=None, help="model folder (default: config)")
    p.add_argument("--yes", action="store_true", help="accept the licences without asking")
    p.set_defaults(handler=_lazy("vcamswap.cli.models_cmd", "cmd_models"))

    from vcamswap.cli.swap_cmd import add_parser as add_swap

    add_swap(sub)
    from vcamswap.cli.faces_cmd import add_parser as add_faces

    add_faces(sub)
    from vcamswap.cli.ctl_cmd import add_parser as add_ctl

    add_ctl(sub)

    from vcamswap.cli.autostart_cmd import add_parser as add_autostart

    add_autostart(sub)
    from vcamswap.cli.content_cmd import add_parser as add_content

    add_content(sub)
    from vcamswap.cli.serve_cmd import add_parser as add_serve

    add_serve(sub)
    from vcamswap.cli.verify_cmd import add_parser as add_verify

    add_verify(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler: Handler = args.handler
    from vcamswap.cli.commands import ui_language
    from vcamswap.config import AppPaths
    from vcamswap.i18n import use_language

    use_language(ui_language(args, AppPaths.for_user()))
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"vcamswap: {exc}", file=sys.stderr)  # noqa: T201
        for problem in exc.problems:
            print(problem, file=sys.stderr)  # noqa: T201
        return 2
    except VCamSwapError as exc:
        print(f"vcamswap: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
