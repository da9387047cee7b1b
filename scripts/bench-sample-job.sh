#!/usr/bin/env bash
# The sample job's figures, before and after a change: rows per second and peak RSS of
# `glassbox explain --config configs/sample.yaml` (best of RUNS runs each, the two binaries interleaved),
# and the model evaluations the adaptive budgets save (sum of params.evaluations per method from the
# explanations Parquet, scripts/bench-sample-job.py).
#
#   scripts/bench-sample-job.sh OLD_BINARY NEW_BINARY       # e.g. built at 1e83c1e and at HEAD
#   RUNS=2 SAMPLE_LINES=40 LIME_LINES=20 scripts/bench-sample-job.sh ...
#
# SAMPLE_LINES > 0 runs configs/sample.yaml on the first SAMPLE_LINES lines of its corpus only (default
# 0: all 2,400). Evaluations are counted for: configs/sample.yaml (occlusion, kernelshap) with each
# binary and with NEW at kernelshap tolerance 0 (the whole budget); LIME alone (masking attention, its
# defaults) on the first LIME_LINES lines (default SAMPLE_LINES) with each binary and with NEW at
# tolerance 0.
# Builds: go build -o /tmp/new-glassbox ./cmd/glassbox; git worktree add /tmp/wt-old <commit> and the
# same there. Both binaries run here (the configs' paths are this checkout's). Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { sed -n '2,16p' "$0"; exit 2; }
OLD=$1 NEW=$2 RUNS=${RUNS:-2} SAMPLE_LINES=${SAMPLE_LINES:-0}
LIME_LINES=${LIME_LINES:-$SAMPLE_LINES}
PY=.cache/pyenv-exports/bin/python
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
say() { echo "[bench-sample-job] $*" >&2; }

# run NAME BINARY CONFIG: one explain run, its wall seconds and peak RSS to $tmp/NAME.time.
run() {
  rm -rf "$tmp/$1"
  /usr/bin/time -v -o "$tmp/$1.time" "$2" explain --config "$3" --output "$tmp/$1" >"$tmp/$1.log" 2>&1 \
    || { say "$1 failed: $(tail -3 "$tmp/$1.log")"; exit 1; }
  local wall rss rows
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$tmp/$1.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/$1.time")
  rows=$($PY scripts/bench-sample-job.py "$tmp/$1" | awk '{ sub("rows=", "", $4); n += $4 } END { print n }')
  echo "RUN name=$1 wall_s=$wall rows=$rows rows_per_s=$(awk -v r="$rows" -v w="$wall" 'BEGIN { printf "%.1f", r / w }') max_rss_mib=$((rss / 1024))"
}

# subset N: the first N lines of the sample corpus (all for 0) as a path for the configs.
subset() {
  if [ "$1" -gt 0 ]; then
    cat testdata/sample/*.jsonl | head -n "$1" >"$tmp/input-$1.jsonl"
    echo "$tmp/input-$1.jsonl"
  else
    echo 'testdata/sample/*.jsonl'
  fi
}
sample=configs/sample.yaml
if [ "$SAMPLE_LINES" -gt 0 ]; then
  sed "s|path: testdata/sample/\*.jsonl|path: $(subset "$SAMPLE_LINES")|" configs/sample.yaml >"$tmp/sample.yaml"
  sample=$tmp/sample.yaml
fi
sed 's/kernelshap: {\(.*\)}/kernelshap: {\1, tolerance: 0}/' "$sample" >"$tmp/sample-tol0.yaml"
sed -e '/^methods:/,$d' -e "s|path: testdata/sample/\*.jsonl|path: $(subset "$LIME_LINES")|" configs/sample.yaml >"$tmp/lime.yaml"
cp "$tmp/lime.yaml" "$tmp/lime-tol0.yaml"
printf 'methods:\n  lime: {masking: attention}\n' >>"$tmp/lime.yaml"
printf 'methods:\n  lime: {masking: attention, tolerance: 0}\n' >>"$tmp/lime-tol0.yaml"

for r in $(seq "$RUNS"); do
  run "old-$r" "$OLD" "$sample"
  run "new-$r" "$NEW" "$sample"
done
run new-tol0 "$NEW" "$tmp/sample-tol0.yaml"
run old-lime "$OLD" "$tmp/lime.yaml"
run new-lime "$NEW" "$tmp/lime.yaml"
run new-lime-tol0 "$NEW" "$tmp/lime-tol0.yaml"
$PY scripts/bench-sample-job.py "$tmp/old-1" "$tmp/new-1" "$tmp/new-tol0" "$tmp/old-lime" "$tmp/new-lime" "$tmp/new-lime-tol0" \
  | sed "s|$tmp/||"
