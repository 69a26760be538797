#!/usr/bin/env bash
# Download, here, the wheels that the GPU machine's image lacks (Python 3.12, x86-64), into .whl/
# (ignored by git), for `scripts/gpu_check.sh` to install there: the device machine reaches no
# package registry. The image already holds torch, numpy, scipy, pandas, matplotlib, seaborn,
# safetensors, jinja2, tabulate, tqdm, pytest and transformers (see the device tool's KINDS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
rm -rf .whl && mkdir -p .whl
# the project's own dependencies missing there. phonemizer (and its deep tree) is left out: only the
# phone front ends import it, lazily, and the GPU check uses none (random weights, synthetic tokens).
packages=(soundfile cffi pycparser soxr jiwer rapidfuzz zhon zhconv tomli-w)
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
for name in "${packages[@]}"; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" -d .whl "$name" || python3 -m pip download -q --no-deps --only-binary=:all: \
    --python-version 3.12 --implementation py -d .whl "$name"
done
du -sh .whl
