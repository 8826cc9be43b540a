"""`vcamswap ctl status|enable|disable|face NAME|enhancer on|off|reload|quit|preview|panel`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from vcamswap.config import AppPaths
from vcamswap.errors import VCamSwapError
from vcamswap.i18n import _


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ctl", help="control a running daemon over its loopback API")
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument(
        "action",
        choices=[
            "status",
            "enable",
            "disable",
            "face",
            "enhancer",
            "governor",
            "reload",
            "quit",
            "preview",
            "panel",
        ],
    )
    p.add_argument(
        "--url",
        action="store_true",
        help="panel: print the one-time login address instead of opening the browser",
    )
    p.add_argument(
        "value",
        nargs="?",
        default=None,
        help="face NAME, enhancer on|off, or governor auto|off|LEVEL",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="status: print one JSON object (state, camera_mode, camera_open, "
        "input_fps, output_fps, latency_ms, governor, engine, face, ...)",
    )
    p.set_defaults(handler=cmd_ctl)


def cmd_ctl(args: argparse.Namespace) -> int:
    from vcamswap.control.client import ControlClient
    from vcamswap.control.token import read_token

    paths = AppPaths.for_user()
    port = daemon_port(paths, args.config)
    client = ControlClient(port, read_token(paths.token_file))
    action, value = args.action, args.value
    if action == "status":
        result = client.request("GET", "/api/status")
        if args.json:
            sys.stdout.write(json.dumps(result, default=str) + "\n")
        else:
            sys.stdout.write(describe_status(result))
        return 0
    elif action == "preview":
        token = read_token(paths.token_file)
        sys.stdout.write(f"http://127.0.0.1:{port}/preview?token={token}\n")
        return 0
    elif action == "panel":
        url = str(client.request("POST", "/api/panel/code")["url"])
        if args.url:
            sys.stdout.write(url + "\n")
            return 0
        import webbrowser

        if not webbrowser.open(url):
            raise VCamSwapError(
                _(
                    "no browser could be opened here; open this address within a minute: {url}"
                ).format(url=url)
            )
        sys.stdout.write(_("opened the control panel in your browser") + "\n")
        return 0
    elif action == "face":
        if not value:
            raise VCamSwapError(_("usage: vcamswap ctl face NAME (see `vcamswap faces list`)"))
        result = client.request("POST", "/api/face", {"name": value})
    elif action == "governor":
        if value in ("auto", "off"):
            body: dict[str, object] = {"mode": value}
        elif value is not None and value.isdigit():
            body = {"mode": "pinned", "level": int(value)}
        else:
            raise VCamSwapError(
                _(
                    "usage: vcamswap ctl governor auto|off|LEVEL (the levels are listed by "
                    "`vcamswap ctl status`)"
                )
            )
        result = client.request("POST", "/api/governor", body)
    elif action == "enhancer":
        if value not in ("on", "off"):
            raise VCamSwapError(_("usage: vcamswap ctl enhancer on|off"))
        result = client.request("POST", "/api/enhancer", {"on": value == "on"})
    else:
        result = client.request("POST", f"/api/{action}")
    ok = bool(result.get("ok", True))
    if args.json:
        sys.stdout.write(json.dumps(result, indent=1, default=str) + "\n")
    else:
        sys.stdout.write(confirm(action, value, result) + "\n")
    return 0 if ok else 2


def confirm(action: str, value: str | None, result: dict[str, Any]) -> str:
    """One line saying what the daemon did (or the problems it found)."""
    if not result.get("ok", True):
        problems = result.get("problems") or [result.get("error") or _("refused")]
        return _("{action} failed: {problems}").format(
            action=action, problems="; ".join(str(p) for p in problems)
        )
    unsaved = (result.get("status") or {}).get("unsaved")
    note = f" ({unsaved})" if unsaved else ""
    return {
        "enable": _("swap on"),
        "disable": _("swap off (the camera shows your real face)"),
        "face": _("source face: {name}").format(name=value),
        "enhancer": _("enhancer {state}").format(state=value),
        "governor": _("quality governor: {mode}").format(mode=value),
        "reload": _("config reloaded"),
        "quit": _("the daemon is stopping"),
    }.get(action, f"{action}: ok") + note


def daemon_port(paths: AppPaths, config_file: Path | None) -> int:
    """The running daemon's port: the file it wrote, else control.port from the config (read
    only, never written; a broken config falls back to the default port)."""
    from vcamswap.config import Config, load_config

    try:
        return int(paths.port_file.read_text().strip())
    except (OSError, ValueError):
        pass
    try:
        return load_config(config_file or paths.config_file).control.port
    except VCamSwapError:
        return Config().control.port


def describe_status(status: dict[str, Any]) -> str:
    """`ctl status` for people: the few lines that answer "is it working, and how well"."""
    governor = status.get("governor") or {}
    levels = governor.get("levels") or []
    lines = [
        f"state:     {status.get('state')}"
        + (f" ({status['last_error']})" if status.get("last_error") else ""),
        f"camera:    {status.get('camera')} - "
        f"{'open' if status.get('camera_open') else 'closed'}, mode {status.get('camera_mode')}",
        f"output:    {status.get('output')}",
        f"engine:    {status.get('engine')} ({status.get('engine_reason', '')}), "
        f"face {status.get('face') or '(first in folder)'}, "
        f"swap {'on' if status.get('swap_enabled') else 'off'}, "
        f"enhancer {'on' if status.get('enhancer') else 'off'}",
        f"rates:     in {status.get('input_fps', 0):.1f} fps, processed "
        f"{status.get('processed_fps', 0):.1f} fps, out {status.get('output_fps', 0):.1f} fps",
        f"swapped:   {status.get('swapped_frames', 0)} frames, privacy guard replaced "
        f"{status.get('guarded_frames', 0)}",
        f"latency:   p50 {status.get('latency_ms_p50', 0):.1f} ms, "
        f"p95 {status.get('latency_ms', 0):.1f} ms",
        f"quality:   step {governor.get('level', 0)} of {max(0, len(levels) - 1)} "
        f"({governor.get('name', '')}), governor {governor.get('mode', '')}: "
        f"{governor.get('reason', '')}",
    ]
    if len(levels) > 1:
        lines.append("           steps: " + "; ".join(f"{i} {n}" for i, n in enumerate(levels)))
    for problem in status.get("config_problems") or []:
        lines.append(f"config:    {problem}")
    return "\n".join(lines) + "\n"
