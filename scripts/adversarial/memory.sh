#!/usr/bin/env bash
# Memory under concurrency: 16 OTLP protobuf requests of ~17 MB (one span with
# 1,000,000 attributes each) sent at once; reports the answers and the
# collector's peak RSS (VmHWM), then retries the refused ones as the SDK
# does (503 + Retry-After) until all are stored.
#
#   scripts/adversarial/memory.sh                   # defaults of `neatlogs serve`
#   scripts/adversarial/memory.sh --ingest-memory 1024
#   CONCURRENCY=4 ATTRIBUTES=200000 scripts/adversarial/memory.sh
#   NEATLOGS_BIN=/path/to/older/neatlogs scripts/adversarial/memory.sh
#
# Extra arguments go to `neatlogs serve`. PROFILE=release builds optimised.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_serve "" "$@"
echo "idle: $(serve_rss)"
status=0
"$LOADGEN" memory --addr "$ADDR" --concurrency "${CONCURRENCY:-16}" \
  --attributes "${ATTRIBUTES:-1000000}" --retry --seconds "${SECONDS_LIMIT:-600}" || status=$?
echo "after: $(serve_rss)"
serve_alive
exit $status
