"""The interface in the user's language: complete, current catalogs; the language from the
config, the OS or the browser; the CLI's errors, the tray, the cards and the consent notice
translated; text a card font cannot draw falls back to English, never to boxes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.test_tray import controls  # noqa: F401 - the fixture
from vcamswap.daemon.controls import DaemonControls
from vcamswap.devices.imaging import TextCardRenderer, card_font
from vcamswap.i18n import LANGUAGES, accepted_language, resolve_language, translator
from vcamswap.safety.consent import NOTICE, ConsentRequiredError, ensure_consent
from vcamswap.tray.menu import Opener, build_menu


def test_every_message_is_translated_in_every_catalog_and_compiled() -> None:
    pytest.importorskip("babel")
    from vcamswap.tools.catalogs import problems

    found = problems()
    assert not found, "\n".join(found[:30])


def test_the_language_comes_from_the_config_then_the_os() -> None:
    assert resolve_language("auto", {"LANG": "de_DE.UTF-8"}) == "de"
    assert resolve_language("auto", {"LANGUAGE": "fr:de", "LANG": "de_DE.UTF-8"}) == "fr"
    assert resolve_language("auto", {"LC_ALL": "C", "LANG": "de_DE.UTF-8"}) == "en"
    assert resolve_language("auto", {"LANG": "pt_PT.UTF-8"}) == "pt_BR"
    assert resolve_language("auto", {"LANG": "zh_TW.UTF-8"}) == "en", "no Traditional catalog"
    assert resolve_language("auto", {"LANG": "zh_CN.UTF-8"}) == "zh_CN"
    assert resolve_language("ja", {"LANG": "de_DE.UTF-8"}) == "ja", "the config wins"
    assert resolve_language("auto", {"LANG": "ko_KR.UTF-8"}) == "en"


def test_the_panel_follows_accept_language() -> None:
    assert accepted_language("de-CH,de;q=0.9,en;q=0.8") == "de"
    assert accepted_language("ko,ja;q=0.7,en;q=0.5") == "ja"
    assert accepted_language("en-US,en;q=0.9,fr;q=0.8") == "en"
    assert accepted_language("fr;q=0,es;q=0.4") == "es"
    assert accepted_language("zh-Hans-CN") == "zh_CN"
    assert accepted_language("") == "en"


def vcamswap(home: Path, language: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vcamswap", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "VCAMSWAP_HOME": str(home), "LANGUAGE": language},
        check=False,
    )


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_cli_errors_come_in_the_os_language(tmp_path: Path, language: str) -> None:
    missing = tmp_path / "missing.jpg"
    result = vcamswap(tmp_path / "home", language, "faces", "add", str(missing))
    template = "{file} does not exist: check the path (a face photo: jpg, png or webp)"
    expected = translator(language).gettext(template)
    assert expected != template
    assert result.returncode == 1
    assert expected.format(file=missing) in result.stderr
    assert "Traceback" not in result.stderr


def test_ui_language_in_the_config_overrides_the_os(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text("ui:\n  language: fr\n")
    result = vcamswap(home, "de", "ctl", "face")
    french = translator("fr").gettext("usage: vcamswap ctl face NAME (see `vcamswap faces list`)")
    assert french in result.stderr, result.stderr


def test_the_tray_menu_in_german(
    controls: DaemonControls,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANGUAGE", "de")
    items = build_menu(controls, Opener(url=print, path=print, panel=lambda: "u"), "/f", "/c")
    texts = [item.text for item in items]
    de = translator("de")
    for english in ("Swap faces", "Open control panel", "Quit"):
        assert de.gettext(english) in texts and de.gettext(english) != english


def test_cards_are_drawn_in_the_language_or_fall_back_to_english() -> None:
    english = TextCardRenderer(translate=lambda s: s).render("Camera unavailable", 640, 360)
    german = TextCardRenderer(translate=translator("de").gettext)
    if card_font("ä") is not None:  # a Latin TrueType font (DejaVu on Debian)
        assert not np.array_equal(german.render("Camera unavailable", 640, 360), english)
    no_font = TextCardRenderer(translate=translator("ja").gettext, font=lambda _t: None)
    assert np.array_equal(no_font.render("Camera unavailable", 640, 360), english)
    assert card_font("カメラ", exists=lambda p: p.endswith("PingFang.ttc")) is not None


def test_the_consent_notice_in_spanish(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "es")
    shown: list[str] = []
    spanish = translator("es")
    with pytest.raises(ConsentRequiredError):
        ensure_consent(
            False, None, flag=False, interactive=True, ask=lambda _q: "no", show=shown.append
        )
    assert shown == [spanish.gettext(NOTICE)] and shown[0] != NOTICE
    accepted = ensure_consent(
        False,
        None,
        flag=False,
        interactive=True,
        ask=lambda _q: spanish.gettext("yes"),
        show=shown.append,
    )
    assert accepted
