"""Concrete frame sources and sinks: cameras, files, patterns, the virtual camera, recordings."""
