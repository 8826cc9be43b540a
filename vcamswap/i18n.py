"""The interface in the user's language: gettext catalogs shipped in the package
(vcamswap/locale/LANG/LC_MESSAGES/vcamswap.mo, compiled from the .po files next to them).

Strings are marked with ``_`` where they are written; ``use_language`` picks the language once
at start (``ui.language``, else the OS locale) for the CLI, the tray, the cards and the errors.
The control panel asks for a translator per request (``translator``): it follows the config,
or the browser's Accept-Language when the config says ``auto``. A missing catalog or message
falls back to English, never to an error.
"""

from __future__ import annotations

import gettext
import locale
import os
from pathlib import Path

DOMAIN = "vcamswap"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "pt_BR": "Português (Brasil)",
    "zh_CN": "简体中文",
    "ja": "日本語",
}
"""Complete catalogs (the tests check every message in each), by code: English is the source."""

gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))


def _(message: str) -> str:
    """``message`` in the language chosen at start (English when there is no translation)."""
    return gettext.dgettext(DOMAIN, message)


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark, translate later"
    """Marks ``message`` for the catalogs without translating it here (it is translated where
    it is shown: card reasons are compared in English and drawn translated)."""
    return message


def match_language(tag: str) -> str | None:
    """The catalog for a locale or browser tag ("de_DE.UTF-8", "pt-BR", "zh-Hans-CN", "ja"),
    or None when there is none."""
    clean = tag.split(".", maxsplit=1)[0].split("@", maxsplit=1)[0].replace("-", "_").strip()
    if not clean:
        return None
    parts = clean.split("_")
    lang = parts[0].lower()
    if lang == "zh":
        traditional = any(p.lower() in ("hant", "tw", "hk", "mo") for p in parts[1:])
        return None if traditional else "zh_CN"
    if lang == "pt":
        return "pt_BR"  # the one Portuguese catalog; closer for Portugal than English is
    return lang if lang in LANGUAGES else None


def os_language(environ: dict[str, str] | None = None) -> str:
    """The OS locale's language: LANGUAGE, LC_ALL, LC_MESSAGES, LANG (POSIX, as gettext reads
    them), else the locale Python was started with (Windows, macOS apps); "en" when none of
    them has a catalog."""
    env = dict(os.environ) if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for tag in env.get(name, "").split(":"):
            if tag in ("C", "POSIX"):
                return "en"
            found = match_language(tag)
            if found is not None:
                return found
    if environ is None:
        system = locale.getlocale()[0] or ""
        found = match_language(locale.normalize(system)) if system else None
        if found is not None:
            return found
    return "en"


def resolve_language(setting: str, environ: dict[str, str] | None = None) -> str:
    """``ui.language`` ("auto" or a code) as the catalog to use."""
    if setting == "auto":
        return os_language(environ)
    return match_language(setting) or "en"


def use_language(setting: str) -> str:
    """Makes ``setting``'s language the process's (gettext reads LANGUAGE first); returns the
    code chosen. Called once at start, before any thread runs."""
    code = resolve_language(setting)
    os.environ["LANGUAGE"] = code
    return code


def translator(code: str) -> gettext.NullTranslations:
    """The catalog of one language, for a caller that serves several (the control panel)."""
    return gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[code], fallback=True)


def accepted_language(header: str) -> str:
    """The first language of an HTTP Accept-Language header with a catalog, by q-value."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")):
        tag, _sep, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        ranked.append((-weight, index, tag.strip()))
    for weight, _index, tag in sorted(ranked):
        if weight < 0:  # q=0: "not this one"
            found = match_language(tag)
            if found is not None:
                return found
    return "en"
