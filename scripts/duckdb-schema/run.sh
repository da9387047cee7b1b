#!/usr/bin/env bash
# Prints how DuckDB reads one file of each Glassbox output kind: the committed
# sample run in schemas/testdata/run (made by scripts/make-schema-sample.sh).
# A manual check of the output contract: tests never need Node. Run from anywhere:
#   scripts/duckdb-schema/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
run="$root/schemas/testdata/run"

(cd "$here" && [ -d node_modules/@duckdb/node-api ] || npm install --no-audit --no-fund >/dev/null)
node "$here/schema.mjs" "$run"/explanations-*.parquet "$run"/errors.parquet "$run"/global_importance.parquet "$run"/attention-*.parquet "$run"/attention_stats-*.parquet "$run"/faithfulness.parquet "$run"/agreement-*.parquet "$run"/agreement_summary.parquet
