"""Loopback control API (JSON over HTTP, token required) and the MJPEG preview."""
