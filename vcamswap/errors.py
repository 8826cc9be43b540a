"""Typed errors raised at boundaries. Each message names the thing that failed and the fix."""


class VCamSwapError(Exception):
    """Base of every error VCamSwap reports to a user."""


class ConfigError(VCamSwapError):
    """The configuration file cannot be read or does not validate."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class DeviceError(VCamSwapError):
    """A camera, video file or virtual camera could not be opened or used."""


class ModelError(VCamSwapError):
    """A model file is missing, corrupt, or does not have the expected signature."""


class FaceError(VCamSwapError):
    """A face image is unreadable or does not contain exactly one usable face."""


class FaceLostError(VCamSwapError):
    """A face that was being swapped is no longer found (the privacy guard decides what to
    show). Raised by processors only after a face was tracked; a frame that never had a face
    is not an error."""


class DegradedError(FaceLostError):
    """Something the swap needs is temporarily unavailable (a remote model server): the frame
    goes through the privacy guard like a lost face, and Status shows ``degraded`` with this
    message until a frame is swapped again."""


class EngineNotRunningError(VCamSwapError):
    """The face processor failed to start (a missing or corrupt model, an unreachable server):
    every frame goes through the privacy guard until a reload starts it."""
