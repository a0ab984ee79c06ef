#!/usr/bin/env bash
# The parity comparison: what the official Python SDK and this SDK put on the
# wire for the same scenario (scripts/parity/scenario.py and
# neatlogs/examples/parity_scenario.rs), key by key.
#
#   scripts/parity/run.sh                 both sides, then compare each pinned
#                                         Python version with Rust
#   scripts/parity/run.sh --rust 'CMD'    the Rust side is CMD (run as
#                                         `CMD --endpoint URL --case CASE`)
#   scripts/parity/run.sh --no-rust       Python side only; compare with an
#                                         existing target/parity/rust.jsonl
#   scripts/parity/run.sh --reuse-python  keep the Python dumps of an earlier
#                                         run when they are newer than the
#                                         scenario and the pins
#   scripts/parity/run.sh --versions 1.4  one pinned Python version only
#   scripts/parity/run.sh --python-diff   also list 1.3.7 against 1.4
#
# For each pinned version (requirements-<ver>.txt): a venv in
# target/parity/venv-<ver> (rebuilt when the requirements file changes), a
# receiver.py on 127.0.0.1, and the scenario once per case into
# target/parity/python-<ver>.jsonl. The Rust side (by default
# `cargo run -q --locked -p neatlogs --example parity_scenario --`, built
# first) runs each case into target/parity/rust.jsonl. Then compare.py for
# each version against it, and a negative control (a Rust dump with one key
# removed must fail the comparison). The exit status is non-zero when any
# comparison finds an undeclared difference (or a step fails); the last
# lines printed are the per-version, per-case summary.
#
# Network: PyPI through pip when a venv is (re)built; everything else stays
# on 127.0.0.1. Every step is bounded by a timeout.
set -euo pipefail
cd "$(dirname "$0")/../.."

HERE=scripts/parity
OUT=target/parity
VERSIONS=(1.3.7 1.4)
CASES=(explicit init-default no-content)
DEFAULT_RUST_CMD="cargo run -q --locked -p neatlogs --example parity_scenario --"
RUST_CMD="${NEATLOGS_PARITY_RUST_CMD:-$DEFAULT_RUST_CMD}"
RUN_RUST=1
REUSE_PYTHON=0
PYTHON_DIFF=0
PYTHON="${PYTHON:-python3}"

while [ $# -gt 0 ]; do
  case "$1" in
    --rust) RUST_CMD="$2"; shift 2 ;;
    --no-rust) RUN_RUST=0; shift ;;
    --reuse-python) REUSE_PYTHON=1; shift ;;
    --versions) read -r -a VERSIONS <<<"$2"; shift 2 ;;
    --python-diff) PYTHON_DIFF=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

mkdir -p "$OUT"

# venv VER: the path of an up-to-date venv for requirements-VER.txt.
venv() {
  local ver="$1" dir="$OUT/venv-$1" req="$HERE/requirements-$1.txt" want have
  [ -f "$req" ] || { echo "run.sh: no $req" >&2; exit 2; }
  want=$(sha256sum "$req" | cut -d' ' -f1)
  have=$(cat "$dir/.requirements.sha256" 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    echo "== venv for neatlogs $ver ($dir)" >&2
    "$PYTHON" -m venv --clear "$dir"
    timeout 900 "$dir/bin/pip" install --quiet --disable-pip-version-check --no-compile --no-deps -r "$req" >&2
    "$dir/bin/pip" check >&2
    echo "$want" >"$dir/.requirements.sha256"
  fi
  echo "$dir"
}

# receive PY OUTFILE: start receiver.py in the background; sets RECEIVER_PID
# and RECEIVER_URL.
receive() {
  local py="$1" out="$2" portfile
  portfile=$(mktemp "$OUT/port.XXXXXX")
  rm -f "$portfile"
  "$py" "$HERE/receiver.py" --out "$out" --port-file "$portfile" --timeout 600 &
  RECEIVER_PID=$!
  for _ in $(seq 100); do
    [ -s "$portfile" ] && break
    kill -0 "$RECEIVER_PID" 2>/dev/null || { echo "run.sh: receiver died" >&2; exit 1; }
    sleep 0.1
  done
  [ -s "$portfile" ] || { echo "run.sh: receiver did not start" >&2; exit 1; }
  RECEIVER_URL="http://127.0.0.1:$(cat "$portfile")"
  rm -f "$portfile"
}

# A receiver left behind by a failed step is stopped on the way out (it
# would stop by itself after its timeout anyway).
RECEIVER_PID=
cleanup() {
  if [ -n "$RECEIVER_PID" ] && kill -0 "$RECEIVER_PID" 2>/dev/null; then
    kill "$RECEIVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# stop_receiver: ask it to stop, then wait for it (it stops by itself anyway).
stop_receiver() {
  "$1" - "$RECEIVER_URL/shutdown" <<'EOF' || true
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="POST"), timeout=5).read()
EOF
  wait "$RECEIVER_PID"
  RECEIVER_PID=
}

