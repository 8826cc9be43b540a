#!/usr/bin/env bash
# Issue 10 measurements on a GPU machine (run from the repository root through the device tool).
# Packages (onnxruntime-gpu 1.31.1 and the few the image lacks, cp312, unpacked and xz'd) arrive
# as .part1 .. .partN folders made by bench/pack_wheels.sh; each call copies its part into
# /tmp/vcamswap-gpu-work/parts, this script assembles them.
# Results: $OUT/{nvidia-smi.txt,ort.txt,floor.jsonl,device_floor.jsonl,transfer.jsonl,suite.jsonl}.
# Usage (device tool): `bash bench/pack_wheels.sh` here (it prints N, 4 for 1.31.1); one `run`
# per part K = 1..N-1 with carry [".partK"] and "bash bench/gpu_part.sh K" (the first also
# starts the models' generation in the background), back to back (a machine idle 30 s goes back); the
# last part's call carries ".partN" and runs this script, which copies it in itself:
# SKIP_FLOOR=1 OUT=$OUT bash bench/gpu_run.sh (SKIP_FLOOR: the bare-model floors are
# in BENCHMARKS.md already; ONLY="device|1 face host" runs the suite's configurations containing either;
# REPEAT=3 runs the suite three times (for medians); TRT=1 adds the TensorRT configuration, bounded by TRT_TIMEOUT seconds). A row ran the device
# path when its stages_ms.transfer is set; "device compositing failed" in errors.txt means a
# configuration fell back to the host path part-way (see device_floor.jsonl's placement).
# Dry run on a CPU machine (checks the script, not speed): PYVER=3.11 bash bench/pack_wheels.sh,
# then PROVIDERS=cpu FRAMES=3 RUNS=3 OUT=/tmp/dry bash bench/gpu_run.sh with a python3 that
# holds only the device image's packages.
set -uo pipefail
OUT=${OUT:-/tmp/vcamswap-gpu}
PROVIDERS=${PROVIDERS:-cuda}
FRAMES=${FRAMES:-300}
RUNS=${RUNS:-200}
# /tmp outlives one call on a warm machine; the working tree copy does not.
W=${W:-/tmp/vcamswap-gpu-work}
mkdir -p "$W/parts" "$OUT"
for d in .part*/; do [ -d "$d" ] && cp "$d"* "$W/parts/"; done
if [ ! -d "$W/site/onnxruntime" ]; then
  mkdir -p "$W/site" && cat "$W"/parts/part.* | xz -d -T0 | tar xf - -C "$W/site" \
    || { echo "the parts in $W/parts do not make a whole archive: carry every .partK"; exit 2; }
