#!/usr/bin/env bash
# Issue 7's benchmark, every stack in a process of its own, then the report.
#
#   bash benches/run.sh                      # all four stacks + callgrind + report
#   STACKS="neatlogs fastrace" bash benches/run.sh
#   SKIP_CALLGRIND=1 bash benches/run.sh
#   SKIP_E2E=1 bash benches/run.sh           # without the end-to-end runs
#   TRACES=20000 bash benches/run.sh         # shorter end-to-end runs
#   ROUNDS=3 STACKS="neatlogs fastrace" bash benches/run.sh
#                                            # neatlogs, fastrace, neatlogs,
#                                            # fastrace, neatlogs, fastrace
#
# With ROUNDS=n the stacks are run in turn n times over, and each run's
# criterion estimates (and result file) are kept under
# <target>/bench-results/rounds/<round>/, for report.py's round-by-round
# caller cost of neatlogs ÷ fastrace and its median; the main table is the
# last round's. Without ROUNDS, each stack runs once (rounds/ is cleared
# either way, so that the report never mixes in an older run's rounds).
#
# About 5.5-7 minutes on 2 cores once built (each stack 1-1.5 min: 5 criterion
# benchmarks of 1 s warm-up + 3 s measurement, a 3 × 2 s CPU loop, the
# 1-vs-2-thread runs, two memory child processes; the stacks with an LLM row,
# neatlogs and otel_sdk, add one more criterion benchmark and CPU loop). Results: criterion's
# <target>/criterion/, <target>/bench-results/*.json, and the report, printed
# and saved as <target>/bench-results/report.md. Then the end-to-end runs
# (benches/e2e.sh: neatlogs and the OpenTelemetry SDK with their real OTLP/HTTP
# exporters against a local receiver; about 2 minutes at the default 200,000
# traces per run).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${CARGO_TARGET_DIR:-$PWD/target}
export CARGO_TARGET_DIR=$TARGET
STACKS=${STACKS:-neatlogs fastrace otel_sdk tracing_otel}

# Build everything first, so that compiling never overlaps a measurement.
cargo bench -p neatlogs-bench --no-run
if [ -z "${SKIP_E2E:-}" ]; then
  cargo build --release -p neatlogs-bench --bin otlp_receiver --bin e2e_sender
fi

mkdir -p "$TARGET/bench-results"
rm -rf "$TARGET/bench-results/rounds"

bench_stack() { # stack [criterion args]
  local stack=$1
  shift
  rm -f "$TARGET/bench-results/$stack.json"
  cargo bench -p neatlogs-bench --bench "$stack" -- "$@"
}

if [ -z "${ROUNDS:-}" ]; then
  for stack in $STACKS; do
    echo "== $stack" >&2
    bench_stack "$stack" "$@"
  done
else
  case $ROUNDS in
    '' | *[!0-9]* | 0) echo "ROUNDS must be a positive number, not '$ROUNDS'" >&2; exit 1 ;;
  esac
  marker=$(mktemp)
  trap 'rm -f "$marker"' EXIT
  for round in $(seq 1 "$ROUNDS"); do
    for stack in $STACKS; do
      echo "== round $round of $ROUNDS: $stack" >&2
      touch "$marker"
      bench_stack "$stack" "$@"
      # This run's estimates: criterion/<group>/<stack>/new/estimates.json,
      # copied to rounds/<round>/ under the same path.
      keep=$TARGET/bench-results/rounds/$round
      (cd "$TARGET" && find criterion -path "*/$stack/new/estimates.json" -newer "$marker") |
        while read -r f; do
          mkdir -p "$keep/$(dirname "$f")"
          cp "$TARGET/$f" "$keep/$f"
        done
      if [ -f "$TARGET/bench-results/$stack.json" ]; then
        cp "$TARGET/bench-results/$stack.json" "$keep/$stack.json"
      fi
    done
  done
fi

# A trace the sampler drops, and an LLM call in one (its usage still
# counted), against the disabled path and the OpenTelemetry SDK's
# `TraceIdRatioBased` dropping the same.
if [ -z "${SKIP_SAMPLED_OUT:-}" ]; then
  echo "== sampled_out" >&2
  cargo bench -p neatlogs-bench --bench sampled_out -- "$@"
fi

if [ -z "${SKIP_CALLGRIND:-}" ]; then
  if command -v valgrind >/dev/null; then
    bash benches/callgrind.sh
  else
    echo "valgrind not found: skipping the instruction count" >&2
  fi
fi

if [ -z "${SKIP_E2E:-}" ]; then
  bash benches/e2e.sh
fi

python3 benches/report.py --target-dir "$TARGET" | tee "$TARGET/bench-results/report.md"
