#!/usr/bin/env bash
# The GPU check of the cuda backend (issue 17) in one command.
#
#   bash scripts/gpu_check.sh prepare   # here, with network: fetch the wheels the GPU
#                                       # machine lacks into .whl/ (git-ignored locally)
#   bash scripts/gpu_check.sh [args]    # on the GPU machine: environment, then
#                                       # scripts/gpu_check.py [args] (JSON into $OUT)
#
# The GPU image has python3 3.12 with cupy-cuda13x, numba, numpy, pluggy, attrs, torch,
# click, rich; blake3 (the Merkle kernels, the suite's reference) and py-arkworks-bls12381
# (imported by the hyrax plugin when the prover's plugin registry loads, for the ligero
# tiny step) travel as wheels (≈ 1 MB).  With the device tool:
#   run(command="bash scripts/gpu_check.sh", carry=[".whl"], timeout_s=600)
# Where cupy is missing and an index is reachable, the `gpu` extra's cupy is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [[ "${1:-}" == "prepare" ]]; then
  grep -qxF '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
  mkdir -p .whl
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl "blake3>=0.4" "py-arkworks-bls12381>=0.3"
  ls -la .whl
  exit 0
fi

if compgen -G ".whl/*.whl" > /dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/zk-site .whl/*.whl
  export PYTHONPATH=/tmp/zk-site${PYTHONPATH:+:$PYTHONPATH}
fi
if ! "$PY" -c "import cupy" 2>/dev/null; then
  cupy_req=$(sed -n 's/^gpu = \["\(.*\)"\]$/\1/p' pyproject.toml)
  echo "cupy missing: installing ${cupy_req} (the gpu extra)"
  "$PY" -m pip install -q "${cupy_req}"
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
exec "$PY" scripts/gpu_check.py "$@"
