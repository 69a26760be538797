#!/usr/bin/env bash
# The one prepared GPU check, for the device machine (one H100/H200, torch 2.x + CUDA, no registry):
#   here:  scripts/gpu_wheels.sh                        (once: the wheels its image lacks, into .whl/)
#   there: bash scripts/gpu_check.sh                   (the device tool: carry [".whl"], timeout_s 600)
# It installs the carried wheels beside the image's torch, installs ttsbench without touching its
# dependencies, and runs `ttsbench gpu-check` inside a 540 s budget so that the results of every
# finished stage come back (gpu_check.json/.md under $OUT, written after each stage).
# Env: OUT (results folder; default runs/gpu-check), GPU_CHECK_BUDGET_S (default 480), GPU_CHECK_ARGS.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-runs/gpu-check}"
mkdir -p "$out"
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "gpu_check: installing the carried wheels failed" >&2; exit 1; }
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . > "$out/install.log" 2>&1 \
  || { tail -5 "$out/install.log" >&2; echo "gpu_check: installing ttsbench failed" >&2; exit 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/nvidia-smi.csv" 2>&1 || true
export PYTHONUNBUFFERED=1
# shellcheck disable=SC2086
timeout 540 python3 -m ttsbench gpu-check --out "$out" --budget-s "${GPU_CHECK_BUDGET_S:-480}" ${GPU_CHECK_ARGS:-} \
  2>&1 | tee "$out/gpu_check.log"
exit "${PIPESTATUS[0]}"
