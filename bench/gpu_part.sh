#!/usr/bin/env bash
# One carry call of the GPU run (see bench/gpu_run.sh): copy part K into the warm machine's
# /tmp/vcamswap-gpu-work/parts. The first call also starts the benchmark models' generation in
# a new process session (it outlives the call), so the models are written while the other parts
# travel; gpu_run.sh waits for models.done. Usage: bash bench/gpu_part.sh K
set -euo pipefail
k=$1
W=${W:-/tmp/vcamswap-gpu-work}
mkdir -p "$W/parts"
cp ".part$k"/* "$W/parts/"
if [ "$k" = 1 ] && [ ! -f "$W/models.started" ]; then
  cp bench/make_models.py "$W/make_models.py"  # the working tree is replaced by the next call
  touch "$W/models.started"
  setsid nohup bash -c "
    python3 '$W/make_models.py' '$W/m32.new' > '$W/models.log' 2>&1 && mv '$W/m32.new' '$W/m32';
    python3 '$W/make_models.py' '$W/m16.new' --fp16 >> '$W/models.log' 2>&1 && mv '$W/m16.new' '$W/m16';
    touch '$W/models.done'" > /dev/null 2>&1 < /dev/null &
fi
nvidia-smi --query-gpu=name,memory.used --format=csv,noheader 2>/dev/null || true
ls -la "$W/parts"
