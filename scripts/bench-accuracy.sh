#!/usr/bin/env bash
# KernelSHAP accuracy per model call: Glassbox against SHAP and Captum, error against exact Shapley
# values (all 2^n coalitions enumerated) as a function of model evaluations, on CPU (2 threads).
#
#   scripts/bench-accuracy.sh                                  # testdata/models/distilbert-sentiment, Austen texts
#   GLASSBOX_BENCH_MODEL=.cache/bench/minilm-cls GLASSBOX_BENCH_TEXTS=.cache/bench/texts-mixed.jsonl \
#     scripts/bench-accuracy.sh                                # another model and texts
#   GLASSBOX_BENCH_SENTENCES=6 GLASSBOX_BENCH_MIN_N=10 GLASSBOX_BENCH_MAX_N=14 ...   # the defaults
#
# 1. go test -bench KernelSHAPAccuracy (explainer/bench_accuracy_test.go): picks the sentences, computes
#    the exact values, runs Glassbox's KernelSHAP (occlusion and LIME for reference) at each budget and
#    writes the sentences to .cache/bench/accuracy-sentences.jsonl; its output goes to
#    .cache/bench/accuracy-go.txt.
# 2. scripts/bench-shapley-peers.py: the same model.onnx and inputs through onnxruntime, SHAP's
#    KernelExplainer and Captum's KernelShap at the same budgets; prints one markdown table of all.
# Needs .cache/pyenv-exports (scripts/bench-ig.sh makes it) with shap (installed here when missing) and
# ONNX Runtime for Go (scripts/fetch-ort.sh). Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.cache/pyenv-exports
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} MKL_NUM_THREADS=${MKL_NUM_THREADS:-2} PYTHONDONTWRITEBYTECODE=1
export GLASSBOX_BENCH_DUMP=.cache/bench/accuracy-sentences.jsonl
say() { echo "[bench-accuracy] $*" >&2; }

for a in "$@"; do
  case "$a" in -h|--help) sed -n '2,17p' "$0"; exit 0 ;; esac
done

mkdir -p .cache/bench
[ -x "$VENV/bin/python" ] || { say "no $VENV: run scripts/bench-ig.sh once to make it"; exit 1; }
for spec in shap captum torch onnxruntime; do
  if ! "$VENV/bin/python" -c "import $spec" 2>/dev/null; then
    say "pip install $spec into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "$spec" >>.cache/bench/pip.log 2>&1 \
      || { say "pip install failed: see .cache/bench/pip.log"; exit 1; }
  fi
done
./scripts/fetch-ort.sh >/dev/null

say "Glassbox: go test -bench KernelSHAPAccuracy"
go test -run '^$' -bench 'KernelSHAPAccuracy' -benchtime 1x -timeout 60m ./explainer | tee .cache/bench/accuracy-go.log \
  | grep '^ACC' >.cache/bench/accuracy-go.txt
cat .cache/bench/accuracy-go.txt
say "SHAP and Captum: scripts/bench-shapley-peers.py"
exec "$VENV/bin/python" scripts/bench-shapley-peers.py --model "${GLASSBOX_BENCH_MODEL:-testdata/models/distilbert-sentiment}" \
  --sentences "$GLASSBOX_BENCH_DUMP" --go-results .cache/bench/accuracy-go.txt
