"""Fakes for the portability tests: a pystray whose icon checks which thread touches it, an
AppKit-like main run loop, AVFoundation, pygrabber and winreg stand-ins, a pyvirtualcam
backend. None needs a display, a webcam or the OS it stands for."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np


def on_main() -> bool:
    return threading.current_thread() is threading.main_thread()


class MainRunLoop:
    """What ``NSApp.run()`` does for queued calls: ``dispatch`` (performSelectorOnMainThread)
    may be called from any thread; the queued actions run on the thread running ``run``."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.dispatched_from: list[str] = []

    def dispatch(self, action: Callable[[], None]) -> None:
        self.dispatched_from.append(threading.current_thread().name)
        self._queue.put(action)

    def run(self, until: threading.Event, deadline_s: float) -> None:
        end = time.monotonic() + deadline_s
        while not until.is_set() and time.monotonic() < end:
            try:
                action = self._queue.get(timeout=0.02)
            except queue.Empty:
                continue
            action()


class TrayRecord:
    """What the fake tray saw: every UI call with its thread, and the calls made off the main
    thread that the simulated toolkit forbids."""

    def __init__(self, main_only: set[str]) -> None:
        self.main_only = main_only
        self.calls: list[tuple[str, bool]] = []
        self.violations: list[str] = []
        self.ran_on_main: bool | None = None
        self.stopped_in_time: bool | None = None
        self.titles: list[str] = []

    def touch(self, what: str) -> None:
        self.calls.append((what, on_main()))
        if what in self.main_only and not on_main():
            self.violations.append(what)

    def count(self, what: str) -> int:
        return sum(1 for name, _ in self.calls if name == what)


def fake_pystray(
    record: TrayRecord, run_loop: MainRunLoop | None = None, deadline_s: float = 20.0
) -> SimpleNamespace:
    """A pystray module: ``Icon.run`` starts ``setup`` on a thread like pystray, then serves the
    run loop (or waits) on the calling thread until ``stop``."""

    class Icon:
        HAS_MENU = True

        def __init__(self, name: str, icon: Any, title: str, menu: Any) -> None:
            self._stopped = threading.Event()
            self._title = title

        def _set(self, what: str) -> None:
            record.touch(what)

        icon = property(lambda self: None, lambda self, value: self._set("icon"))
        visible = property(lambda self: True, lambda self, value: self._set("visible"))

        @property
        def title(self) -> str:
            return self._title

        @title.setter
        def title(self, value: str) -> None:
            self._set("title")
            record.titles.append(value)
            self._title = value

        def update_menu(self) -> None:
            self._set("menu")

        def run(self, setup: Callable[[Any], None]) -> None:
            record.ran_on_main = on_main()
            threading.Thread(target=setup, args=(self,), daemon=True).start()
            if run_loop is not None:
                run_loop.run(self._stopped, deadline_s)
            else:
                end = time.monotonic() + deadline_s
                while not self._stopped.wait(0.02) and time.monotonic() < end:
                    pass
            record.stopped_in_time = self._stopped.is_set()

        def stop(self) -> None:
            self._set("stop")
            self._stopped.set()

    return SimpleNamespace(
        Icon=Icon, Menu=lambda *items: items, MenuItem=lambda *args, **kwargs: (args, kwargs)
    )


class NoUsr1Signals:
    """The signal module as Windows has it: no SIGUSR1; every ``signal`` call is recorded."""

    SIGINT, SIGTERM = 2, 15

    def __init__(self) -> None:
        self.installed: list[int] = []

    def signal(self, signum: int, handler: Any) -> Any:
        self.installed.append(signum)
        return None


def loader(modules: dict[str, Any]) -> Callable[[str], Any]:
    """An ``importlib.import_module`` that knows only ``modules`` (ImportError otherwise)."""

    def load(name: str) -> Any:
        if name not in modules:
            raise ImportError(f"No module named {name!r}")
        return modules[name]

    return load


