#!/usr/bin/env bash
# The neural engine's GPU benchmark on a CUDA machine: checks that onnxruntime really starts the
# CUDA provider, generates the benchmark models unless they exist (make_models.py: the real
# architectures with random weights, fp32 and --fp16; speed does not depend on weight values),
# then runs gpu_suite.py (host against device path, 1 and 4 faces, the enhancer, paced 30 fps,
# CUDA graphs, the fp32 swapper, the parser mask, pixel boost 256 / 512, GHOST; 1280x720, faces
# pinned, detection on its side thread). Model sets made before the quality rows existed lack
# the parser and GHOST: delete MODELS to regenerate them.
#
# Setup, once, in a virtual environment (install/README.md, "NVIDIA GPUs": the CPU onnxruntime
# that nudenet brings must not stay beside onnxruntime-gpu):
#   pip install -e . onnxruntime-gpu onnx        (or pip install -e '.[gpu]', the same)
# Run (relative MODELS and OUT are taken from the repository root):
#   bash benchmarks/gpu_run.sh
#   REPEAT=3 OUT=out/h100 bash benchmarks/gpu_run.sh      (three runs of each row, for medians)
#
# Knobs (environment variables):
#   PROVIDERS=cuda   onnxruntime providers of the suite; cpu runs everything on the CPU (a dry
#                    run that checks the script, not speed; see below)
#   FRAMES=300       timed frames per configuration (paced rows take at most 240)
#   REPEAT=1         run the chosen configurations this many times
#   ONLY="a|b"       only the configurations whose label contains a or b, e.g.
#                    ONLY="device cuda-graph|1 face host" (labels: gpu_suite.py)
#   TRT=1            then the TensorRT configuration too, stopped after TRT_TIMEOUT seconds
#                    (default 600: TensorRT builds its engines on first use, minutes)
#   MODELS=DIR       where the generated models are kept (default out/bench-models: DIR/fp32
#                    and DIR/fp16, over 1 GB together; generated on the first run only)
#   OUT=DIR          results (default out/gpu-DATE-TIME)
#   PYTHON=python3   the environment's interpreter
#
# Dry run on any machine (about 2 minutes on 2 cores; paced rows read "not valid" with so few
# frames): models at 1/16 of the channels first, then the script on the CPU provider:
#   python benchmarks/make_models.py /tmp/bm/fp32 --scale 0.0625
#   python benchmarks/make_models.py /tmp/bm/fp16 --scale 0.0625 --fp16
#   PROVIDERS=cpu FRAMES=3 MODELS=/tmp/bm bash benchmarks/gpu_run.sh
#
# Results in $OUT: env.txt (nvidia-smi, Python, onnxruntime and the provider sessions start on),
# suite.jsonl (one `vcamswap bench --json` object per configuration, with "config" and
# "repeat"), errors.txt (the runs' stderr). A row took the device path when its
# stages_ms.transfer is set; "device compositing failed" in errors.txt means a configuration
# fell back to the host path part-way. BENCHMARKS.md says how its rows were measured.
set -euo pipefail
PYTHON=${PYTHON:-python3}
PROVIDERS=${PROVIDERS:-cuda}
FRAMES=${FRAMES:-300}
REPEAT=${REPEAT:-1}
ONLY=${ONLY:-}
MODELS=${MODELS:-out/bench-models}
OUT=${OUT:-out/gpu-$(date +%Y%m%d-%H%M%S)}
cd "$(dirname "$0")/.."  # the repository root: relative MODELS and OUT are below it
mkdir -p "$OUT"

{
  nvidia-smi || echo "(nvidia-smi failed)"
  "$PYTHON" -c "import sys, onnxruntime as o; print(sys.version); print('onnxruntime', o.__version__, o.get_available_providers())"
} > "$OUT/env.txt" 2>&1 || true
if ! "$PYTHON" -c "import vcamswap, onnx, onnxruntime" 2>> "$OUT/env.txt"; then
  echo "$PYTHON cannot import vcamswap, onnx and onnxruntime: pip install -e . onnxruntime-gpu onnx" >&2
  exit 2
