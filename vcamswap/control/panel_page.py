"""The control panel page: static/panel.html with its words in the reader's language. Every
string the panel shows is here (marked for the catalogs); the page gets them filled in and, for
its script, as JSON."""

from __future__ import annotations

import html
import json
import re
from importlib import resources

from vcamswap.i18n import LANGUAGES, N_, translator

TEXT: dict[str, str] = {
    "title": N_("VCamSwap control panel"),
    "live": N_("Live view"),
    "output": N_("Output"),
    "camera": N_("Camera"),
    "output_hint": N_("What video apps receive"),
    "camera_hint": N_("The camera before the swap"),
    "paused_hidden": N_("Paused while this tab is hidden"),
    "fps": N_("{fps} fps"),
    "latency": N_("latency {ms} ms"),
    "faces": N_("Faces"),
    "add_face": N_("Add a face"),
    "drop_hint": N_("Drop a photo here or choose a file"),
    "choose_file": N_("Choose a photo"),
    "face_name": N_("Name (optional)"),
    "adding": N_("Checking the photo…"),
    "added": N_("Added {name}"),
    "use": N_("Use"),
    "active": N_("Active"),
    "rename": N_("Rename"),
    "remove": N_("Remove"),
    "rename_prompt": N_("New name for {name}"),
    "remove_confirm": N_("Remove {name} from the library?"),
    "no_faces": N_("No faces yet: add a photo of a person who agreed to it."),
    "settings": N_("Settings"),
    "saved": N_("Saved"),
    "status": N_("Status"),
    "checks": N_("Checks"),
    "models": N_("Models"),
    "present": N_("present"),
    "missing": N_("not downloaded"),
    "licence": N_("licence: {licence}"),
    "fix": N_("Fix: {fix}"),
    "ok": N_("OK"),
    "problem": N_("Problem"),
    "state": N_("State"),
    "engine": N_("Engine"),
    "governor": N_("Quality"),
    "guard": N_("Privacy guard"),
    "last_error": N_("Last problem"),
    "none": N_("none"),
    "swapped_guarded": N_("{swapped} frames swapped, {guarded} hidden by the guard"),
    "governor_line": N_("step {level} of {top}: {name} ({reason})"),
    "state.running": N_("running"),
    "state.starting": N_("starting"),
    "state.degraded": N_("running with problems"),
    "state.error": N_("error"),
    "state.paused": N_("paused"),
    "state.stopped": N_("stopped"),
    "disconnected": N_("The daemon does not answer; is it still running?"),
    "error": N_("Error: {message}"),
    "label_note": N_("Keep the AI-generated label on: your viewers should know."),
    "link_expired": N_(
        "This login link was used or has expired. Open the panel again from the tray or with "
        "`vcamswap ctl panel`."
    ),
    "login_needed": N_(
        "Open the control panel from the tray or with `vcamswap ctl panel`: this address alone "
        "does not log you in."
    ),
    "setting.swap.enabled": N_("Swap faces"),
    "setting.swap.engine": N_("Engine"),
    "setting.swap.enhancer": N_("Face enhancer (neural)"),
    "setting.swap.mouth_mask": N_("Keep my own mouth"),
    "setting.swap.opacity": N_("Swap strength"),
    "setting.swap.sharpness": N_("Sharpness"),
    "setting.swap.color_correction": N_("Match skin colour"),
    "setting.swap.on_face_lost": N_("When no face is swapped"),
    "setting.governor.mode": N_("Quality governor"),
    "setting.camera.device": N_("Camera"),
    "setting.camera.mirror": N_("Mirror"),
    "setting.camera.rotate": N_("Rotate (degrees)"),
    "setting.camera.zoom": N_("Zoom"),
    "setting.camera.mode": N_("Camera mode"),
    "setting.safety.label.enabled": N_("AI-generated label"),
    "setting.safety.label.position": N_("Label corner"),
    "setting.safety.label.scale": N_("Label size"),
    "setting.ui.language": N_("Language"),
    "choice.auto": N_("automatic"),
    "choice.neural": N_("neural (GPU models)"),
    "choice.lite": N_("lite (CPU)"),
    "choice.blur": N_("blur the frame"),
    "choice.placeholder": N_("show a card"),
    "choice.freeze": N_("hold the last swapped frame"),
    "choice.passthrough": N_("show the camera (unsafe)"),
    "choice.off": N_("off (always full quality)"),
    "choice.pinned": N_("hold the current step"),
    "choice.always": N_("always on"),
    "choice.on-demand": N_("when an app watches"),
    "choice.manual": N_("only when swapping"),
    "choice.bottom-right": N_("bottom right"),
    "choice.bottom-left": N_("bottom left"),
    "choice.top-right": N_("top right"),
    "choice.top-left": N_("top left"),
}
"""Language names are shown in their own language (LANGUAGES), never translated."""

_KEY = re.compile(r"\{\{([a-z_.-]+)\}\}")


def panel_strings(language: str) -> dict[str, str]:
    """Every panel string in ``language`` (English where a catalog lacks one)."""
    catalog = translator(language)
    return {key: catalog.gettext(text) for key, text in TEXT.items()}


def render_panel(language: str) -> str:
    """The panel page for one reader: static/panel.html with {{key}} filled in."""
    template = (
        resources.files("vcamswap.control")
        .joinpath("static")
        .joinpath("panel.html")
        .read_text(encoding="utf-8")
    )
    strings = panel_strings(language)
    data = {"lang": language, "text": strings, "languages": LANGUAGES}
    blob = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    page = _KEY.sub(lambda m: html.escape(strings.get(m.group(1), m.group(0))), template)
    return page.replace("__LANG__", language.replace("_", "-")).replace("__STRINGS__", blob)


def render_refusal(language: str, key: str) -> str:
    """A small page for a browser that reached the panel without a valid login."""
    strings = panel_strings(language)
    return (
        f'<!doctype html><html lang="{language.replace("_", "-")}"><head><meta charset="utf-8">'
        f'<meta name="color-scheme" content="light dark"><title>{html.escape(strings["title"])}'
        '</title></head><body style="font:16px system-ui,sans-serif;margin:3em auto;'
        f'max-width:36em;padding:0 1em"><h1>VCamSwap</h1><p>{html.escape(strings[key])}</p>'
        "</body></html>"
    )