def pygrabber(names: list[str]) -> dict[str, Any]:
    graph = SimpleNamespace(get_input_devices=lambda: list(names))
    return {"pygrabber.dshow_graph": SimpleNamespace(FilterGraph=lambda: graph)}


class FakeAVFoundation:
    """AVCaptureDevice's class methods as PyObjC exposes them; authorization included."""

    AVMediaTypeVideo, AVMediaTypeMuxed = "vide", "muxx"

    def __init__(
        self,
        video: list[tuple[str, str]],
        muxed: list[tuple[str, str]] = (),  # type: ignore[assignment]
        status: int = 3,
    ) -> None:
        def device(unique: str, name: str) -> Any:
            return SimpleNamespace(uniqueID=lambda: unique, localizedName=lambda: name)

        lists = {
            self.AVMediaTypeVideo: [device(*d) for d in video],
            self.AVMediaTypeMuxed: [device(*d) for d in list(muxed)],
        }
        self.status = status
        self.requests: list[bool] = []
        outer = self

        class AVCaptureDevice:
            @staticmethod
            def devicesWithMediaType_(kind: str) -> list[Any]:  # noqa: N802 - PyObjC's name
                return lists[kind]

            @staticmethod
            def authorizationStatusForMediaType_(kind: str) -> int:  # noqa: N802
                return outer.status

            @staticmethod
            def requestAccessForMediaType_completionHandler_(  # noqa: N802
                kind: str, handler: Callable[[bool], None]
            ) -> None:
                outer.requests.append(on_main())
                handler(True)

        self.AVCaptureDevice = AVCaptureDevice


class FakeRegistry:
    """winreg reading the camera consent store."""

    HKEY_LOCAL_MACHINE, HKEY_CURRENT_USER = "HKLM", "HKCU"

    def __init__(self, values: dict[tuple[str, str], str]) -> None:
        self.values = values

    class _Key:
        def __init__(self, root: str, path: str) -> None:
            self.where = (root, path)

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *args: object) -> None:
            return None

    def OpenKey(self, root: str, path: str) -> Any:  # noqa: N802 - winreg's names
        if (root, path) not in self.values:
            raise FileNotFoundError(path)
        return self._Key(root, path)

    def QueryValueEx(self, key: Any, name: str) -> tuple[str, int]:  # noqa: N802
        return self.values[key.where], 1


class VirtualBackend:
    """A pyvirtualcam backend; ``refuse`` makes it fail like a driver that is not installed."""

    opened: list[tuple[str, str | None]] = []  # noqa: RUF012 - reset by each test's fixture
    frames: list[np.ndarray[Any, Any]] = []  # noqa: RUF012
    first_frame = threading.Event()
    refuse: set[str] = set()  # noqa: RUF012
    kind = "obs"

    def __init__(
        self, *, width: int, height: int, fps: float, fourcc: int, device: str | None, **_kw: Any
    ) -> None:
        if self.kind in self.refuse:
            raise RuntimeError(f"{self.kind} is not installed")
        self._device = device or {"obs": "OBS Virtual Camera"}.get(self.kind, "cam")
        VirtualBackend.opened.append((self.kind, device))

    def send(self, frame: np.ndarray[Any, Any]) -> None:
        VirtualBackend.frames.append(frame)
        VirtualBackend.first_frame.set()

    def close(self) -> None:
        return None

    def device(self) -> str:
        return self._device

    def native_fourcc(self) -> int | None:
        return None


def backend_named(kind: str) -> type[VirtualBackend]:
    return type(f"{kind}Backend", (VirtualBackend,), {"kind": kind})


def fake_virtual_cameras(monkeypatch: Any) -> type[VirtualBackend]:
    """Unity Capture and OBS as pyvirtualcam backends (restored by ``monkeypatch``)."""
    import pyvirtualcam.camera

    for kind in ("unitycapture", "obs"):
        monkeypatch.setitem(pyvirtualcam.camera.BACKENDS, kind, backend_named(kind))
    VirtualBackend.opened.clear()
    VirtualBackend.frames.clear()
    VirtualBackend.refuse.clear()
    VirtualBackend.first_frame.clear()
    return VirtualBackend
