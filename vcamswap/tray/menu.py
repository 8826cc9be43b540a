"""The tray menu as plain data: every label, check mark and action pulls from Controls, so the
menu never holds state of its own (and tests drive it without a display)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from vcamswap.control.api import Controls
from vcamswap.i18n import _


@dataclass(frozen=True, slots=True)
class Item:
    text: str
    action: Callable[[], None] | None = None
    checked: Callable[[], bool] | None = None
    radio: bool = False
    default: bool = False
    submenu: Callable[[], tuple[Item, ...]] | None = None


@dataclass(frozen=True, slots=True)
class Opener:
    """How the menu opens things on this desktop (injected; tests record the calls)."""

    url: Callable[[str], None]
    path: Callable[[str], None]
    urls: dict[str, str] = field(default_factory=dict)
    panel: Callable[[], str] | None = None
    """A fresh one-time login address for the control panel (None: no control server)."""


def _flag(controls: Controls, key: str) -> Callable[[], bool]:
    return lambda: bool(controls.status().get(key))


class LoginItem(Protocol):
    def enable(self) -> object: ...

    def disable(self) -> object: ...

    def enabled(self) -> bool: ...


def build_menu(
    controls: Controls,
    opener: Opener,
    faces_folder: str,
    config_file: str,
    autostart: LoginItem | None = None,
) -> tuple[Item, ...]:
    """Swap on/off (also the default click), Faces (radio list + Add face), Enhancer, Mouth
    mask, Quality (governor auto/off/hold a step), Preview, Open config, Start at login,
    About/Licences, Quit."""
    login: tuple[Item, ...] = ()
    if autostart is not None:

        def toggle_login() -> None:
            if autostart.enabled():
                autostart.disable()
            else:
                autostart.enable()

        login = (Item(_("Start at login"), action=toggle_login, checked=autostart.enabled),)

    def toggle(key: str, setter: Callable[[bool], None]) -> Callable[[], None]:
        return lambda: setter(not bool(controls.status().get(key)))

    def choose(name: str) -> Callable[[], None]:
        return lambda: controls.set_source_face(name)

    def current(name: str) -> Callable[[], bool]:
        return lambda: controls.status().get("face") == name

    def faces() -> tuple[Item, ...]:
        names = controls.status().get("faces") or []
        items = [
            Item(name, action=choose(name), checked=current(name), radio=True) for name in names
        ]
        items.append(Item(_("Add face…"), action=lambda: opener.path(faces_folder)))
        return tuple(items)

    def governor_mode(mode: str, level: int = 0) -> Callable[[], None]:
        return lambda: controls.set_governor(mode, level)

    def governor_is(mode: str, level: int | None = None) -> Callable[[], bool]:
        def check() -> bool:
            governor = controls.status().get("governor") or {}
            return bool(
                governor.get("mode") == mode and (level is None or governor.get("level") == level)
            )

        return check

    def quality() -> tuple[Item, ...]:
        levels = (controls.status().get("governor") or {}).get("levels") or []
        items = [
            Item(
                _("Automatic (hold the frame rate)"),
                action=governor_mode("auto"),
                checked=governor_is("auto"),
                radio=True,
            ),
            Item(
                _("Always full quality"),
                action=governor_mode("off"),
                checked=governor_is("off"),
                radio=True,
            ),
        ]
        items += [
            Item(
                _("Hold: {step}").format(step=name),
                action=governor_mode("pinned", i),
                checked=governor_is("pinned", i),
                radio=True,
            )
            for i, name in enumerate(levels)
            if i > 0
        ]
        return tuple(items)

    return (
        Item(
            _("Swap faces"),
            action=toggle("swap_enabled", controls.set_swap_enabled),
            checked=_flag(controls, "swap_enabled"),
            default=True,
        ),
        Item(_("Faces"), submenu=faces),
        Item(
            _("Enhancer"),
            action=toggle("enhancer", controls.set_enhancer),
            checked=_flag(controls, "enhancer"),
        ),
        Item(
            _("Mouth mask"),
            action=toggle("mouth_mask", controls.set_mouth_mask),
            checked=_flag(controls, "mouth_mask"),
        ),
        Item(_("Quality"), submenu=quality),
        *remote_items(controls),
        *panel_items(opener),
        Item(_("Preview"), action=lambda: opener.url(preview_url(opener))),
        Item(_("Open config"), action=lambda: opener.path(config_file)),
        *login,
        Item(_("About / Licences"), action=lambda: opener.url(opener.urls.get("about", ""))),
        Item(_("Quit"), action=controls.quit),
    )


def preview_url(opener: Opener) -> str:
    """The panel's one-time address when it is served (no token in the browser's history),
    else the bare preview page."""
    return opener.panel() if opener.panel is not None else opener.urls.get("preview", "")


def panel_items(opener: Opener) -> tuple[Item, ...]:
    """ "Open control panel" (also the first thing a new user looks for), when it is served."""
    panel = opener.panel
    if panel is None:
        return ()
    return (Item(_("Open control panel"), action=lambda: opener.url(panel())),)


def remote_items(controls: Controls) -> tuple[Item, ...]:
    """An information line while models run on a remote server: face crops leave the PC."""
    remote = controls.status().get("remote")
    if not remote:
        return ()
    return (Item(_("Remote inference: {server} (face crops leave this PC)").format(server=remote)),)


def camera_to_pick(status: dict[str, Any]) -> str | None:
    """The virtual camera's name in video apps: status' ``virtual_camera`` (see
    ``vcamswap.devices.sinks.shown_camera_name``), else the one the virtual camera sink's
    description (status' ``output``: "virtual camera 'NAME'") carries."""
    if status.get("virtual_camera"):
        return str(status["virtual_camera"])
    found = re.match(r"virtual camera (['\"])(.+?)\1", str(status.get("output") or ""))
    return found.group(2) if found else None


def tooltip(controls: Controls) -> str:
    """One line for the icon's hover text (Windows shows at most 127 characters)."""
    status = controls.status()
    face = status.get("face") or _("first face")
    text = f"VCamSwap: {status.get('state')} · {status.get('output_fps', 0):.0f} fps · {face}"
    camera = camera_to_pick(status)
    if camera:
        text += " · " + _("in apps pick {camera}").format(camera=repr(camera))
    governor = status.get("governor") or {}
    if status.get("blocked"):
        text += " · " + _("{reason}: turn Swap faces on to resume").format(reason=status["blocked"])
    if status.get("remote"):
        text += " · " + _("remote {server} (face crops leave this PC)").format(
            server=status["remote"]
        )
    problems = status.get("config_problems") or []
    if problems:
        text += " · " + _("config error: {problem}").format(problem=problems[0])
    elif governor.get("level"):
        text += " · " + _("quality step {level}: {reason}").format(
            level=governor["level"], reason=governor.get("reason", "")
        )
    return text[:120]
