"""`vcamswap faces list|add PATH [--name N] [--index K]|remove NAME`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vcamswap.cli.commands import load_user_config
from vcamswap.config import AppPaths
from vcamswap.i18n import _


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("faces", help="list, add and remove source faces in the faces folder")
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("-v", "--verbose", action="store_true")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the faces in the library")
    add = actions.add_parser("add", help="validate a photo and add it")
    add.add_argument("path", type=Path)
    add.add_argument("--name", default=None, help="face name (default: the file name)")
    add.add_argument(
        "--index",
        type=int,
        default=None,
        help="which face when the photo has several (0 = largest)",
    )
    remove = actions.add_parser("remove", help="remove a face by name")
    remove.add_argument("name")
    p.set_defaults(handler=cmd_faces)


def cmd_faces(args: argparse.Namespace) -> int:
    from vcamswap.facelib.library import FaceLibrary

    paths = AppPaths.for_user()
    config = load_user_config(args, paths)
    library = FaceLibrary(config.swap.faces_dir or paths.faces_dir)
    if args.action == "list":
        entries = library.entries()
        sys.stdout.write(_("faces folder: {folder}").format(folder=library.folder) + "\n")
        current = config.swap.face
        for entry in entries:
            mark = "*" if current and current.lower() == entry.name.lower() else " "
            sys.stdout.write(f"{mark} {entry.name:24} {entry.sha256[:12]}  {entry.path}\n")
        if not entries:
            sys.stdout.write("  " + _("(empty: vcamswap faces add PHOTO --name NAME)") + "\n")
        return 0
    if args.action == "add":
        from vcamswap.processors.engines import content_classifier

        library = FaceLibrary(
            library.folder,
            content=content_classifier(config, paths),
            max_pixels=config.safety.max_image_pixels,
        )
        entry = library.add(args.path, args.name, args.index)
        sys.stdout.write(
            _("added {name} ({file})").format(name=repr(entry.name), file=entry.path) + "\n"
        )
        if entry.notes:
            sys.stderr.write(
                _(
                    "note: in {file} {notes}; the lite engine pastes this expression onto "
                    "every frame, whatever your own mouth does. A photo with a relaxed, closed "
                    "mouth looks natural in more moments; or keep your own mouth with "
                    "swap.mouth_mask: true in the config."
                ).format(file=args.path.name, notes=(" " + _("and") + " ").join(entry.notes))
                + "\n"
            )
        return 0
    removed = library.remove(args.name)
    sys.stdout.write(_("removed {name} ({file})").format(name=repr(args.name), file=removed) + "\n")
    return 0
