"""`vcamswap ctl status|enable|disable|face NAME|enhancer on|off|reload|quit|preview`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vcamswap.cli.commands import load_user_config
from vcamswap.config import AppPaths
from vcamswap.errors import VCamSwapError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ctl", help="control a running daemon over its loopback API")
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("action", choices=["status", "enable", "disable", "face", "enhancer",
                                      "reload", "quit", "preview"])
    p.add_argument("value", nargs="?", default=None, help="face NAME, or enhancer on|off")
    p.set_defaults(handler=cmd_ctl)


def cmd_ctl(args: argparse.Namespace) -> int:
    from vcamswap.control.client import ControlClient
    from vcamswap.control.token import read_token

    paths = AppPaths.for_user()
    config = load_user_config(args, paths)
    port_file = paths.token_file.with_name("control.port")
    try:
        port = int(port_file.read_text().strip())
    except (OSError, ValueError):
        port = config.control.port
    client = ControlClient(port, read_token(paths.token_file))
    action, value = args.action, args.value
    if action == "status":
        result = client.request("GET", "/api/status")
    elif action == "preview":
        token = read_token(paths.token_file)
        sys.stdout.write(f"http://127.0.0.1:{port}/preview?token={token}\n")
        return 0
    elif action == "face":
        if not value:
            raise VCamSwapError("usage: vcamswap ctl face NAME (see `vcamswap faces list`)")
        result = client.request("POST", "/api/face", {"name": value})
    elif action == "enhancer":
        if value not in ("on", "off"):
            raise VCamSwapError("usage: vcamswap ctl enhancer on|off")
        result = client.request("POST", "/api/enhancer", {"on": value == "on"})
    else:
        result = client.request("POST", f"/api/{action}")
    sys.stdout.write(json.dumps(result, indent=1, default=str) + "\n")
    return 0 if result.get("ok", True) else 2
