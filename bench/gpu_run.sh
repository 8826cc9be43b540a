#!/usr/bin/env bash
# Issue 10 measurements on a GPU machine (run from the repository root through the device tool).
# Wheels (onnxruntime-gpu 1.31.1 and the few pure deps, cp312) arrive as .part1 .. .partN folders
# made by bench/pack_wheels.sh; each call copies its part into .gpu/parts, this script assembles.
# Results: $OUT/{nvidia-smi.txt,ort.txt,floor.jsonl,suite.jsonl}.
set -uo pipefail
OUT=${OUT:-/tmp/vcamswap-gpu}
mkdir -p .gpu/parts "$OUT"
for d in .part*/; do [ -d "$d" ] && cp "$d"* .gpu/parts/; done
if [ ! -d .gpu/site ]; then
  cat .gpu/parts/part.* > .gpu/wheels.tar && mkdir -p .gpu/wheels \
    && tar xf .gpu/wheels.tar -C .gpu/wheels \
    && python3 -m pip install -q --no-deps --target .gpu/site .gpu/wheels/*.whl
fi
export PYTHONPATH="$PWD/.gpu/site:$PWD"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
python3 -c "import onnxruntime as o, sys; print(sys.version); print(o.__version__, o.get_available_providers())" > "$OUT/ort.txt" 2>&1
[ -f .gpu/m32/inswapper_128.onnx ] || python3 bench/make_models.py .gpu/m32 >> "$OUT/ort.txt"
[ -f .gpu/m16/inswapper_128_fp16.onnx ] || python3 bench/make_models.py .gpu/m16 --fp16 >> "$OUT/ort.txt"
python3 bench/swapper_floor.py .gpu/m16/inswapper_128_fp16.onnx --runs 200 >> "$OUT/floor.jsonl" 2>>"$OUT/errors.txt"
python3 bench/swapper_floor.py .gpu/m32/inswapper_128.onnx --runs 100 >> "$OUT/floor.jsonl" 2>>"$OUT/errors.txt"
python3 bench/swapper_floor.py .gpu/m16/inswapper_128_fp16.onnx --runs 100 --batch 4 >> "$OUT/floor.jsonl" 2>>"$OUT/errors.txt"
python3 bench/gpu_suite.py .gpu/m32 .gpu/m16 --providers cuda --frames 300 > "$OUT/suite.jsonl" 2>>"$OUT/errors.txt"
tail -c 3000 "$OUT/errors.txt"; cat "$OUT/floor.jsonl" "$OUT/suite.jsonl" | cut -c1-600
