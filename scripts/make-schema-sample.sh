#!/usr/bin/env bash
# Regenerates schemas/testdata/run: a small real run of every output kind
# (explanations, errors, global importances, attention matrices and statistics)
# that schemas' Example reads and scripts/duckdb-schema checks against DuckDB.
#   scripts/make-schema-sample.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build >/dev/null
out=schemas/testdata/run
rm -rf "$out"
cfg="$(mktemp)"
trap 'rm -f "$cfg"' EXIT
printf 'shards: 1\nmethods: {occlusion: {}, kernelshap: {}, attention: {}}\nattention_matrices: {first_n: 1}\n' >"$cfg"
bin/glassbox explain --config "$cfg" --model testdata/models/distilbert-sentiment \
  --input schemas/testdata/texts.jsonl --output "$out" --quiet --no-report >/dev/null
rm -rf "$out/.glassbox-cache"
