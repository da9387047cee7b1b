#!/usr/bin/env bash
# Scaling figure for out-of-process workers: the sample job on its first N rows
# (default 600), in-process (Prism embedded) and through Prism's standalone job
# server with one EXTERNAL worker from `glassbox worker-pool` (files shared:
# --shared_fs). Prints wall time, rows/s and peak memory of the launcher and
# of the worker. ONNX Runtime's intra-op threads are the sample config's (1),
# so Beam's parallel bundles, not ORT threads, use the cores.
#   scripts/bench-portable.sh [N]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
N="${1:-600}"
make -s setup build >/dev/null
mkdir -p .cache/beam
go build -o .cache/beam/prism github.com/apache/beam/sdks/v2/go/cmd/prism
TMP="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done; sleep 1; rm -rf "$TMP"; }
trap cleanup EXIT
head -n "$N" testdata/sample/austen-sentiment.jsonl >"$TMP/in.jsonl"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
JOB=$(port); POOL=$(port)
setsid .cache/beam/prism --job_port "$JOB" --serve_http=false >"$TMP/prism.log" 2>&1 & PIDS+=($!)
(cd "$TMP" && exec setsid "$ROOT/bin/glassbox" worker-pool --host 127.0.0.1 --port "$POOL") >"$TMP/pool.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$JOB") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$POOL") 2>/dev/null && break; sleep 0.2; done

run() { # name, extra flags...
	local name="$1"; shift
	/usr/bin/time -f "%e %M" -o "$TMP/$name.time" bin/glassbox explain --config configs/sample.yaml --input "$TMP/in.jsonl" \
		--output "$TMP/out-$name" --no-report --quiet "$@" >/dev/null 2>"$TMP/$name.err" || { cat "$TMP/$name.err" >&2; exit 1; }
}
run inproc
run external --runner universal --endpoint "127.0.0.1:$JOB" --environment_type EXTERNAL --environment_config "127.0.0.1:$POOL" --shared_fs
sleep 2
for f in "$TMP"/out-inproc/*.parquet; do cmp -s "$f" "$TMP/out-external/$(basename "$f")" || { echo "outputs differ: $(basename "$f")" >&2; exit 1; }; done
worker_mib=$(grep -o 'peak RSS [0-9]* MiB' "$TMP/pool.log" | tail -1 | grep -o '[0-9]*')
printf "%-34s %8s %8s %22s\n" "run ($N rows, $(nproc) cores)" "wall s" "rows/s" "peak RSS MiB"
read -r s kib <"$TMP/inproc.time"
printf "%-34s %8.1f %8.1f %22s\n" "in-process (Prism embedded)" "$s" "$(echo "$N / $s" | bc -l)" "$((kib / 1024)) (launcher+worker)"
read -r s kib <"$TMP/external.time"
printf "%-34s %8.1f %8.1f %22s\n" "1 EXTERNAL worker (job server)" "$s" "$(echo "$N / $s" | bc -l)" "$((kib / 1024)) launcher, ${worker_mib:-?} worker"
echo "outputs byte-identical"
