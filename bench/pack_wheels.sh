#!/usr/bin/env bash
# Download the cp312 wheels the GPU benchmark needs and split them into N folders .part1..N
# (each under the device tool's 64 MiB carry). Add "/.part*/" and "/.gpu/" to .git/info/exclude.
set -euo pipefail
n=${1:-6}
tmp=$(mktemp -d)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d "$tmp/w" onnxruntime-gpu==1.31.1 onnx opencv-python-headless \
  numpy pydantic pydantic-core annotated-types typing-extensions typing-inspection pyyaml \
  platformdirs protobuf ml_dtypes packaging flatbuffers
tar cf "$tmp/wheels.tar" -C "$tmp/w" .
(cd "$tmp" && split -n "$n" -d wheels.tar part.)
for i in $(seq 1 "$n"); do
  rm -rf ".part$i"; mkdir -p ".part$i"; mv "$tmp/part.$(printf '%02d' $((i - 1)))" ".part$i/"
done
rm -rf "$tmp"; ls -la .part*/
