"""`vcamswap autostart enable [--systemd]|disable|status`."""

from __future__ import annotations

import argparse
import sys

from vcamswap.config import AppPaths


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("autostart", help="start VCamSwap at login (enable, disable, status)")
    p.add_argument("action", choices=["enable", "disable", "status"])
    p.add_argument(
        "--systemd",
        action="store_true",
        help="Linux: a systemd user unit that restarts on failure, enabled with "
        "systemctl, instead of the XDG autostart entry",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=cmd_autostart)


def cmd_autostart(args: argparse.Namespace) -> int:
    from vcamswap.autostart.backends import for_this_system

    backend = for_this_system(AppPaths.for_user().log_dir, args.systemd)
    if args.action == "enable":
        for path in backend.enable():
            sys.stdout.write(f"wrote {path}\n")
    elif args.action == "disable":
        removed = backend.disable()
        sys.stdout.write("".join(f"removed {p}\n" for p in removed) or "was not enabled\n")
    else:
        describe = getattr(backend, "describe", None)
        how = f" ({describe()})" if describe is not None and backend.enabled() else ""
        sys.stdout.write(
            f"autostart ({backend.name}): {'enabled' if backend.enabled() else 'disabled'}{how}\n"
        )
    return 0
