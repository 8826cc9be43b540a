"""Privacy guard: what the output shows when the swap fails on a frame (face lost, model error).

``passthrough`` shows the camera frame. ``blur``, ``freeze`` and ``placeholder`` never show an
unswapped face: they hold until a frame is swapped again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

import cv2

from vcamswap.errors import FaceLostError
from vcamswap.types import BgrImage, FaceBox, Frame

log = logging.getLogger(__name__)
Policy = Literal["passthrough", "blur", "freeze", "placeholder"]
MARGIN = 0.35  # of the face box, on each side: a moving head stays covered


def blur_regions(image: BgrImage, regions: tuple[FaceBox, ...], margin: float = MARGIN) -> BgrImage:
    """A copy of ``image`` with each region (plus ``margin``) heavily blurred."""
    out: BgrImage = image.copy()
    h, w = image.shape[:2]
    for box in regions:
        dx, dy = box.width * margin, box.height * margin
        x0, y0 = max(0, int(box.left - dx)), max(0, int(box.top - dy))
        x1, y1 = min(w, int(box.right + dx) + 1), min(h, int(box.bottom + dy) + 1)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        patch = out[y0:y1, x0:x1]
        small = cv2.resize(patch, (max(1, (x1 - x0) // 16), max(1, (y1 - y0) // 16)),
                           interpolation=cv2.INTER_AREA)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(
            cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR), (0, 0), 3)
    return out


class PrivacyGuard:
    """FailurePolicy for the inference worker and the offline job."""

    def __init__(self, policy: Policy,
                 placeholder: Callable[[str, int, int], BgrImage] | None = None) -> None:
        self._policy = policy
        self._placeholder = placeholder
        self._last_swapped: Frame | None = None
        self._regions: tuple[FaceBox, ...] = ()

    @property
    def policy(self) -> Policy:
        return self._policy

    def on_success(self, frame: Frame) -> None:
        if frame.swapped:
            self._last_swapped = frame
            self._regions = frame.regions

    def on_failure(self, frame: Frame, error: BaseException) -> Frame:
        if not isinstance(error, FaceLostError):
            log.debug("privacy guard (%s) after: %s", self._policy, error)
        if self._policy == "passthrough":
            return frame
        if self._policy == "freeze" and self._last_swapped is not None:
            return frame.with_image(self._last_swapped.image, swapped=True,
                                    regions=self._last_swapped.regions)
        if self._policy in ("placeholder", "freeze"):
            h, w = frame.image.shape[:2]
            card = self._placeholder("Face not found", w, h) if self._placeholder else \
                blur_regions(frame.image, ((FaceBox(0, 0, w, h)),), margin=0.0)
            return frame.with_image(card, swapped=False, regions=())
        if self._regions:
            return frame.with_image(blur_regions(frame.image, self._regions), swapped=False,
                                    regions=self._regions)
        # A model error before any face was swapped: the whole frame is the safe region.
        h, w = frame.image.shape[:2]
        return frame.with_image(blur_regions(frame.image, (FaceBox(0, 0, w, h),), 0.0))
