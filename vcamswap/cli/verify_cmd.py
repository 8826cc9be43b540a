"""`vcamswap verify FILE... [--json]` and `vcamswap verify --camera SPEC`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_MARKED, EXIT_UNREADABLE, EXIT_UNMARKED = 0, 2, 3


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "verify",
        help="check pictures, videos or a camera for VCamSwap's synthetic-media marks",
        description="Looks for the hidden watermark, a C2PA manifest and the IPTC/XMP or "
        "container labels. Exit 0: every input is marked; 3: at least one is not; 2: at least "
        "one could not be read.",
    )
    p.add_argument("files", nargs="*", type=Path, metavar="FILE")
    p.add_argument(
        "--camera",
        default=None,
        metavar="SPEC",
        help="sample a live camera instead (index, device path or name; the VCamSwap virtual "
        "camera too)",
    )
    p.add_argument("--seconds", type=float, default=6.0, help="how long to sample --camera")
    p.add_argument("--json", action="store_true", help="one JSON list, an object per input")
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from vcamswap.errors import VCamSwapError
    from vcamswap.offline.verify import NO_MANIFEST, NOTHING, FileReport, describe, verify_file
    from vcamswap.safety.watermark import Codebook

    if not args.files and args.camera is None:
        sys.stderr.write("vcamswap verify: name one or more files to check, or --camera SPEC\n")
        return EXIT_UNREADABLE
    if args.camera is not None and args.seconds <= 0:
        sys.stderr.write("vcamswap verify: --seconds must be above 0 (6 is the default)\n")
        return EXIT_UNREADABLE
    codebook = Codebook()
    reports: list[FileReport] = [verify_file(codebook, path) for path in args.files]
    if args.camera is not None:
        from vcamswap.cli.commands import load_user_config
        from vcamswap.config import AppPaths
        from vcamswap.daemon.builders import build_source
        from vcamswap.offline.verify import verify_source

        config = load_user_config(args, AppPaths.for_user())
        spec: int | str = int(args.camera) if args.camera.isdigit() else args.camera
        try:
            mark = verify_source(codebook, build_source(spec, config.camera), args.seconds)
        except VCamSwapError as exc:
            label = f"camera {args.camera}"
            reports.append(FileReport(label, NOTHING, NO_MANIFEST, {}, str(exc)))
        else:
            reports.append(FileReport(f"camera {args.camera}", mark, NO_MANIFEST, {}))
    if args.json:
        sys.stdout.write(json.dumps([r.as_json() for r in reports], indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(describe(r) for r in reports) + "\n")
    if any(r.error for r in reports):
        return EXIT_UNREADABLE
    return EXIT_MARKED if all(r.marked for r in reports) else EXIT_UNMARKED
