#!/usr/bin/env bash
# The fast adversarial checks, run by scripts/test.sh (about 30 s):
#  - memory: 8 concurrent OTLP requests of ~3.4 MB (200,000 attributes each)
#    against a 128 MiB ingest budget; the refused ones are retried after
#    Retry-After until all are stored; the collector's peak RSS must stay
#    under 256 MiB (the budget, plus what the collector needs idle and the
#    allocator's slack; without the budget, the same load peaked at 390 MiB).
#  - slowloris: the collector under `ulimit -n 1024` with a 2 s header
#    timeout; 1,100 connections trickle header bytes for 8 s while a normal
#    request is sent every second; every one must be answered within 5 s.
# The full-size runs are memory.sh and slowloris.sh (docs/hardening.md).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

echo "== memory budget"
start_serve "" --ingest-memory 128
"$LOADGEN" memory --addr "$ADDR" --concurrency 8 --attributes 200000 --retry --seconds 120
peak_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVE_PID/status")
echo "$(serve_rss)"
serve_alive
if [ "$peak_kib" -gt $((256 * 1024)) ]; then
  echo "FAIL: peak RSS $((peak_kib / 1024)) MiB is over 256 MiB" >&2
  exit 1
fi
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true

echo "== slow connections"
start_serve 1024 --header-timeout 2
"$LOADGEN" slowloris --addr "$ADDR" --connections 1100 --seconds 8 --probe-timeout 5
serve_alive
