#!/usr/bin/env bash
# Regenerates testdata/models/bert-tiny (torch.onnx.export dynamo=True with external data,
# plus fused/model_optimized.onnx from ONNX Runtime's transformer optimizer) and its
# reference.json. Needs the torch 2.x environment in .cache/pyenv-exports and optimum-onnx's
# in .cache/pyenv-optimum (both made here).
# See scripts/make_export_fixtures.py.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/pyenv-exports
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-exports.txt
# ONNX Runtime's attention fusion matches transformers < 4.58 graphs: the fused fixture is
# exported from optimum-onnx's environment (it pins transformers<4.58).
OPT=.cache/pyenv-optimum
if [ ! -x "$OPT/bin/python" ]; then
  python3 -m venv "$OPT"
fi
"$OPT/bin/pip" install -q --disable-pip-version-check optimum-onnx==0.1.0 torch==2.15.0 onnxruntime==1.32.0
exec "$VENV/bin/python" scripts/make_export_fixtures.py "$@"
