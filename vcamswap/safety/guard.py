"""Privacy guard: what the output shows for a frame in which no face was swapped.

``passthrough`` shows the camera frame: your real face shows when the swap fails. ``blur``,
``freeze`` and ``placeholder`` fail closed: a frame leaves unguarded only when the processor
reports that it found and swapped a face in it. Every other frame (no face detected, the track
lost, an engine error, an engine that never started) is guarded:

- ``blur`` blurs the whole picture (where the detector did not find the face, nobody knows where
  it is) with one line saying why;
- ``freeze`` repeats the last swapped frame, or shows the card before the first one;
- ``placeholder`` shows a still card saying why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

import cv2
import numpy as np

from vcamswap.errors import DegradedError, EngineNotRunningError, FaceLostError
from vcamswap.types import BgrImage, Frame

log = logging.getLogger(__name__)
Policy = Literal["passthrough", "blur", "freeze", "placeholder"]

NO_FACE = "No face swapped: face not found"
FACE_LOST = "No face swapped: face lost"
ENGINE_FAILED = "No face swapped: the swap engine is not running"
SWAP_ERROR = "No face swapped: the swap failed"


def reason_for(error: BaseException) -> str:
    """The one short line the guarded frame shows for ``error``."""
    if isinstance(error, DegradedError):
        return "No face swapped: the swap is unavailable"
    if isinstance(error, FaceLostError):
        return FACE_LOST
    if isinstance(error, EngineNotRunningError):
        return ENGINE_FAILED
    return SWAP_ERROR


def blur_with_reason(image: BgrImage, reason: str) -> BgrImage:
    """The whole picture blurred beyond recognition (averaged down to 1/32 of its size,
    smoothed, scaled back), with ``reason`` written across the top on a dark band."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // 32), max(1, h // 32)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 0.5)  # smoothed where it is small: cheap
    out = np.ascontiguousarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))
    scale = max(0.4, min(w, h) / 900.0)
    thickness = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(reason, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    band = th + base + 12
    out[:band] = (out[:band].astype(np.uint16) // 3).astype(np.uint8)
    cv2.putText(
        out,
        reason,
        (max(4, (w - tw) // 2), 6 + th),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (235, 235, 235),
        thickness,
        cv2.LINE_AA,
    )
    return out


class PrivacyGuard:
    """FailurePolicy for the inference worker and the offline jobs. Used from one thread."""

    def __init__(
        self, policy: Policy, placeholder: Callable[[str, int, int], BgrImage] | None = None
    ) -> None:
        self._policy = policy
        self._placeholder = placeholder
        self._last_swapped: Frame | None = None

    @property
    def policy(self) -> Policy:
        return self._policy

    def on_success(self, frame: Frame) -> None:
        if frame.swapped:
            self._last_swapped = frame

    def on_failure(self, frame: Frame, error: BaseException) -> Frame:
        if not isinstance(error, FaceLostError):
            log.debug("privacy guard (%s) after: %s", self._policy, error)
        return self.guard(frame, reason_for(error))

    def on_unswapped(self, frame: Frame) -> Frame:
        """The processor ran but swapped no face in ``frame`` (none detected)."""
        return self.guard(frame, NO_FACE)

    def guard(self, frame: Frame, reason: str) -> Frame:
        """``frame`` as the policy shows it when no face was swapped in it."""
        if self._policy == "passthrough":
            return frame
        h, w = frame.image.shape[:2]
        if (
            self._policy == "freeze"
            and self._last_swapped is not None
            and self._last_swapped.image.shape == frame.image.shape
        ):
            return frame.with_image(
                self._last_swapped.image.copy(), swapped=False, regions=(), guarded=reason
            )
        if self._policy in ("placeholder", "freeze"):
            card = (
                self._placeholder(reason, w, h)
                if self._placeholder
                else blur_with_reason(frame.image, reason)
            )
            return frame.with_image(card, swapped=False, regions=(), guarded=reason)
        return frame.with_image(
            blur_with_reason(frame.image, reason), swapped=False, regions=(), guarded=reason
        )
