"""FrameProcessor implementations: passthrough, lite swap, neural swap, visible label."""