fi

# onnxruntime lists CUDAExecutionProvider whenever its provider library is installed, even when
# the CUDA and cuDNN libraries it loads are missing: a one-node session tells where sessions
# really start, before every row runs on the CPU.
started=$("$PYTHON" -c "import sys
from vcamswap.inference.providers import probe_providers
print(probe_providers(sys.argv[1].split(','))[0])" "$PROVIDERS" 2>> "$OUT/env.txt") || started=""
echo "providers $PROVIDERS: sessions start on ${started:-(the probe failed)}" | tee -a "$OUT/env.txt"
if [[ "$PROVIDERS" == *cuda* || "$PROVIDERS" == *tensorrt* ]]; then
  if [[ "$started" != CUDAExecutionProvider && "$started" != TensorrtExecutionProvider ]]; then
    cat >&2 << EOF
onnxruntime does not start the CUDA provider here (sessions start on: ${started:-nothing}).
Check that onnxruntime-gpu is installed and the CPU onnxruntime package is not (pip list),
that its CUDA and cuDNN libraries can be found (pip install 'onnxruntime-gpu[cuda,cudnn]', or
their folders on LD_LIBRARY_PATH), and that nvidia-smi sees the GPU; vcamswap doctor tells the
same. Details: $OUT/env.txt
EOF
    exit 3
  fi
fi

# Each set is written into DIR.new and renamed when whole, so an interrupted run regenerates it.
for kind in fp32 fp16; do
  if [ ! -d "$MODELS/$kind" ]; then
    echo "generating the $kind benchmark models in $MODELS/$kind (once)"
    flags=()
    if [ $kind = fp16 ]; then flags=(--fp16); fi
    rm -rf "$MODELS/$kind.new"
    "$PYTHON" benchmarks/make_models.py "$MODELS/$kind.new" "${flags[@]}"
    "$PYTHON" benchmarks/make_quality_models.py "$MODELS/$kind.new" "${flags[@]}"
    mv "$MODELS/$kind.new" "$MODELS/$kind"
  fi
done

suite=("$PYTHON" benchmarks/gpu_suite.py "$MODELS/fp32" "$MODELS/fp16" --home "$MODELS/home"
       --providers "$PROVIDERS" --frames "$FRAMES")
# Rows are flushed one by one: a run cut short keeps what it measured.
"${suite[@]}" --repeat "$REPEAT" ${ONLY:+--only "$ONLY"} > "$OUT/suite.jsonl" 2>> "$OUT/errors.txt" \
  || { tail -n 20 "$OUT/errors.txt" >&2; echo "gpu_suite.py failed: see $OUT/errors.txt" >&2; exit 1; }
if [ -n "${TRT:-}" ]; then
  timeout "${TRT_TIMEOUT:-600}" "${suite[@]}" --tensorrt --only tensorrt >> "$OUT/suite.jsonl" \
    2>> "$OUT/errors.txt" || echo "the TensorRT run failed or ran past TRT_TIMEOUT: see $OUT/errors.txt"
fi

"$PYTHON" - "$OUT/suite.jsonl" << 'EOF'
import json
import sys

print(f"{'configuration':40} {'run':>3} {'fps':>8} {'p50 ms':>8} {'p95 ms':>8}  path")
for line in open(sys.argv[1]):
    row = json.loads(line)
    if "error" in row:
        print(f"{row['config']:40} {row['repeat']:>3}  error: {row['error']}")
        continue
    path = "device" if (row.get("stages_ms") or {}).get("transfer") is not None else "host"
    valid = "" if row.get("valid", True) else "  (not valid: too few frames swapped)"
    lat = row["latency_ms"]
    print(f"{row['config']:40} {row['repeat']:>3} {row['fps']:>8} {lat['p50']:>8} "
          f"{lat['p95']:>8}  {path}{valid}")
EOF
echo "results in $OUT"
