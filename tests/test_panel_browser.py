"""The control panel in a real browser (Debian's chromium through chromedriver and Selenium),
driven as a user drives it, against a real `vcamswap run` (lite engine, a file camera): log in
through the one-time link, add a face from a package photo, make it active, change a setting,
and see the status and the live view change; then the same page in German. The live view is
judged with dlib's face descriptor on the browser's own screenshot of the video element."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.helpers.daemon import ctl, start_daemon
from tests.helpers.faces import crop_face, descriptor_of, identity_of, package_file
from vcamswap.config import AppPaths, load_config
from vcamswap.i18n import translator
from vcamswap.samples import sample_clip, sample_photo_path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        (CHROMIUM is None or DRIVER is None) and not os.environ.get("CI"),
        reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
    ),
]


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[Path, AppPaths]]:
    home = tmp_path / "home"
    paths = AppPaths.under(home)
    paths.faces_dir.mkdir(parents=True)
    group = cv2.imread(str(package_file("insightface", "data/images/t1.jpg")))
    cv2.imwrite(str(paths.faces_dir / "guest.png"), crop_face(group, 1))
    paths.config_file.write_text(
        "safety:\n  consent_accepted: true\n  content_check:\n    enabled: false\n"
        "tray:\n  enabled: false\ncontrol:\n  port: 0\nswap:\n  engine: lite\n  face: guest\n"
    )
    clip = sample_clip(home / "cache", "grace_hopper", (640, 480), 90)
    log = (tmp_path / "daemon.log").open("w")
    process = start_daemon(
        home,
        ["--camera", f"file:{clip}", "--output", "null"],
        log,
        tmp_path / "daemon.log",
    )
    try:
        yield home, paths
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        text = (tmp_path / "daemon.log").read_text()
        assert "Traceback" not in text, text[-3000:]


def browser(language: str, tmp: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp}",
        f"--lang={language}",
        "--window-size=1400,1100",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    return webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)


def wait(condition: Any, timeout: float = 30.0, step: float = 0.3, why: Any = lambda: "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting: {why()}")


def login(driver: Any, home: Path) -> str:
    result = ctl(home, "panel", "--url")
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    driver.get(url)
    wait(lambda: driver.current_url.endswith("/panel"))
    return url


def shown_face(driver: Any) -> Any:
    """The face descriptor in the browser's screenshot of the live view, or None."""
    from selenium.webdriver.common.by import By

    png = driver.find_element(By.ID, "stream").screenshot_as_png
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    return None if image is None or image.shape[0] < 50 else descriptor_of(image)


def test_the_panel_in_a_browser(daemon: tuple[Path, AppPaths], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    home, paths = daemon
    port = int(paths.port_file.read_text())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/panel", timeout=10)
    assert refused.value.code == 401, "no session, no panel"

    driver = browser("en-US", tmp_path / "profile-en")
    try:
        url = login(driver, home)
        cookie = next(c for c in driver.get_cookies() if c["name"] == "vcamswap_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert "code=" not in driver.current_url
        wait(lambda: driver.find_element(By.ID, "state").text == "running", 90)
        astronaut = identity_of(sample_photo_path("astronaut"))
        camera = identity_of(sample_photo_path("grace_hopper"))
        guest = identity_of(paths.faces_dir / "guest.png")

        def showing(person: Any, *others: Any) -> bool:
            found = shown_face(driver)
            return found is not None and all(
                np.linalg.norm(found - person) < np.linalg.norm(found - other) for other in others
            )

        wait(lambda: showing(guest, astronaut), 60, 1.0)

        # Add a face from a package photo (the file picker), then make it the active one.
        driver.find_element(By.ID, "new-name").send_keys("Eileen")
        driver.find_element(By.ID, "file").send_keys(str(sample_photo_path("astronaut")))
        wait(lambda: "Added Eileen" in driver.find_element(By.ID, "face-msg").text, 60)
        card = wait(lambda: driver.find_element(By.CSS_SELECTOR, '#gallery li[data-name="Eileen"]'))
        card.find_element(By.CSS_SELECTOR, "button.use").click()
        wait(lambda: "active" in card.get_attribute("class"))
        wait(lambda: showing(astronaut, guest, camera), 60, 1.0)  # the live view changed
        wait(lambda: "lite" in driver.find_element(By.ID, "status-list").text)
        wait(lambda: driver.find_element(By.ID, "overlay").text.endswith("ms"))

        # The before/after switch shows the raw camera: Grace Hopper's own face.
        driver.find_element(By.ID, "view-camera").click()

        wait(lambda: showing(camera, astronaut), 30, 1.0)
        driver.find_element(By.ID, "view-output").click()

        # Swap strength with the keyboard: five steps down from 1.0, saved and applied.
        slider = driver.find_element(By.ID, "set-swap-opacity")
        slider.send_keys(*([Keys.ARROW_LEFT] * 5))
        wait(
            lambda: load_config(paths.config_file).swap.opacity == pytest.approx(0.75),
            why=lambda: (
                f"opacity {load_config(paths.config_file).swap.opacity}, slider "
                f"{slider.get_attribute('value')}, message "
                f"{driver.find_element(By.ID, 'setting-msg').text!r}"
            ),
        )
        wait(lambda: "Saved" in driver.find_element(By.ID, "setting-msg").text)
        assert load_config(paths.config_file).swap.face == "Eileen", paths.config_file.read_text()

        driver.get(url)  # the one-time link, used again
        assert "used or has expired" in driver.page_source
    finally:
        driver.quit()

    german_panel(home, tmp_path)


def german_panel(home: Path, tmp_path: Path) -> None:
    """The same panel for a browser that asks for German."""
    from selenium.webdriver.common.by import By

    german = browser("de-DE", tmp_path / "profile-de")
    try:
        login(german, home)
        de = translator("de")
        heading = german.find_element(By.ID, "faces-h").text
        assert heading == de.gettext("Faces") != "Faces"
        wait(lambda: german.find_element(By.ID, "state").text == de.gettext("running"))
        label = german.find_element(By.CSS_SELECTOR, 'label[for="set-swap-opacity"]').text
        assert label == de.gettext("Swap strength") != "Swap strength"
    finally:
        german.quit()
