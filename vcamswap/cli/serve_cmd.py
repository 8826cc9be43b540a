"""`vcamswap serve --models DIR` (a Triton server here) and `vcamswap serve export --models DIR
--out REPO` (a model repository for NVIDIA's Triton container)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the neural models to other machines over Triton (gRPC), or "
        "`serve export` a model repository for NVIDIA's Triton container",
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=["export"],
        default=None,
        help="export: write a model repository instead of serving",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--models", type=Path, required=True, help="folder of model files")
    p.add_argument(
        "--host",
        default="0.0.0.0",
        help="address to listen on (default all; 127.0.0.1 for this machine only)",
    )
    p.add_argument("--grpc-port", type=int, default=8001)
    p.add_argument("--http-port", type=int, default=8000)
    p.add_argument("--metrics-port", type=int, default=8002)
    p.add_argument(
        "--providers",
        default="auto",
        help="onnxruntime providers, comma separated (auto, cuda, tensorrt, cpu)",
    )
    p.add_argument("--max-batch", type=int, default=8, help="largest dynamic batch")
    p.add_argument(
        "--spin",
        action="store_true",
        help="onnxruntime threads spin between requests (a dedicated machine; "
        "measured slower on a CPU shared with the client)",
    )
    p.add_argument(
        "--queue-delay-us",
        type=int,
        default=None,
        help="how long a request may wait for others to batch with (microseconds)",
    )
    p.add_argument("--out", type=Path, default=None, help="export: the repository folder")
    p.add_argument("--instances", type=int, default=1, help="export: GPU instances per model")
    p.add_argument(
        "--tensorrt",
        action="store_true",
        help="export: run on the TensorRT FP16 accelerator of the onnxruntime backend",
    )
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from vcamswap.errors import VCamSwapError

    if args.action == "export":
        from vcamswap.serve.export import export_repository

        if args.out is None:
            raise VCamSwapError("serve export needs --out REPO (a new or empty folder)")
        for line in export_repository(
            args.models,
            args.out,
            max_batch=args.max_batch,
            instances=args.instances,
            tensorrt=args.tensorrt,
        ):
            sys.stdout.write(line + "\n")
        return 0
    from vcamswap.serve.server import serve

    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.INFO)

    def ready(names: list[str]) -> None:
        sys.stdout.write(f"ready: {' '.join(names)} on grpc://{args.host}:{args.grpc_port}\n")
        sys.stdout.flush()

    serve(
        args.models,
        args.host,
        args.grpc_port,
        args.http_port,
        args.metrics_port,
        tuple(p.strip() for p in args.providers.split(",") if p.strip()),
        args.max_batch,
        ready,
        spin=args.spin,
        **({} if args.queue_delay_us is None else {"queue_delay_us": args.queue_delay_us}),
    )
    return 0
