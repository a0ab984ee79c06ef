#!/usr/bin/env bash
# End to end: neatlogs and the OpenTelemetry SDK, each with its real OTLP/HTTP
# exporter, in a process of its own, sending request traces to a receiver in
# another process on 127.0.0.1 (benches/src/bin/otlp_receiver.rs) that decodes
# and counts every request.
#
#   bash benches/e2e.sh                  # 200,000 traces per run
#   TRACES=20000 bash benches/e2e.sh     # a quick run
#   RATE=5000 MODES=paced bash benches/e2e.sh
#   RUNS="neatlogs:gzip otel_sdk:gzip" MODES=full bash benches/e2e.sh
#   RUNS="neatlogs:gzip neatlogs:zstd neatlogs:none otel_sdk:none" bash benches/e2e.sh
#
# Runs, one after the other against one receiver, every
#   stack x mode x compression:  neatlogs with gzip (its default),
#   otel_sdk without compression, otel_sdk with gzip; each paced (RATE traces/s,
#   default settings) and at full speed (queues that hold the whole run).
# RUNS may also name neatlogs:none and neatlogs:zstd (Compression::None and
# Compression::Zstd; the bench crate builds neatlogs with its `zstd` feature).
# A paced run takes TRACES / RATE seconds (20 s by default). Results:
# <target>/bench-results/e2e-<stack>-<compression>-<mode>.json (the sender's
# JSON, see benches/src/e2e/mod.rs) and e2e-receiver.json (the receiver's final
# counts); `python3 benches/report.py` prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${CARGO_TARGET_DIR:-$PWD/target}
export CARGO_TARGET_DIR=$TARGET
TRACES=${TRACES:-200000}
RATE=${RATE:-10000}
MODES=${MODES:-paced full}
RUNS=${RUNS:-neatlogs:gzip otel_sdk:none otel_sdk:gzip}

cargo build --release -p neatlogs-bench --bin otlp_receiver --bin e2e_sender >&2
BIN=$TARGET/release
OUT=$TARGET/bench-results
mkdir -p "$OUT"

# The OpenTelemetry exporter reads these; a run must not depend on the shell.
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT \
  OTEL_EXPORTER_OTLP_COMPRESSION OTEL_EXPORTER_OTLP_TRACES_COMPRESSION \
  OTEL_EXPORTER_OTLP_PROTOCOL OTEL_EXPORTER_OTLP_TRACES_PROTOCOL \
  OTEL_EXPORTER_OTLP_HEADERS OTEL_EXPORTER_OTLP_TRACES_HEADERS \
  OTEL_EXPORTER_OTLP_TIMEOUT OTEL_EXPORTER_OTLP_TRACES_TIMEOUT \
  OTEL_BSP_MAX_QUEUE_SIZE OTEL_BSP_MAX_EXPORT_BATCH_SIZE OTEL_BSP_SCHEDULE_DELAY \
  OTEL_BSP_EXPORT_TIMEOUT OTEL_SERVICE_NAME OTEL_RESOURCE_ATTRIBUTES \
  NEATLOGS_API_KEY NEATLOGS_ENDPOINT NEATLOGS_PROTOCOL NEATLOGS_DISABLE_EXPORT NEATLOGS_FILE

WORK=$(mktemp -d)
RECEIVER_PID=
stop_receiver() {
  if [ -n "$RECEIVER_PID" ]; then
    kill -TERM "$RECEIVER_PID" 2>/dev/null || true
    wait "$RECEIVER_PID" 2>/dev/null || true
    RECEIVER_PID=
  fi
}
trap 'stop_receiver; rm -rf "$WORK"' EXIT

"$BIN/otlp_receiver" --listen 127.0.0.1:0 --addr-file "$WORK/addr" >"$WORK/receiver.json" &
RECEIVER_PID=$!
for _ in $(seq 100); do
  [ -s "$WORK/addr" ] && break
  kill -0 "$RECEIVER_PID" 2>/dev/null || { echo "the receiver exited" >&2; exit 1; }
  sleep 0.1
done
[ -s "$WORK/addr" ] || { echo "the receiver did not start within 10 s" >&2; exit 1; }
ADDR=$(cat "$WORK/addr")

for mode in $MODES; do
  for run in $RUNS; do
    stack=${run%%:*} compression=${run#*:}
    name=e2e-$stack-$compression-$mode
    echo "== $name ($TRACES traces)" >&2
    rm -f "$OUT/$name.json"
    "$BIN/e2e_sender" --stack "$stack" --mode "$mode" --compression "$compression" \
      --receiver "$ADDR" --traces "$TRACES" --rate "$RATE" >"$WORK/$name.json"
    mv "$WORK/$name.json" "$OUT/$name.json"
  done
done

stop_receiver
cp "$WORK/receiver.json" "$OUT/e2e-receiver.json"
echo "results: $OUT/e2e-*.json" >&2
