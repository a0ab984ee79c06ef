#!/usr/bin/env bash
# Instruction counts of the span hot path of neatlogs and of fastrace,
# repeatable on a noisy machine where wall-clock time is not.
#
# Runs `hotpath` (benches/src/bin/hotpath.rs, neatlogs) and then
# `hotpath_fastrace` (benches/src/bin/hotpath_fastrace.rs, the fastrace stack
# of the criterion benchmark) under `valgrind --tool=callgrind` for N1 and N2
# traces of 11 spans and divides the difference by N2 - N1, so start-up and
# shutdown cancel out. Threads are counted separately: the caller (thread 2,
# the thread that opens the spans: the hot path) and the background (every
# thread but 1 and 2: for neatlogs the neatlogs-export thread, batching +
# OTLP protobuf encoding; for fastrace its collector thread and the threads
# `fastrace::flush` spawns, assembling the span records for its no-op
# reporter). Also counts the spans with tracing off (no `init`; for
# fastrace, no reporter).
#
#   bash benches/callgrind.sh            # N1=1000 N2=11000
#   N1=2000 N2=22000 bash benches/callgrind.sh
#   HOTPATH=/tmp/hotpath-2a1a19d bash benches/callgrind.sh   # a binary built
#                                        # elsewhere (another commit); no build
#   HOTPATH_FASTRACE=/tmp/hotpath_fastrace bash benches/callgrind.sh   # same
#   SKIP_FASTRACE=1 bash benches/callgrind.sh   # neatlogs only
#   NEATLOGS_CONVENTIONS=neatlogs,openinference,genai bash benches/callgrind.sh
#                                        # every vocabulary on the wire
#
# Prints a markdown table (report.py's) and writes
# <target>/bench-results/callgrind.json: neatlogs' figures at the top level,
# fastrace's under "fastrace".
set -euo pipefail
cd "$(dirname "$0")/.."

N1=${N1:-1000}
N2=${N2:-11000}
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
export CARGO_TARGET_DIR=$TARGET

command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
build=()
if [ -n "${HOTPATH:-}" ]; then
  BIN=$HOTPATH
else
  build+=(--bin hotpath)
  BIN=$TARGET/release/hotpath
fi
FASTRACE_BIN=
if [ -z "${SKIP_FASTRACE:-}" ]; then
  if [ -n "${HOTPATH_FASTRACE:-}" ]; then
    FASTRACE_BIN=$HOTPATH_FASTRACE
  else
    build+=(--bin hotpath_fastrace)
    FASTRACE_BIN=$TARGET/release/hotpath_fastrace
  fi
fi
if [ ${#build[@]} -gt 0 ]; then
  cargo build --release -p neatlogs-bench "${build[@]}" >&2
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# Ir of thread 2 (the caller: both binaries spawn it first) and of threads 3
# and up (background), for one run. Thread 1 (main: static constructors,
# init, flushes' hand-over, shutdown) is left out.
count() { # binary name mode traces
  local bin=$1 name=$2 mode=$3 traces=$4
  local run=$name.$mode.$traces
  local base=$OUT/cg.$run
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$base" \
    "$bin" "$traces" "$mode" >"$OUT/stdout.$run" 2>"$OUT/valgrind.$run" || {
      cat "$OUT/valgrind.$run" >&2; exit 1; }
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

echo "callgrind: neatlogs (hotpath) ..." >&2
read -r on1_c on1_b < <(count "$BIN" neatlogs on "$N1")
read -r on2_c on2_b < <(count "$BIN" neatlogs on "$N2")
read -r off1_c _ < <(count "$BIN" neatlogs off "$N1")
read -r off2_c _ < <(count "$BIN" neatlogs off "$N2")
grep -q "dropped=0" "$OUT/stdout.neatlogs.on.$N2" || {
  echo "neatlogs dropped spans: $(cat "$OUT/stdout.neatlogs.on.$N2")" >&2; exit 1; }
fastrace=(- - - - - -)
if [ -n "$FASTRACE_BIN" ]; then
  echo "callgrind: fastrace (hotpath_fastrace) ..." >&2
  read -r fon1_c fon1_b < <(count "$FASTRACE_BIN" fastrace on "$N1")
  read -r fon2_c fon2_b < <(count "$FASTRACE_BIN" fastrace on "$N2")
  read -r foff1_c _ < <(count "$FASTRACE_BIN" fastrace off "$N1")
  read -r foff2_c _ < <(count "$FASTRACE_BIN" fastrace off "$N2")
  for n in "$N1" "$N2"; do
    grep -q " lost=0" "$OUT/stdout.fastrace.on.$n" || {
      echo "fastrace lost spans: $(cat "$OUT/stdout.fastrace.on.$n")" >&2; exit 1; }
  done
  fastrace=("$fon1_c" "$fon1_b" "$fon2_c" "$fon2_b" "$foff1_c" "$foff2_c")
fi

python3 - "$N1" "$N2" "$on1_c" "$on1_b" "$on2_c" "$on2_b" "$off1_c" "$off2_c" "${fastrace[@]}" "$TARGET" <<'PY'
import json, os, sys, time
sys.path.insert(0, "benches")
import report

n1, n2 = int(sys.argv[1]), int(sys.argv[2])
target = sys.argv[15]
d = n2 - n1


def figures(on1c, on1b, on2c, on2b, off1c, off2c):
    caller = (int(on2c) - int(on1c)) / d
    background = (int(on2b) - int(on1b)) / d
    off = (int(off2c) - int(off1c)) / d
    return {
        "caller_ir_per_trace": caller,
        "background_ir_per_trace": background,
        "total_ir_per_trace": caller + background,
        "caller_ir_per_span": caller / 11,
        "disabled_ir_per_span": off / 11,
    }


result = {"unix_time": int(time.time()), "traces": [n1, n2]}
result.update(figures(*sys.argv[3:9]))
if sys.argv[9] != "-":
    fastrace = figures(*sys.argv[9:15])
    result["fastrace"] = fastrace
    result["neatlogs_caller_over_fastrace_caller"] = result["caller_ir_per_trace"] / fastrace["caller_ir_per_trace"]
os.makedirs(os.path.join(target, "bench-results"), exist_ok=True)
with open(os.path.join(target, "bench-results", "callgrind.json"), "w") as f:
    json.dump(result, f, indent=2)
print(report.callgrind_text(result))
PY
