"""`vcamswap bench`: what the pipeline really does on this machine (see ``run``)."""

from vcamswap.tools.bench.inputs import (
    BenchRequest,
    PinnedDetector,
    bench_store,
    build_processor,
    load_frames,
    pinned_faces,
)
from vcamswap.tools.bench.run import WARMUP, BenchError, run_bench, steady_ticks

__all__ = [
    "WARMUP",
    "BenchError",
    "BenchRequest",
    "PinnedDetector",
    "bench_store",
    "build_processor",
    "load_frames",
    "pinned_faces",
    "run_bench",
    "steady_ticks",
]
