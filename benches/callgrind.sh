#!/usr/bin/env bash
# Instruction counts of the neatlogs span hot path, repeatable on a noisy
# machine where wall-clock time is not.
#
# Runs `hotpath` (benches/src/bin/hotpath.rs) under `valgrind --tool=callgrind`
# for N1 and N2 traces of 11 spans and divides the difference by N2 - N1, so
# start-up and shutdown cancel out. Threads are counted separately: the
# caller (the thread that opens the spans: the hot path) and the background
# (the neatlogs-export thread: batching + OTLP protobuf encoding). Also
# counts the spans with tracing off (no `init`).
#
#   bash benches/callgrind.sh            # N1=1000 N2=11000
#   N1=2000 N2=22000 bash benches/callgrind.sh
#   HOTPATH=/tmp/hotpath-2a1a19d bash benches/callgrind.sh   # a binary built
#                                        # elsewhere (another commit); no build
#   NEATLOGS_CONVENTIONS=neatlogs,openinference,genai bash benches/callgrind.sh
#                                        # every vocabulary on the wire
#
# Prints a markdown table and writes <target>/bench-results/callgrind.json.
set -euo pipefail
cd "$(dirname "$0")/.."

N1=${N1:-1000}
N2=${N2:-11000}
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
export CARGO_TARGET_DIR=$TARGET

command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
if [ -n "${HOTPATH:-}" ]; then
  BIN=$HOTPATH
else
  cargo build --release -p neatlogs-bench --bin hotpath >&2
  BIN=$TARGET/release/hotpath
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# Ir of thread 2 (the caller: hotpath spawns it first) and of threads 3 and
# up (export), for one run. Thread 1 (main: static constructors, init,
# shutdown) is left out.
count() { # mode traces
  local base=$OUT/cg.$1.$2
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$base" \
    "$BIN" "$2" "$1" >"$OUT/stdout.$1.$2" 2>"$OUT/valgrind.$1.$2" || {
      cat "$OUT/valgrind.$1.$2" >&2; exit 1; }
  local caller=0 background=0 f ir
  for f in "$base"-*; do
    ir=$(awk '/^summary:/ {print $2}' "$f")
    case "$f" in
      *-01) ;;
      *-02) caller=$ir ;;
      *) background=$((background + ir)) ;;
    esac
  done
  echo "$caller $background"
}

read -r on1_c on1_b < <(count on "$N1")
read -r on2_c on2_b < <(count on "$N2")
read -r off1_c _ < <(count off "$N1")
read -r off2_c _ < <(count off "$N2")
grep -q "dropped=0" "$OUT/stdout.on.$N2" || { echo "spans were dropped: $(cat "$OUT/stdout.on.$N2")" >&2; exit 1; }

python3 - "$N1" "$N2" "$on1_c" "$on1_b" "$on2_c" "$on2_b" "$off1_c" "$off2_c" "$TARGET" <<'PY'
import json, os, sys, time
n1, n2, on1c, on1b, on2c, on2b, off1c, off2c = map(int, sys.argv[1:9])
target = sys.argv[9]
d = n2 - n1
caller = (on2c - on1c) / d
background = (on2b - on1b) / d
off = (off2c - off1c) / d
result = {
    "unix_time": int(time.time()),
    "traces": [n1, n2],
    "caller_ir_per_trace": caller,
    "background_ir_per_trace": background,
    "total_ir_per_trace": caller + background,
    "caller_ir_per_span": caller / 11,
    "disabled_ir_per_span": off / 11,
}
os.makedirs(os.path.join(target, "bench-results"), exist_ok=True)
with open(os.path.join(target, "bench-results", "callgrind.json"), "w") as f:
    json.dump(result, f, indent=2)
print(f"callgrind, neatlogs hot path ({n2} - {n1} traces of 11 spans):\n")
print("| instructions (Ir) | per trace | per span |")
print("|---|---:|---:|")
print(f"| caller thread (open + close 11 spans) | {caller:,.0f} | {caller / 11:,.0f} |")
print(f"| export thread (batching + OTLP protobuf encoding) | {background:,.0f} | {background / 11:,.0f} |")
print(f"| total | {caller + background:,.0f} | {(caller + background) / 11:,.0f} |")
print(f"| tracing off (no init) | {off:,.1f} | {off / 11:,.1f} |")
PY
