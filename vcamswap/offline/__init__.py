"""Offline mode: swap faces in image and video files through the live path's processors."""
