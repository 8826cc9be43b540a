"""Face detection off the frame path: a side thread runs the (slow) HOG detector on the newest
submitted frame while the inference thread keeps tracking faces from their landmarks.

dlib releases the GIL while it detects, so on a 2-core machine the swap keeps its frame rate
(measured: BENCHMARKS.md, history)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import cv2

from vcamswap.inference.landmarks import GrayImage
from vcamswap.types import FaceBox

Detect = Callable[[GrayImage, int], list[FaceBox]]
In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True, slots=True)
class Detection(Generic[Out]):
    """What the detector found on the frame submitted as ``ticket`` (full-frame pixels)."""

    ticket: int
    boxes: list[Out]


def detect_scaled(
    detect: Detect, gray: GrayImage, max_side: int, upsample: int, min_score: float
) -> list[FaceBox]:
    """Detect on a copy scaled so its longest side is at most ``max_side``; boxes are mapped
    back to full-frame pixels; weak hits (below ``min_score``) are dropped."""
    h, w = gray.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = (
        cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1.0
        else gray
    )
    return [
        FaceBox(b.left / scale, b.top / scale, b.right / scale, b.bottom / scale, b.score)
        for b in detect(small, upsample)
        if b.score >= min_score
    ]


class BackgroundDetector(Generic[In, Out]):
    """One worker thread; ``submit`` never blocks (a newer frame replaces a pending one) and
    ``poll`` returns the newest finished detection once. Started and closed by its owner on the
    inference thread; ``close`` joins the worker. Used by the lite engine (HOG on a grey
    image, boxes) and the neural engine (SCRFD on the frame, boxes and keypoints)."""

    def __init__(self, detect: Callable[[In], list[Out]]) -> None:
        self._detect = detect
        self._cond = threading.Condition()
        self._pending: tuple[int, In] | None = None
        self._result: Detection[Out] | None = None
        self._busy = False
        self._closed = False
        self._ticket = 0
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="vcamswap-detect", daemon=True)
            self._thread.start()

    @property
    def idle(self) -> bool:
        with self._cond:
            return not self._busy and self._pending is None

    def submit(self, gray: In) -> int:
        with self._cond:
            self._ticket += 1
            self._pending = (self._ticket, gray)
            self._cond.notify_all()
            return self._ticket

    def poll(self) -> Detection[Out] | None:
        with self._cond:
            result, self._result = self._result, None
            return result

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait(0.1)
                if self._closed:
                    return
                assert self._pending is not None
                ticket, gray = self._pending
                self._pending = None
                self._busy = True
            try:
                boxes = self._detect(gray)
            except Exception as exc:
                self.error = exc
                boxes = []
            with self._cond:
                self._result = Detection(ticket, boxes)
                self._busy = False

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            # the thread may be inside dlib's C++ detector: wait for that detection to end
            # (an interpreter that exits under it aborts)
            self._thread.join(5.0)
            self._thread = None