# fresh DUMP: whether DUMP is newer than everything the Python side depends on.
fresh() {
  local dump="$1" ver="$2" dep
  [ -s "$dump" ] || return 1
  for dep in "$HERE/scenario.py" "$HERE/receiver.py" "$HERE/requirements-$ver.txt"; do
    [ "$dump" -nt "$dep" ] || return 1
  done
}

started=$SECONDS
for ver in "${VERSIONS[@]}"; do
  dump="$OUT/python-$ver.jsonl"
  if [ "$REUSE_PYTHON" = 1 ] && fresh "$dump" "$ver"; then
    echo "== Python neatlogs $ver: reusing $dump"
    continue
  fi
  dir=$(venv "$ver")
  echo "== Python neatlogs $ver -> $dump"
  rm -f "$dump"
  receive "$dir/bin/python" "$dump"
  for case in "${CASES[@]}"; do
    timeout 180 "$dir/bin/python" "$HERE/scenario.py" --endpoint "$RECEIVER_URL" --case "$case"
  done
  stop_receiver "$dir/bin/python"
done
echo "== Python side done in $((SECONDS - started)) s"

# ---------------------------------------------------------------------------
# The Rust side: a command that runs the same scenario (scenario.py's
# docstring: the same span names, kinds, nesting, arguments, return values,
# messages, usage, identity per case, and workflow_name "parity-<case>")
# with this SDK, run once per case as `CMD --endpoint URL --case CASE` (also
# given as PARITY_ENDPOINT and PARITY_CASE). Its spans land in
# target/parity/rust.jsonl.
# ---------------------------------------------------------------------------
if [ "$RUN_RUST" = 1 ]; then
  started=$SECONDS
  if [ "$RUST_CMD" = "$DEFAULT_RUST_CMD" ]; then
    echo "== building neatlogs/examples/parity_scenario.rs"
    timeout 1800 cargo build -q --locked -p neatlogs --example parity_scenario
  fi
  echo "== Rust: $RUST_CMD -> $OUT/rust.jsonl"
  dir=$(venv "${VERSIONS[0]}")
  rm -f "$OUT/rust.jsonl"
  receive "$dir/bin/python" "$OUT/rust.jsonl"
  for case in "${CASES[@]}"; do
    PARITY_ENDPOINT="$RECEIVER_URL" PARITY_CASE="$case" timeout 600 \
      bash -c "$RUST_CMD --endpoint \"\$PARITY_ENDPOINT\" --case \"\$PARITY_CASE\""
  done
  stop_receiver "$dir/bin/python"
  echo "== Rust side done in $((SECONDS - started)) s"
fi

status=0
if [ "$PYTHON_DIFF" = 1 ] && [ -f "$OUT/python-1.3.7.jsonl" ] && [ -f "$OUT/python-1.4.jsonl" ]; then
  echo "== Python 1.3.7 against 1.4 (information only)"
  "$PYTHON" "$HERE/compare.py" "$OUT/python-1.3.7.jsonl" "$OUT/python-1.4.jsonl" \
    --left-name py1.3.7 --right-name py1.4 --no-values || true
fi
if [ ! -s "$OUT/rust.jsonl" ]; then
  echo "run.sh: no $OUT/rust.jsonl to compare with (run without --no-rust)" >&2
  exit 1
fi
: >"$OUT/summary.txt"
for ver in "${VERSIONS[@]}"; do
  echo "== compare Python $ver with Rust"
  report="$OUT/compare-$ver.txt"
  rc=0
  "$PYTHON" "$HERE/compare.py" "$OUT/python-$ver.jsonl" "$OUT/rust.jsonl" \
    --left-name "python-$ver" --right-name rust >"$report" || rc=$?
  cat "$report"
  grep -E '^summary |undeclared differences' "$report" >>"$OUT/summary.txt" || true
  [ "$rc" = 0 ] || status=1
done

# The negative control: the comparison must catch a key the Rust side stops
# writing (the prompt token count of every LLM span is removed here).
echo "== negative control: a Rust dump without neatlogs.llm.token_count.prompt must fail"
"$PYTHON" - "$OUT/rust.jsonl" "$OUT/rust-control.jsonl" <<'EOF'
import json, sys
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as dst:
    for line in src:
        span = json.loads(line)
        span["attributes"].pop("neatlogs.llm.token_count.prompt", None)
        dst.write(json.dumps(span) + "\n")
EOF
rc=0
"$PYTHON" "$HERE/compare.py" "$OUT/python-${VERSIONS[0]}.jsonl" "$OUT/rust-control.jsonl" \
  --left-name "python-${VERSIONS[0]}" --right-name rust-control --no-values >"$OUT/compare-control.txt" || rc=$?
if [ "$rc" = 1 ] && grep -q 'DIFF .*neatlogs.llm.token_count.prompt' "$OUT/compare-control.txt"; then
  echo "negative control: caught ($(tail -n 1 "$OUT/compare-control.txt"))" | tee -a "$OUT/summary.txt"
else
  echo "negative control: NOT caught (compare.py exit $rc; see $OUT/compare-control.txt)" | tee -a "$OUT/summary.txt"
  status=1
fi

echo "== summary"
cat "$OUT/summary.txt"
exit "$status"
