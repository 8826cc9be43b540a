"""Runs the tray icon on the main thread (macOS requires it). Any import or backend failure
degrades to "no tray" with one log line. A stop from another thread (ctl quit, a crash) reaches
the icon through SIGUSR1, because pystray's X11 loop can only be stopped from its own thread."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

from vcamswap.control.api import Controls
from vcamswap.tray.menu import Item, Opener, tooltip

log = logging.getLogger(__name__)
COLORS = {"running": (46, 160, 67), "paused": (130, 130, 130), "degraded": (230, 140, 20),
          "starting": (40, 110, 200), "stopped": (200, 40, 40)}


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
            return pystray.MenuItem(item.text, pystray.Menu(
                lambda: tuple(convert(child) for child in generate())))
        action = item.action
        checked = item.checked
        return pystray.MenuItem(
            item.text, (lambda _icon, _item: action()) if action else None,
            checked=(lambda _item: checked()) if checked else None,
            radio=item.radio, default=item.default)
    return pystray.Menu(*(convert(item) for item in items))


def run_tray(controls: Controls, items: tuple[Item, ...], stop: threading.Event) -> bool:
    """Show the icon until ``stop`` is set; False (after one log line) if no tray can run."""
    try:
        import pystray
    except Exception as exc:  # Xlib raises DisplayNameError, not ImportError, without DISPLAY
        log.warning("no tray icon (%s: %s); the daemon runs without one. On Linux, menus need "
                    "an AppIndicator/GTK backend: see the README", type(exc).__name__, exc)
        return False
    icon = pystray.Icon("vcamswap", icon_image("starting"), "VCamSwap",
                        menu=_pystray_menu(pystray, items))
    if not getattr(icon, "HAS_MENU", True):
        log.info("this tray backend has no menu: clicking the icon toggles the swap")

    def wake(_signum: int, _frame: Any) -> None:
        icon.stop()

    signal.signal(signal.SIGUSR1, wake)

    def refresh() -> None:
        state = ""
        while not stop.wait(1.0):
            status = controls.status()
            if status.get("state") != state:
                state = str(status.get("state"))
                icon.icon = icon_image(state)
            icon.title = tooltip(controls)
            try:
                icon.update_menu()
            except Exception as exc:
                log.debug("tray menu update failed: %s", exc)
        os.kill(os.getpid(), signal.SIGUSR1)

    def setup(shown: Any) -> None:
        shown.visible = True
        log.info("tray icon shown")
        threading.Thread(target=refresh, name="vcamswap-tray", daemon=True).start()

    try:
        icon.run(setup=setup)
    except Exception as exc:
        log.warning("the tray icon failed (%s); the daemon goes on without it", exc)
        return False
    return True


def desktop_opener(urls: dict[str, str]) -> Opener:
    """Opens URLs in the browser and files or folders with the desktop's default app."""
    import subprocess
    import sys
    import webbrowser

    def open_path(path: str) -> None:
        try:
            if sys.platform == "win32":
                os.startfile(path)  # type: ignore[attr-defined]
            else:
                subprocess.Popen(["open" if sys.platform == "darwin" else "xdg-open", path])
        except OSError as exc:
            log.warning("cannot open %s: %s", path, exc)

    def open_url(url: str) -> None:
        if url:
            webbrowser.open(url)

    return Opener(url=open_url, path=open_path, urls=urls)
