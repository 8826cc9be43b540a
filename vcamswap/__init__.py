"""VCamSwap: a live face-swap virtual camera."""

__version__ = "0.1.0"
