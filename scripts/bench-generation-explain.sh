#!/usr/bin/env bash
# Explaining a generated continuation: Glassbox's per-step occlusion against
# Captum's LLMAttribution(FeatureAblation), same model, prompt and continuation.
#
#   scripts/bench-generation-explain.sh                 # .cache/bench/gpt2-small-random, 32 tokens
#   GLASSBOX_BENCH_GEN_MODEL=DIR GLASSBOX_BENCH_GEN_TOKENS=16 scripts/bench-generation-explain.sh
#
# The model: .cache/pyenv-optimum/bin/python scripts/make_generation_fixtures.py --bench.
# Python: .cache/pyenv-exports (torch, transformers, captum 0.9, onnx).
set -euo pipefail
cd "$(dirname "$0")/.."
export GLASSBOX_BENCH_GEN_MODEL=${GLASSBOX_BENCH_GEN_MODEL:-.cache/bench/gpt2-small-random}
export GLASSBOX_BENCH_GEN_OUT=.cache/bench/generation-case.json
go test ./explainer -run '^$' -bench '^BenchmarkGenerationOcclusion$' -benchtime 1x -v
.cache/pyenv-exports/bin/python scripts/bench_generation_captum.py "$GLASSBOX_BENCH_GEN_MODEL" "$GLASSBOX_BENCH_GEN_OUT"
