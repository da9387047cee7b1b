#!/usr/bin/env bash
# Causal-LM predict, Glassbox against ONNX Runtime's Python API on the same export and the
# same 200 sample sentences (issue 16, item 4). Prints the best-of-N predict-loop seconds of
# each side and their ratio (Glassbox / Python; below 1 means Glassbox is faster), and checks
# that both sides give the same top next token for every sentence.
#
#   scripts/bench-predict-causal.sh [MODEL_DIR] [REPEAT]
#
# MODEL_DIR defaults to testdata/models/gpt2-tiny; .cache/bench/gpt2-bpe50k and
# .cache/bench/gpt2-small come from scripts/make-bench-gpt2.py.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-testdata/models/gpt2-tiny}
repeat=${2:-3}
py=.cache/pyenv-exports/bin/python
texts=testdata/sample/austen-sentiment.jsonl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go test -c -o "$tmp/inference.test" ./inference
# GLASSBOX_BIN: a glassbox binary already built from this tree (linking one takes minutes).
glassbox=${GLASSBOX_BIN:-$tmp/glassbox}
[ -n "${GLASSBOX_BIN:-}" ] || go build -o "$glassbox" ./cmd/glassbox
head -n 200 "$texts" > "$tmp/texts.jsonl"
abs=$(cd "$model" && pwd)

gobest=; pybest=
for _ in $(seq "$repeat"); do
	g=$(cd inference && GLASSBOX_BENCH_MODEL="$abs" "$tmp/inference.test" -test.run '^$' -test.bench '^BenchmarkPredictCausal$' -test.benchtime 1x | sed -n 's/.* \([0-9.]*\) s\/200-sentences/\1/p')
	p=$("$py" scripts/bench-predict-causal.py --model "$model" --texts "$tmp/texts.jsonl" --repeat 1 --out "$tmp/py.jsonl" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["best_predict_s"])')
	gobest=$("$py" -c "print(min(x for x in [$g, ${gobest:-$g}]))")
	pybest=$("$py" -c "print(min(x for x in [$p, ${pybest:-$p}]))")
	echo "round: glassbox ${g}s python ${p}s"
done
"$glassbox" predict --model "$model" --input "$tmp/texts.jsonl" > "$tmp/go.jsonl"
"$py" - "$tmp/go.jsonl" "$tmp/py.jsonl" <<'PY'
import json, sys
go = [json.loads(l)["next_tokens"][0]["id"] for l in open(sys.argv[1])]
py = [json.loads(l)["ids"][0] for l in open(sys.argv[2])]
same = sum(a == b for a, b in zip(go, py))
print(f"top-1 next token equal on {same}/{len(py)} sentences")
PY
echo "model $model: predict loop, best of $repeat: glassbox ${gobest}s, onnxruntime python ${pybest}s, ratio $("$py" -c "print(round($gobest/$pybest, 3))")"
