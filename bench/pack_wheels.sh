#!/usr/bin/env bash
# Download the cp312 wheels the GPU benchmark needs, unpack them into one site folder, and split
# its xz archive into folders .part1..N, each
# small enough for the device tool's 64 MiB carry with the working tree beside it (50 MiB).
# Only what the device image lacks travels (device README/KINDS.md: the image already holds
# numpy, opencv-python-headless, onnx, protobuf, ml-dtypes, pyyaml, packaging, flatbuffers,
# typing-extensions and a CPU onnxruntime that site/ shadows). Packing those too made 66 MiB
# parts, over the limit. Add "/.part*/" and "/.gpu/" to .git/info/exclude.
# PYVER=3.11 packs cp311 wheels instead (a dry run of bench/gpu_run.sh on a CPU machine).
set -euo pipefail
pyver=${PYVER:-3.12}
tmp=$(mktemp -d)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$pyver" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d "$tmp/w" onnxruntime-gpu==1.31.1 pydantic pydantic-core \
  annotated-types typing-inspection typing-extensions platformdirs
# Unpacked (a wheel's files are its installed layout) and xz-compressed: 204 MB instead of the
# wheels' 258 MB, so four parts (four run calls) instead of five.
mkdir -p "$tmp/site"
for whl in "$tmp"/w/*.whl; do
  if python3 -m zipfile -l "$whl" | grep '\.data/' > /dev/null; then
    echo "$whl has a .data folder, which only pip installs right"; exit 1
  fi
  python3 -m zipfile -e "$whl" "$tmp/site"
done
tar cf - -C "$tmp/site" . | xz -6 -T2 > "$tmp/site.tar.xz"
(cd "$tmp" && split -b 50M -d site.tar.xz part.)
rm -rf .part*/
i=0
for f in "$tmp"/part.*; do
  i=$((i + 1)); mkdir -p ".part$i"; mv "$f" ".part$i/"
done
rm -rf "$tmp"; ls -la .part*/
echo "$i parts: carry each in its own run call (see bench/gpu_run.sh)"
