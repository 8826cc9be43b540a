"""`vcamswap content-check FILE... [--json]`: exit 0 all clean, 3 one flagged, 2 a file could
not be checked (3 wins when both happen: a flagged file is the answer that matters)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vcamswap.cli.commands import load_user_config
from vcamswap.config import AppPaths

EXIT_FLAGGED = 3
EXIT_UNREADABLE = 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "content-check",
        help="check images and videos for explicit material (exit 0 clean, "
        "3 flagged, 2 unreadable)",
    )
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_content_check)


def cmd_content_check(args: argparse.Namespace) -> int:
    from vcamswap.offline.scan import scan_file
    from vcamswap.processors.engines import content_classifier

    paths = AppPaths.for_user()
    config = load_user_config(args, paths)
    check = config.safety.content_check
    # This command is the check itself: it runs even when the live check is turned off, on
    # every thread onnxruntime wants.
    classifier = content_classifier(config, paths, always=True, threads=0)
    assert classifier is not None
    results = [scan_file(classifier, path, config.safety.max_image_pixels) for path in args.files]
    if args.json:
        sys.stdout.write(
            json.dumps({"threshold": check.threshold, "files": [r.to_dict() for r in results]})
            + "\n"
        )
    else:
        for r in results:
            labels = ", ".join(f"{label} {score:.2f}" for label, score in r.labels) or "-"
            detail = r.error if r.status == "error" else labels
            where = f" at {', '.join(f'{t:g}s' for t in r.flagged_at)}" if r.flagged_at else ""
            sys.stdout.write(f"{r.status.upper():8} {r.path}: {detail}{where}\n")
    if any(r.status == "flagged" for r in results):
        return EXIT_FLAGGED
    if any(r.status == "error" for r in results):
        return EXIT_UNREADABLE
    return 0
