"""`vcamswap models list|verify|fetch [NAME]`."""

from __future__ import annotations

import argparse
import sys

from vcamswap.cli.commands import load_user_config
from vcamswap.config import AppPaths, Config
from vcamswap.errors import ConfigError, ModelError


def _progress_printer() -> object:
    state = {"last": -1}

    def show(name: str, done: int, total: int | None) -> None:
        if total:
            percent = done * 100 // total
            if percent != state["last"]:
                state["last"] = percent
                bar = "#" * (percent // 4)
                sys.stderr.write(
                    f"\r{name}: [{bar:<25}] {percent:3d}% {done / 1e6:7.1f}/{total / 1e6:.1f} MB"
                )
        else:
            sys.stderr.write(f"\r{name}: {done / 1e6:7.1f} MB")
        sys.stderr.flush()

    return show


def _chosen(args: argparse.Namespace, config: Config) -> list[str]:
    """The catalog names the command works on: the one named, every slot, or (fetch without a
    name) what this config needs; a model that needs another (GHOST's converter) brings it."""
    from vcamswap.inference.catalog import CATALOG

    if args.name or args.action != "fetch":
        names = [args.name] if args.name else list(CATALOG)
    else:  # what this config needs, not every slot of the catalog
        from vcamswap.processors.engines import local_models

        names = [spec.name for spec in local_models(config)]
        if config.swap.mask != "box" and config.models.parser not in names:
            names.append(config.models.parser)  # swap.mask auto uses it once it is here
    unknown = [n for n in names if n not in CATALOG]
    if unknown:
        raise ConfigError(f"unknown model {unknown[0]!r}; known: {', '.join(CATALOG)}")
    if args.action == "fetch":
        for name in list(names):
            companion = CATALOG[name].companion
            if companion and companion not in names:
                names.append(companion)
    return names


def cmd_models(args: argparse.Namespace) -> int:
    from vcamswap.inference.catalog import CATALOG
    from vcamswap.processors.engines import model_store

    paths = AppPaths.for_user()
    config = load_user_config(args, paths)
    store = model_store(config, paths, args.dir)
    names = _chosen(args, config)
    specs = [CATALOG[n] for n in names]
    if args.action == "list":
        sys.stdout.write(f"model folder: {store.folder}\n")
        for spec in specs:
            state = store.verify(spec).state
            sys.stdout.write(
                f"{spec.name:20} {spec.role:9} {state:13} {spec.file:26} {spec.licence}\n"
            )
        if not args.name:
            from vcamswap.inference.content import PACKAGED_LICENCE

            sys.stdout.write(
                f"{'nudenet_320n':20} {'content':9} {'packaged':13} "
                f"{'nudenet/320n.onnx':26} {PACKAGED_LICENCE}\n"
            )
        return 0
    if args.action == "verify":
        bad = 0
        for spec in specs:
            result = store.verify(spec, full=True)  # never trusts the digest cache
            if result.ok:
                sys.stdout.write(f"ok    {spec.name}: {result.path}\n")
            elif result.state == "missing" and not args.name:
                sys.stdout.write(f"-     {spec.name}: not downloaded\n")
            else:
                bad += 1
                sys.stdout.write(f"BAD   {result.message(store.accepted(spec))}\n")
        return 1 if bad else 0
    if not args.yes:
        sys.stdout.write(
            "Licences of the files to download (VCamSwap does not redistribute them):\n"
        )
        for spec in specs:
            sys.stdout.write(f"  {spec.file}: {spec.licence}\n")
        if not sys.stdin.isatty():
            raise ModelError("accept the licences above with --yes to fetch non-interactively")
        if input("Accept and download? [y/N] ").strip().lower() not in ("y", "yes"):
            return 1
    failures = []
    for spec in specs:
        try:
            path = store.fetch(spec, _progress_printer())  # type: ignore[arg-type]
            sys.stderr.write("\n")
            sys.stdout.write(f"ok    {spec.name}: {path}\n")
        except ModelError as exc:
            sys.stderr.write("\n")
            failures.append(str(exc))
    if failures:
        raise ModelError("\n".join(failures))
    return 0
