"""The control panel over HTTP: one-time login, the session cookie, what is refused without it,
faces (add through the same checks as `faces add`, rename, remove), settings saved to the
config file and applied, the page in the reader's language."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import passthrough_supervisor
from vcamswap.config import AppPaths, load_config
from vcamswap.control.panel import CODE_TTL_S, COOKIE, Sessions, session_cookie
from vcamswap.control.server import ControlServer
from vcamswap.daemon.controls import DaemonControls
from vcamswap.daemon.panel_service import PanelService
from vcamswap.facelib.library import FaceLibrary
from vcamswap.i18n import translator
from vcamswap.processors.faces import folder_resolver
from vcamswap.samples import sample_photo_path


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_login_code_opens_one_session_once_and_expires() -> None:
    clock = Clock()
    sessions = Sessions(clock)
    code = sessions.issue_code()
    session = sessions.redeem(code)
    assert session is not None and sessions.valid(session)
    assert sessions.redeem(code) is None, "a code is spent by its first use"
    late = sessions.issue_code()
    clock.now += CODE_TTL_S + 1
    assert sessions.redeem(late) is None, "an old code no longer opens the panel"
    assert not sessions.valid("guess") and not sessions.valid(None)
    assert session_cookie(f"a=1; {COOKIE}={session}; b=2") == session


@pytest.fixture
def panel(tmp_path: Path) -> Iterator[tuple[ControlServer, Path, AppPaths]]:
    paths = AppPaths.under(tmp_path / "home")
    paths.faces_dir.mkdir(parents=True)
    config = paths.config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("safety:\n  consent_accepted: true\n")
    supervisor = passthrough_supervisor()
    supervisor.start()
    library = FaceLibrary(paths.faces_dir)

    def reload() -> list[str]:  # the daemon's reload: a neural engine has no models here
        engine = load_config(config).swap.engine
        return ["neural engine model files are not ready"] if engine == "neural" else []

    controls = DaemonControls(
        supervisor,
        folder_resolver(paths.faces_dir),
        library.names,
        config,
        "lite",
        reloader=reload,
    )
    service = PanelService(
        controls,
        lambda: FaceLibrary(paths.faces_dir),
        config,
        lambda: [("0", "Test camera")],
        lambda: [{"name": "python", "ok": True, "detail": "3.11", "fix": ""}],
        paths.models_dir,
    )
    server = ControlServer(controls, "s3cret", 0, panel=service)
    server.start()
    yield server, config, paths
    server.stop()
    supervisor.stop()


def request(
    server: ControlServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request(
        method, path, body=body, headers={"Host": f"127.0.0.1:{server.port}", **(headers or {})}
    )
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def login(server: ControlServer) -> dict[str, str]:
    """The headers a browser sends after following the one-time link."""
    url = server.panel_url()
    status, headers, _ = request(server, "GET", url.split(str(server.port), 1)[1])
    assert status == 303 and headers["location"] == "/panel"
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    return {"Cookie": cookie.split(";")[0], "Origin": f"http://127.0.0.1:{server.port}"}


def post(server: ControlServer, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    status, _, data = request(
        server, "POST", path, json.dumps(body).encode(), {**headers, "Content-Type": "json"}
    )
    return status, json.loads(data)


def test_nothing_is_reachable_without_the_session(
    panel: tuple[ControlServer, Path, AppPaths],
) -> None:
    server, _, _ = panel
    for path in ("/panel", "/api/panel/faces", "/api/status", "/preview.mjpg?view=camera"):
        assert request(server, "GET", path)[0] == 401, path
    assert request(server, "GET", "/login?code=guess")[0] == 403
    url = server.panel_url()
    path = url.split(str(server.port), 1)[1]
    assert request(server, "GET", path)[0] == 303
    assert request(server, "GET", path)[0] == 403, "the same link a second time"
    good = login(server)
    assert request(server, "GET", "/panel", headers=good)[0] == 200
    evil = {**good, "Origin": "https://evil.example"}
    assert post(server, "/api/disable", {}, evil)[0] == 403
    no_origin = {"Cookie": good["Cookie"]}
    assert post(server, "/api/disable", {}, no_origin)[0] == 403, "a cookie alone changes nothing"
    cross_site = {**good, "Sec-Fetch-Site": "cross-site"}
    assert post(server, "/api/disable", {}, cross_site)[0] == 403
    other_port = {"Cookie": good["Cookie"], "Sec-Fetch-Site": "same-site"}  # 127.0.0.1:8000
    assert request(server, "GET", "/preview.mjpg?view=camera", headers=other_port)[0] == 403
    assert request(server, "GET", "/about")[0] == 200, "licences need no login"
    assert post(server, "/api/panel/code", {}, good)[0] == 403, "codes need the token"


def test_faces_are_added_checked_renamed_and_removed(
    panel: tuple[ControlServer, Path, AppPaths], tmp_path: Path
) -> None:
    server, _, paths = panel
    headers = login(server)
    photo = sample_photo_path("astronaut").read_bytes()
    status, _, data = request(
        server,
        "POST",
        "/api/panel/faces/add?filename=astronaut.png&name=Eileen",
        photo,
        {**headers, "Content-Type": "image/png"},
    )
    assert status == 200, data
    assert (paths.faces_dir / "Eileen.png").is_file()
    status, _, data = request(
        server,
        "POST",
        "/api/panel/faces/add?filename=notes.txt",
        b"not a picture",
        {**headers, "Content-Type": "text/plain"},
    )
    message = json.loads(data)["error"]
    assert status == 400 and "notes.txt" in message and "jpg, png or webp" in message
    assert "vcamswap-upload" not in message, "the temporary path means nothing to the user"
    status, body = post(server, "/api/face", {"name": "Eileen"}, headers)
    assert status == 200 and body["status"]["face"] == "Eileen"
    status, body = post(server, "/api/panel/faces/remove", {"name": "Eileen"}, headers)
    assert status == 400 and "in use" in body["error"]
    status, body = post(
        server, "/api/panel/faces/rename", {"name": "Eileen", "new_name": "Collins"}, headers
    )
    assert status == 200 and [f["name"] for f in body["faces"]] == ["Collins"]
    status, _, data = request(server, "GET", "/api/status", headers=headers)
    assert json.loads(data)["face"] == "Collins", "the active face follows its new name"
    status, _, thumb = request(server, "GET", "/api/panel/thumbnail?name=Collins", headers=headers)
    assert status == 200 and thumb[:2] == b"\xff\xd8"


def test_settings_are_applied_saved_and_validated(
    panel: tuple[ControlServer, Path, AppPaths],
) -> None:
    server, config, _ = panel
    headers = login(server)
    shown = json.loads(request(server, "GET", "/api/panel/settings", headers=headers)[2])
    assert shown["values"]["swap.enabled"] is True, "the toggles show the running state"
    assert shown["values"]["swap.mouth_mask"] is False
    status, body = post(
        server, "/api/panel/setting", {"key": "swap.opacity", "value": 0.75}, headers
    )
    assert status == 200, body
    assert load_config(config).swap.opacity == 0.75
    assert "consent_accepted: true" in config.read_text(), "the rest of the file is kept"
    assert body["settings"]["values"]["swap.opacity"] == 0.75
    status, body = post(server, "/api/panel/setting", {"key": "swap.opacity", "value": 7}, headers)
    assert not body.get("ok", False) and any("opacity" in p for p in body["problems"])
    assert load_config(config).swap.opacity == 0.75, "a bad value is not saved"
    status, body = post(
        server, "/api/panel/setting", {"key": "swap.enabled", "value": False}, headers
    )
    assert status == 200 and load_config(config).swap.enabled is False
    before = config.read_text()
    status, body = post(
        server, "/api/panel/setting", {"key": "swap.engine", "value": "neural"}, headers
    )
    assert status == 200 and not body["ok"] and "not ready" in body["problems"][0]
    assert config.read_text() == before, "a setting the daemon cannot run is not saved"
    status, body = post(server, "/api/panel/setting", {"key": "logging.file", "value": 1}, headers)
    assert status == 400 and "unknown setting" in body["error"]


@pytest.mark.parametrize("accept", ["de-DE,de;q=0.9,en;q=0.5", "ja"])
def test_the_page_speaks_the_browser_language(
    panel: tuple[ControlServer, Path, AppPaths], accept: str
) -> None:
    server, _, _ = panel
    headers = {**login(server), "Accept-Language": accept}
    status, _, page = request(server, "GET", "/panel", headers=headers)
    code = "de" if accept.startswith("de") else "ja"
    text = page.decode("utf-8")
    faces = translator(code).gettext("Faces")
    assert status == 200 and f'lang="{code}"' in text
    assert faces != "Faces" and f">{faces}</h2>" in text


def test_a_new_face_never_replaces_the_one_on_air(
    panel: tuple[ControlServer, Path, AppPaths],
) -> None:
    """With no face chosen the daemon shows the library's first; a new photo that sorts first
    must not take its place without a click."""
    server, _, _ = panel
    headers = login(server)
    photo = sample_photo_path("astronaut").read_bytes()
    upload = {**headers, "Content-Type": "image/png"}
    for name in ("Zed", "Aaron"):
        status, _, data = request(
            server, "POST", f"/api/panel/faces/add?filename=a.png&name={name}", photo, upload
        )
        assert status == 200, data
    status, _, data = request(server, "GET", "/api/status", headers=headers)
    assert json.loads(data)["face"] == "Zed"


def test_a_browser_without_a_login_gets_a_page_in_its_language(
    panel: tuple[ControlServer, Path, AppPaths],
) -> None:
    server, _, _ = panel
    browser = {"Accept": "text/html,*/*", "Accept-Language": "de-DE,de;q=0.9"}
    for path, key in (("/login?code=old", "This login link was used"), ("/panel", "Open the")):
        status, headers, page = request(server, "GET", path, headers=browser)
        text = page.decode("utf-8")
        assert status in (401, 403) and headers["content-type"].startswith("text/html")
        assert 'lang="de"' in text and key not in text, text
        assert "vcamswap ctl panel" in text
    status, headers, _ = request(server, "GET", "/panel")
    assert status == 401 and headers["content-type"] == "application/json", "scripts get JSON"
