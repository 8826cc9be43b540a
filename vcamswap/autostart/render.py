"""Pure renderers of the login-item files (golden-file tested)."""

from __future__ import annotations

import plistlib
import shlex
import subprocess
from collections.abc import Sequence

LABEL = "com.vcamswap.daemon"


def _desktop_quote(arg: str) -> str:
    """Quote one argument for a .desktop Exec key (Desktop Entry spec, 'The Exec key')."""
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`%="):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'.replace("%", "%%")


def desktop_entry(command: Sequence[str]) -> str:
    exec_line = " ".join(_desktop_quote(arg) for arg in command)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=VCamSwap\n"
        "Comment=Live face-swap virtual camera\n"
        f"Exec={exec_line}\n"
        "Icon=camera-video\n"
        "Terminal=false\n"
        "Categories=AudioVideo;Video;\n"
        "X-GNOME-Autostart-enabled=true\n"
        "X-GNOME-Autostart-Delay=5\n"
    )


def systemd_unit(command: Sequence[str]) -> str:
    exec_line = " ".join(shlex.quote(arg) for arg in command)
    return (
        "[Unit]\n"
        "Description=VCamSwap live face-swap virtual camera\n"
        "PartOf=graphical-session.target\n"
        "After=graphical-session.target\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={exec_line}\n"
        "Restart=on-failure\n"
        "RestartSec=5\n"
        "\n"
        "[Install]\n"
        "WantedBy=graphical-session.target\n"
    )


def launchd_plist(command: Sequence[str], log_dir: str) -> bytes:
    return plistlib.dumps(
        {
            "Label": LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "KeepAlive": {"SuccessfulExit": False},
            "ProcessType": "Interactive",
            "StandardOutPath": f"{log_dir}/launchd.out.log",
            "StandardErrorPath": f"{log_dir}/launchd.err.log",
        },
        sort_keys=True,
    )


def windows_command(command: Sequence[str]) -> str:
    """One command line as Windows' CommandLineToArgvW (and the C runtime) split it back:
    quotes around spaces, backslashes before quotes doubled."""
    return subprocess.list2cmdline(list(command))
