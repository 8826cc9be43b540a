"""Write a test clip for the offline benchmark: the astronaut photo with head motion + a tone.

    python benchmarks/offline_clip.py OUT.mp4 --seconds 300 --size 1280x720

The clip is the input of `vcamswap swap` in BENCHMARKS.md's offline row.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vcamswap.samples import animate, sample_photo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=30)
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    photo = sample_photo("astronaut")
    loop = [animate(photo, i, 90, (w, h)) for i in range(90)]
    with av.open(str(args.out), mode="w") as out:
        video = out.add_stream("libx264", rate=args.fps)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        video.options = {"preset": "veryfast", "crf": "23"}
        audio = out.add_stream("aac", rate=48000)
        audio.layout = "mono"
        frames = int(args.seconds * args.fps)
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(loop[index % len(loop)], format="bgr24")
            frame.pts = index
            for packet in video.encode(frame):
                out.mux(packet)
        t = np.arange(int(48000 * args.seconds))
        tone = (0.3 * np.sin(2 * math.pi * 440 * t / 48000)).astype(np.float32)
        for start in range(0, len(tone), 1024):
            chunk = av.AudioFrame.from_ndarray(
                tone[start : start + 1024].reshape(1, -1), format="fltp", layout="mono"
            )
            chunk.sample_rate = 48000
            chunk.pts = start
            for packet in audio.encode(chunk):
                out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode():
                out.mux(packet)


if __name__ == "__main__":
    main()
