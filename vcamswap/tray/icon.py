"""Runs the tray icon on the main thread (macOS requires it). Any import or backend failure
degrades to "no tray" with one log line. How updates and the stop reach the toolkit's loop from
the refresh thread is the platform's ``TrayLoop``: SIGUSR1 on Linux (pystray's X11 loop can
only be stopped from its own thread), a direct ``icon.stop()`` on Windows (no SIGUSR1 there),
and calls queued to the main thread on macOS (AppKit is main-thread only)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from vcamswap.control.api import Controls
from vcamswap.platforms import Platform, current_platform
from vcamswap.tray.menu import Item, Opener, tooltip

log = logging.getLogger(__name__)
COLORS = {
    "running": (46, 160, 67),
    "paused": (130, 130, 130),
    "degraded": (230, 140, 20),
    "starting": (40, 110, 200),
    "stopped": (200, 40, 40),
    "error": (200, 40, 40),
    "swap off": (90, 90, 90),
}


def icon_state(status: dict[str, Any]) -> str:
    """What the icon's colour shows: the pipeline's state, except that a running camera with
    the swap turned off is "swap off" (the real face is on air), never green."""
    state = str(status.get("state"))
    if state in ("running", "degraded") and not status.get("swap_enabled", True):
        return "swap off"
    return state


def icon_image(state: str) -> Any:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, 60, 60), fill=COLORS.get(state, (200, 40, 40)))
    draw.rectangle((20, 24, 44, 40), fill=(255, 255, 255))
    draw.polygon([(44, 28), (54, 22), (54, 42), (44, 36)], fill=(255, 255, 255))
    return image


def _pystray_menu(pystray: Any, items: tuple[Item, ...]) -> Any:
    def convert(item: Item) -> Any:
        if item.submenu is not None:
            generate = item.submenu
            return pystray.MenuItem(
                item.text, pystray.Menu(lambda: tuple(convert(child) for child in generate()))
            )
        action = item.action
        checked = item.checked
        return pystray.MenuItem(
            item.text,
            (lambda _icon, _item: action()) if action else None,
            checked=(lambda _item: checked()) if checked else None,
            radio=item.radio,
            default=item.default,
        )

    return pystray.Menu(*(convert(item) for item in items))


NO_TRAY_HINT = {
    "linux": "On Linux, menus need an AppIndicator/GTK backend: see the README",
    "win32": "",
    "darwin": "",
    "other": "",
}


def run_tray(
    controls: Controls,
    items: tuple[Item, ...],
    stop: threading.Event,
    platform: Platform | None = None,
    refresh_s: float = 1.0,
) -> bool:
    """Show the icon until ``stop`` is set; False (after one log line) if no tray can run.
    Blocks the calling thread, which must be the main thread."""
    platform = platform or current_platform()
    try:
        pystray = platform.load_tray()
    except Exception as exc:  # Xlib raises DisplayNameError, not ImportError, without DISPLAY
        log.warning(
            "no tray icon (%s: %s); the daemon runs without one. %s",
            type(exc).__name__,
            exc,
            NO_TRAY_HINT[platform.name],
        )
        return False
    icon = pystray.Icon(
        "vcamswap", icon_image("starting"), "VCamSwap", menu=_pystray_menu(pystray, items)
    )
    if not getattr(icon, "HAS_MENU", True):
        log.info("this tray backend has no menu: clicking the icon toggles the swap")
    loop = platform.tray_loop()

    def refresh() -> None:
        shown = ""
        while not stop.wait(refresh_s):
            state = icon_state(controls.status())
            image = icon_image(state) if state != shown else None
            shown = state
            loop.call(_updater(icon, image, tooltip(controls)))
        loop.stop(icon)

    def setup(started: Any) -> None:
        def show() -> None:
            started.visible = True
            log.info("tray icon shown")

        loop.call(show)
        threading.Thread(target=refresh, name="vcamswap-tray", daemon=True).start()

    restore = loop.install(icon)
    try:
        icon.run(setup=setup)
    except Exception as exc:
        log.warning("the tray icon failed (%s); the daemon goes on without it", exc)
        return False
    finally:
        restore()
    return True


def _updater(icon: Any, image: Any, title: str) -> Any:
    """One refresh of the icon (a new image only when the state changed), title and menu."""

    def update() -> None:
        if image is not None:
            icon.icon = image
        icon.title = title
        try:
            icon.update_menu()
        except Exception as exc:
            log.debug("tray menu update failed: %s", exc)

    return update


def desktop_opener(
    urls: dict[str, str],
    platform: Platform | None = None,
    panel: Callable[[], str] | None = None,
) -> Opener:
    """Opens URLs in the browser and files or folders with the desktop's default app."""
    import subprocess
    import webbrowser

    name = (platform or current_platform()).name

    def open_path(path: str) -> None:
        try:
            if name == "win32":
                os.startfile(path)  # type: ignore[attr-defined,unused-ignore]
            else:
                subprocess.Popen(["open" if name == "darwin" else "xdg-open", path])
        except OSError as exc:
            log.warning("cannot open %s: %s", path, exc)

    def open_url(url: str) -> None:
        if url:
            webbrowser.open(url)

    return Opener(url=open_url, path=open_path, urls=urls, panel=panel)
