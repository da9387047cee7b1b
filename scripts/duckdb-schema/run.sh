#!/usr/bin/env bash
# Writes one sample file of each Glassbox output kind (through parquetsink, as
# the pipeline does) and prints how DuckDB reads them. A manual check of the
# output contract: tests never need Node. Run from anywhere:
#   scripts/duckdb-schema/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$here" && [ -d node_modules/@duckdb/node-api ] || npm install --no-audit --no-fund >/dev/null)
(cd "$root" && GLASSBOX_SAMPLE_DIR="$tmp" go test ./schemas -run '^TestWriteSamples$' -count=1 >/dev/null)
node "$here/schema.mjs" "$tmp"/explanations-*.parquet "$tmp"/errors.parquet "$tmp"/global_importance.parquet "$tmp"/attention-*.parquet
