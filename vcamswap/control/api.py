"""What the control API can do to a running daemon, as a Protocol (the tray uses it too)."""

from __future__ import annotations

from typing import Any, Protocol

from vcamswap.types import BgrImage


class Controls(Protocol):
    """Everything the tray and the control API may do. Called from their own threads."""

    def status(self) -> dict[str, Any]: ...

    def set_swap_enabled(self, on: bool) -> None: ...

    def set_source_face(self, name: str) -> None:
        """FaceError (a message for the user) when no such face exists."""

    def set_enhancer(self, on: bool) -> None: ...

    def set_mouth_mask(self, on: bool) -> None: ...

    def set_governor(self, mode: str, level: int = 0) -> None:
        """'auto', 'off' or 'pinned' (at ``level``); VCamSwapError for anything else."""

    def reload(self) -> list[str]:
        """Re-read the config; the problems found (empty when applied)."""

    def quit(self) -> None: ...

    def preview_frame(self) -> BgrImage | None:
        """The frame most recently sent to the output, or None."""
