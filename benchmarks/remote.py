"""Remote inference costs on this machine (issue 14): a real Triton server (`vcamswap serve`,
from the numpy<2 environment) on loopback, with the generated inswapper architecture.

1. Round-trip overhead per face: the swapper through Triton vs the same model's local
   `session.run`, one face per call, median of N calls each.
2. Throughput of one server with 1, 4 and 8 concurrent client streams (one face per request,
   back to back for a few seconds each): faces per second, and how many 30 fps streams that is.

    python benchmarks/remote.py [--scale 0.0625] [--calls 200] [--seconds 8]

Speed does not depend on weight values; ``--scale`` shrinks channel counts (the full model costs
~1.6 s a face on this 2-core CPU, so the CPU numbers use a scaled one).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.remote_server; make_models sits beside this file

from make_models import write_all  # noqa: E402

from tests.remote_server import TritonProcess, serve_python  # noqa: E402
from vcamswap.inference.catalog import CATALOG  # noqa: E402
from vcamswap.inference.remote import RemoteModels  # noqa: E402
from vcamswap.inference.session import SessionFactory, SessionOptions  # noqa: E402

Run = Callable[[None, dict[str, Any]], object]
"""A session's ``run(output_names, feeds)``: onnxruntime's or Triton's."""


def timed(run: Run, feeds: dict[str, Any], calls: int) -> float:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        run(None, feeds)
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1 / 16)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--providers", default="auto", help="the server's providers")
    parser.add_argument("--queue-delay-us", type=int, default=None)
    parser.add_argument("--server-args", default="", help="more `vcamswap serve` options")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        write_all(models, scale=args.scale)
        spec = CATALOG["inswapper_128"]
        local = SessionFactory(SessionOptions(providers=tuple(args.providers.split(",")))).create(
            models / spec.file
        )
        rng = np.random.default_rng(0)
        feeds = {
            "target": rng.random((1, 3, 128, 128), dtype=np.float32),
            "source": rng.random((1, 512), dtype=np.float32),
        }
        extra = (
            () if args.queue_delay_us is None else ("--queue-delay-us", str(args.queue_delay_us))
        )
        extra += tuple(args.server_args.split())
        server = TritonProcess(models, serve_python(), extra=extra, providers=args.providers)
        server.start()
        try:
            remote = RemoteModels(server.url, timeout_s=30.0).session(spec)
            timed(remote.run, feeds, 20)
            timed(local.run, feeds, 20)
            for run in range(args.runs):
                here = timed(local.run, feeds, args.calls)
                there = timed(remote.run, feeds, args.calls)
                print(
                    f"run {run + 1}: local {here:.2f} ms, remote {there:.2f} ms, overhead "
                    f"{there - here:.2f} ms per face",
                    flush=True,
                )
            for streams in (1, 4, 8):
                done = [0] * streams
                stop = time.monotonic() + args.seconds

                def client(index: int, done: list[int] = done, stop: float = stop) -> None:
                    session = RemoteModels(server.url, timeout_s=30.0).session(spec)
                    while time.monotonic() < stop:
                        session.run(None, feeds)
                        done[index] += 1

                threads = [threading.Thread(target=client, args=(i,)) for i in range(streams)]
                started = time.monotonic()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                rate = sum(done) / (time.monotonic() - started)
                print(
                    f"{streams} stream(s): {rate:.0f} faces/s in all = {rate / 30:.1f} "
                    "streams at 30 fps (one face each)",
                    flush=True,
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
