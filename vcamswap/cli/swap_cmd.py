"""`vcamswap swap`: faces in image and video files."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from vcamswap.cli.commands import load_user_config
from vcamswap.config import AppPaths, Config
from vcamswap.errors import VCamSwapError
from vcamswap.i18n import _

IMAGES = (".jpg", ".jpeg", ".png", ".webp")
VIDEOS = (".mp4", ".mkv", ".mov", ".webm", ".m4v")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("swap", help="swap faces in an image or video file (keeps audio)")
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--face", required=True, help="source face: name in the faces folder or path")
    p.add_argument(
        "--remote",
        default=None,
        metavar="URL",
        help="run the swapper and enhancer on this Triton server (grpc://HOST:8001)",
    )
    p.add_argument("--input", type=Path, required=True)
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--engine", choices=["auto", "neural", "lite"], default=None)
    p.add_argument("--enhancer", action="store_true")
    p.add_argument("--mouth-mask", action="store_true")
    p.add_argument("--many-faces", action="store_true")
    p.add_argument("--start", type=float, default=None, help="seconds")
    p.add_argument("--end", type=float, default=None, help="seconds")
    p.add_argument("--crf", type=int, default=20)
    p.add_argument("--codec", choices=["h264", "h265", "vp9"], default="h264")
    p.add_argument(
        "--encoder",
        default="auto",
        help="'auto' (default): a hardware encoder for --codec when one opens on "
        "this machine (NVENC, VideoToolbox, QSV, VAAPI), else the software one; "
        "or an FFmpeg encoder name, e.g. libx264, h264_nvenc",
    )
    p.add_argument("--accept-consent", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=cmd_swap)


def progress_printer(stream: object = sys.stderr) -> object:
    last = {"t": 0.0}
    tty = getattr(stream, "isatty", lambda: False)()

    def show(done: int, total: int | None, elapsed: float) -> None:
        now = time.monotonic()
        if not tty and now - last["t"] < 5.0 and done != total:
            return
        last["t"] = now
        fps = done / elapsed if elapsed > 0 else 0.0
        if total:
            eta = (total - done) / fps if fps > 0 else 0.0
            pct = min(100, done * 100 // total)
            text = (
                f"[{'#' * (pct // 4):<25}] {pct:3d}% {done}/{total} frames "
                f"{fps:5.1f} fps ETA {eta:4.0f} s"
            )
        else:
            text = f"{done} frames {fps:5.1f} fps"
        stream.write(("\r" + text) if tty else (text + "\n"))  # type: ignore[attr-defined]
        stream.flush()  # type: ignore[attr-defined]

    return show


def cmd_swap(args: argparse.Namespace) -> int:  # noqa: PLR0915 - option checks
    from vcamswap.devices.imagefile import check_image_file
    from vcamswap.devices.imaging import TextCardRenderer
    from vcamswap.offline.image import swap_image
    from vcamswap.offline.output import Terminated, cleanup_on_signals, refuse_same_file
    from vcamswap.offline.video import VideoJob, VideoOptions
    from vcamswap.processors.engines import build_swap_processor, content_classifier
    from vcamswap.processors.faces import folder_resolver
    from vcamswap.runtime import RuntimeState, Toggles
    from vcamswap.safety.consent import ensure_consent
    from vcamswap.safety.content import screened_resolver
    from vcamswap.safety.guard import PrivacyGuard

    paths = AppPaths.for_user()
    config = load_user_config(args, paths)
    ensure_consent(
        config.safety.consent_accepted, args.config or paths.config_file, flag=args.accept_consent
    )
    suffix_in, suffix_out = args.input.suffix.lower(), args.output.suffix.lower()
    if suffix_in not in IMAGES + VIDEOS:
        raise VCamSwapError(
            _("{file}: unsupported input; use an image ({images}) or a video ({videos})").format(
                file=args.input.name, images=", ".join(IMAGES), videos=", ".join(VIDEOS)
            )
        )
    if not args.input.is_file():
        raise VCamSwapError(_("input {file} does not exist").format(file=args.input))
    if not args.output.parent.is_dir() or not os_writable(args.output.parent):
        raise VCamSwapError(
            _("cannot write to {folder}: the folder does not exist or is not writable").format(
                folder=args.output.parent
            )
        )
    if suffix_out == ".webm" and args.codec != "vp9":
        raise VCamSwapError(
            _("{file}: WebM holds VP8/VP9 video only; add --codec vp9, or write .mp4").format(
                file=args.output.name
            )
        )
    if (suffix_in in IMAGES) != (suffix_out in IMAGES):
        raise VCamSwapError(
            _("an image input needs an image output and a video input a video output")
        )
    refuse_same_file(args.input, args.output)
    if suffix_in in IMAGES:
        check_image_file(args.input, config.safety.max_image_pixels)
    swap = config.swap.model_copy(
        update={
            "engine": args.engine or config.swap.engine,
            "face": args.face,
            "many_faces": args.many_faces or config.swap.many_faces,
            "enhancer": args.enhancer or config.swap.enhancer,
        }
    )
    config = config.model_copy(update={"swap": swap})
    if args.remote:
        from vcamswap.config.overrides import with_remote

        config = with_remote(config, args.remote)
    state = RuntimeState(
        Toggles(
            face=args.face, enhancer=swap.enhancer, mouth_mask=args.mouth_mask or swap.mouth_mask
        )
    )
    resolve = folder_resolver(swap.faces_dir or paths.faces_dir, config.safety.max_image_pixels)
    content = content_classifier(config, paths)
    # A missing or refused face is reported before any work starts.
    screened_resolver(resolve, content)(args.face)
    processor = build_swap_processor(
        config, paths, state, resolve=resolve, offline=True, content=content
    )
    guard = PrivacyGuard(swap.on_face_lost, TextCardRenderer().render)
    finish = c2pa_finisher(config, paths, args.output)
    try:
        with cleanup_on_signals():
            if suffix_in in IMAGES:
                faces = swap_image(
                    processor,
                    guard,
                    args.input,
                    args.output,
                    content,
                    config.safety.max_image_pixels,
                    finish,
                )
                signed = ", C2PA signed" if finish else ""
                sys.stdout.write(
                    f"wrote {args.output} ({faces} face(s) swapped, labelled synthetic{signed})\n"
                )
                return 0
            job = VideoJob(
                processor,
                guard,
                args.input,
                args.output,
                VideoOptions(
                    codec=args.codec,
                    crf=args.crf,
                    start=args.start,
                    end=args.end,
                    encoder=args.encoder,
                ),
                progress_printer(),  # type: ignore[arg-type]
                content,
                finish,
            )
            result = job.run()
    except Terminated as exc:
        sys.stderr.write(f"\n{exc.args[0]}: stopped, no output was written\n")
        return 128 + exc.signum
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted: no output was written\n")
        return 130
    sys.stderr.write("\n")
    sys.stdout.write(
        f"wrote {args.output}: {result.frames} frames at {result.fps:.3f} fps, "
        f"{result.swapped_frames} swapped, audio {result.audio}\n"
    )
    return 0


def c2pa_finisher(config: Config, paths: AppPaths, output: Path) -> Callable[[Path], None] | None:
    """The C2PA signer for ``output``, or None (off, or a format C2PA cannot carry: said)."""
    from vcamswap.safety.c2pa_sign import ManifestSigner

    settings = config.safety.c2pa
    if not settings.enabled:
        return None
    signer = ManifestSigner(
        paths.data_dir,
        Path(settings.certificate).expanduser() if settings.certificate else None,
        Path(settings.private_key).expanduser() if settings.private_key else None,
    )
    if not signer.supports(output):
        sys.stderr.write(
            f"note: {output.suffix} files cannot carry a C2PA manifest; {output.name} gets the "
            "watermark and metadata labels only (write .mp4 or .mov for Content Credentials)\n"
        )
        return None
    signer.check()  # a broken signing setup stops here, before the job
    return signer.sign


def os_writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK)
