#!/usr/bin/env bash
# Seconds per example of KernelSHAP, LIME and occlusion: Glassbox against SHAP, Captum and lime in one
# run, on the same model, sentences and tokens, every peer model call a real onnxruntime run, 2 threads
# each side (ORT intra-op 2, OMP/MKL 2, torch 2), batches of 64.
#
#   scripts/bench-perturbation.sh                          # .cache/bench/minilm-cls, 8 Austen sentences of 11-14 tokens
#   GLASSBOX_BENCH_SENTENCES=4 ROUNDS=2 scripts/bench-perturbation.sh
#   GLASSBOX_BENCH_ACC=/path/acc.md scripts/bench-perturbation.sh   # Captum's budget from these ACC lines
#   (e.g. GLASSBOX_BENCH_MODEL=.cache/bench/minilm-cls scripts/bench-accuracy.sh | tee .cache/bench/accuracy-all.txt)
#
# The pairs run interleaved (Glassbox's method, then the peers' same method, in one process each) so
# that load from other processes on the shared cores hits both sides alike; with ROUNDS > 1 the whole
# sequence repeats and each row keeps its fastest round. Captum KernelShap runs at the smallest budget of
# the accuracy harness (scripts/bench-accuracy.sh's ACC lines, GLASSBOX_BENCH_ACC) whose error is at most
# Glassbox's default's, or at the harness's largest budget when none reaches it (then said in the table).
# Glassbox: BenchmarkPerturbationTiming (explainer/bench_perturbation_test.go); peers:
# scripts/bench-perturbation-peers.py. Needs .cache/pyenv-exports with shap, captum and lime (lime is
# installed here when missing). Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.cache/pyenv-exports
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 PYTHONDONTWRITEBYTECODE=1
export GLASSBOX_BENCH_MODEL=${GLASSBOX_BENCH_MODEL:-.cache/bench/minilm-cls}
export GLASSBOX_BENCH_MIN_N=${GLASSBOX_BENCH_MIN_N:-11} GLASSBOX_BENCH_MAX_N=${GLASSBOX_BENCH_MAX_N:-14}
export GLASSBOX_BENCH_THREADS=2 GLASSBOX_BENCH_REPEATS=1
export GLASSBOX_BENCH_DUMP=.cache/bench/perturbation-sentences.jsonl
ACC=${GLASSBOX_BENCH_ACC:-.cache/bench/accuracy-all.txt}
ROUNDS=${ROUNDS:-1}
OUT=.cache/bench/perturbation-perf.txt
say() { echo "[bench-perturbation] $*" >&2; }

for a in "$@"; do
  case "$a" in -h|--help) sed -n '2,18p' "$0"; exit 0 ;; esac
done

mkdir -p .cache/bench
"$VENV/bin/python" -c "import lime" 2>/dev/null || "$VENV/bin/pip" install -q --disable-pip-version-check lime
./scripts/fetch-ort.sh >/dev/null
test_bin=$(mktemp -d)/explainer.test
trap 'rm -rf "$(dirname "$test_bin")"' EXIT
go test -c -o "$test_bin" ./explainer
captum=(--captum-samples 2048)
if [ -f "$ACC" ] && grep -q '^ACC side=captum' "$ACC"; then captum=(--captum-from "$ACC"); else
  say "no Captum ACC lines in $ACC: Captum KernelShap at 2048 samples (run scripts/bench-accuracy.sh, or set GLASSBOX_BENCH_ACC)"
fi

: >"$OUT"
glassbox() { (cd explainer && "$test_bin" -test.run '^$' -test.bench "PerturbationTiming/$1" -test.benchtime 1x) | grep '^PERF side=' | tee -a "$OUT"; }
peers() { "$VENV/bin/python" scripts/bench-perturbation-peers.py --model "$GLASSBOX_BENCH_MODEL" --sentences "$GLASSBOX_BENCH_DUMP" "$@" | tee -a "$OUT"; }
for r in $(seq "$ROUNDS"); do
  say "round $r/$ROUNDS"
  glassbox '^kernelshap$/^default$'
  peers --only kernelexplainer=default
  peers --only "kernelshap=*" "${captum[@]}"
  glassbox '^lime$/^default$'
  rows=$(awk '/method=lime config=default/ { sub("evals=", "", $NF); print int($NF + 0.5) }' "$OUT" | tail -1)
  peers --only limetext=equal-rows --lime-rows "$rows"
  peers --only limetext=default
  [ -z "${GLASSBOX_BENCH_LIME5000:-}" ] || glassbox '^lime$/^rows=5000$'
  glassbox '^occlusion$/^default$'
  peers --only "featureablation=*"
done
"$VENV/bin/python" scripts/bench-perturbation-peers.py --table "$OUT"