fi
export PYTHONPATH="$W/site:$PWD"
# onnxruntime-gpu in site/ does not see the image's CUDA 13 and cuDNN wheels (its preload looks
# beside itself): hand the loader their lib folders, else CUDA silently falls back to the CPU.
nv=$(python3 -c "import nvidia; print(' '.join(nvidia.__path__))" 2>/dev/null)
for d in $nv; do for lib in "$d"/*/lib; do
  [ -d "$lib" ] && LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done; done
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
python3 -c "import onnxruntime as o, sys; print(sys.version); print(o.__version__, o.get_available_providers())" > "$OUT/ort.txt" 2>&1
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >> "$OUT/ort.txt"
# Stop at once when CUDA is asked for but does not start (it would run everything on the CPU
# and spend the lease): onnxruntime lists CUDA even when its libraries are missing.
probe() {
  python3 -c "from vcamswap.inference.session import probe_providers as p; print(p('$PROVIDERS'.split(','))[0])" 2>>"$OUT/ort.txt"
}
started=$(probe)
if [[ "$PROVIDERS" == *cuda* && "$started" == CPUExecutionProvider ]]; then
  # second try: wherever the image keeps CUDA 13's cuBLAS and cuDNN 9
  for lib in libcublasLt.so.13 libcudnn.so.9; do
    found=$(find /usr /opt /usr/local -name "$lib*" 2>/dev/null | head -n 1)
    [ -n "$found" ] && LD_LIBRARY_PATH="$(dirname "$found"):$LD_LIBRARY_PATH"
  done
  export LD_LIBRARY_PATH
  echo "second try, LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >> "$OUT/ort.txt"
  started=$(probe)
fi
echo "sessions start on: $started" | tee -a "$OUT/ort.txt"
if [[ "$PROVIDERS" == *cuda* && "$started" != CUDAExecutionProvider && "$started" != TensorrtExecutionProvider ]]; then
  echo "CUDA does not start; see $OUT/ort.txt"; cat "$OUT/ort.txt"; exit 3
fi
# The first part's call may have started make_models.py in the background (setsid, writing
# m32.new/m16.new and renaming them when whole, then touching models.done): wait for it rather
# than reading a model still being written.
if [ -f "$W/models.started" ]; then
  for _ in $(seq 600); do [ -f "$W/models.done" ] && break; sleep 1; done
  cat "$W/models.log" >> "$OUT/ort.txt" 2>/dev/null
fi
[ -f $W/m32/inswapper_128.onnx ] || python3 bench/make_models.py $W/m32 >> "$OUT/ort.txt"
[ -f $W/m16/inswapper_128_fp16.onnx ] || python3 bench/make_models.py $W/m16 --fp16 >> "$OUT/ort.txt"
# STEPS picks what runs, in this order: floor (every bare model), swapfloor (the fp16 swapper
# alone, 1 and 4 faces: the issue's "bare swapper call"), profile (bench/device_profile.py:
# where one frame's time goes), suite (the targets), graphs (device_floor), transfer, trt.
STEPS=${STEPS:-floor suite graphs transfer}
[ -n "${SKIP_FLOOR:-}" ] && STEPS=${STEPS/floor/}
[ -n "${TRT:-}" ] && STEPS="$STEPS trt"
has() { [[ " $STEPS " == *" $1 "* ]]; }
if has floor || has swapfloor; then
  python3 bench/swapper_floor.py $W/m16/inswapper_128_fp16.onnx --runs 200 >> "$OUT/floor.jsonl" 2>>"$OUT/errors.txt"
  python3 bench/swapper_floor.py $W/m16/inswapper_128_fp16.onnx --runs 100 --batch 4 >> "$OUT/floor.jsonl" 2>>"$OUT/errors.txt"
fi
if has floor; then
  python3 bench/swapper_floor.py $W/m32/inswapper_128.onnx --runs 100 >> "$OUT/floor.jsonl" 2>>"$OUT/errors.txt"
  for m in $W/m16/GFPGANv1.4.onnx $W/m32/GFPGANv1.4.onnx $W/m32/det_10g.onnx $W/m32/w600k_r50.onnx; do
    python3 bench/model_floor.py "$m" --runs 50 >> "$OUT/floor.jsonl" 2>>"$OUT/errors.txt"
  done
fi
has profile && python3 bench/device_profile.py $W/m16 --providers "$PROVIDERS" --frames "$FRAMES" > "$OUT/profile.txt" 2>>"$OUT/errors.txt"
# The targets first (each row is flushed, so a run cut short still returns what it measured),
# then the graphs and transfers alone.
has suite && python3 bench/gpu_suite.py $W/m32 $W/m16 --providers "$PROVIDERS" --frames "$FRAMES" --repeat "${REPEAT:-1}" ${ONLY:+--only "$ONLY"} > "$OUT/suite.jsonl" 2>>"$OUT/errors.txt"
has graphs && python3 bench/device_floor.py --providers "$PROVIDERS" --runs "$RUNS" > "$OUT/device_floor.jsonl" 2>>"$OUT/errors.txt"
if has transfer; then
  for size in 1280x720 384x384; do  # a whole frame, and a window as the device path moves it
    python3 bench/transfer_floor.py --runs "$RUNS" --size $size >> "$OUT/transfer.jsonl" 2>>"$OUT/errors.txt"
  done
fi
# TensorRT last, bounded: its engine build for the swapper takes minutes on first use.
has trt && timeout "${TRT_TIMEOUT:-300}" python3 bench/gpu_suite.py $W/m32 $W/m16 --providers "$PROVIDERS" --frames "$FRAMES" --tensorrt --only tensorrt >> "$OUT/suite.jsonl" 2>>"$OUT/errors.txt"
[ -f "$OUT/profile.txt" ] && grep -E '^\{|^---|run_with|update_inplace|numpy|copy|astype|ascontig' "$OUT/profile.txt" | cut -c1-300
tail -c 3000 "$OUT/errors.txt" 2>/dev/null; cat "$OUT"/floor.jsonl "$OUT"/device_floor.jsonl "$OUT"/transfer.jsonl "$OUT"/suite.jsonl 2>/dev/null | cut -c1-600
