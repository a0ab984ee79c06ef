#!/usr/bin/env bash
# The parity comparison: what the official Python SDK and this SDK put on the
# wire for the same scenario (scripts/parity/scenario.py), key by key.
#
#   scripts/parity/run.sh                       Python side only, then compare
#                                               with target/parity/rust.jsonl
#                                               if it exists
#   scripts/parity/run.sh --rust 'CMD'          also run the Rust side
#   scripts/parity/run.sh --versions 1.4        one pinned Python version only
#   scripts/parity/run.sh --python-diff         also list 1.3.7 against 1.4
#
# For each pinned version (requirements-<ver>.txt): a venv in
# target/parity/venv-<ver> (rebuilt when the requirements file changes), a
# receiver.py on 127.0.0.1, and the scenario once per case into
# target/parity/python-<ver>.jsonl. Then compare.py for each version against
# target/parity/rust.jsonl; the exit status is non-zero when any comparison
# finds an undeclared difference (or a step fails).
#
# Network: PyPI through pip when a venv is (re)built; everything else stays
# on 127.0.0.1. Every step is bounded by a timeout.
set -euo pipefail
cd "$(dirname "$0")/../.."

HERE=scripts/parity
OUT=target/parity
VERSIONS=(1.3.7 1.4)
CASES=(explicit init-default no-content)
RUST_CMD="${NEATLOGS_PARITY_RUST_CMD:-}"
PYTHON_DIFF=0
PYTHON="${PYTHON:-python3}"

while [ $# -gt 0 ]; do
  case "$1" in
    --rust) RUST_CMD="$2"; shift 2 ;;
    --versions) read -r -a VERSIONS <<<"$2"; shift 2 ;;
    --python-diff) PYTHON_DIFF=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
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
    timeout 900 "$dir/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$req" >&2
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

# stop_receiver: ask it to stop, then wait for it (it stops by itself anyway).
stop_receiver() {
  "$1" - "$RECEIVER_URL/shutdown" <<'EOF' || true
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="POST"), timeout=5).read()
EOF
  wait "$RECEIVER_PID"
}

for ver in "${VERSIONS[@]}"; do
  dir=$(venv "$ver")
  dump="$OUT/python-$ver.jsonl"
  echo "== Python neatlogs $ver -> $dump"
  receive "$dir/bin/python" "$dump"
  for case in "${CASES[@]}"; do
    timeout 180 "$dir/bin/python" "$HERE/scenario.py" --endpoint "$RECEIVER_URL" --case "$case"
  done
  stop_receiver "$dir/bin/python"
done

# ---------------------------------------------------------------------------
# RUST HOOK. The Rust side of the scenario is a command that runs the same
# scenario (see scenario.py's docstring: the same span names, kinds, nesting,
# arguments, return values, messages, usage, identity per case, and
# workflow_name "parity-<case>") with this SDK, exporting OTLP to
# $PARITY_ENDPOINT. It is run once per case with PARITY_CASE set, e.g.
#   --rust 'cargo run -q -p neatlogs --example parity'
# Its spans land in target/parity/rust.jsonl. Without --rust, an existing
# target/parity/rust.jsonl is compared as it is.
# ---------------------------------------------------------------------------
if [ -n "$RUST_CMD" ]; then
  echo "== Rust: $RUST_CMD -> $OUT/rust.jsonl"
  dir=$(venv "${VERSIONS[0]}")
  receive "$dir/bin/python" "$OUT/rust.jsonl"
  for case in "${CASES[@]}"; do
    PARITY_ENDPOINT="$RECEIVER_URL" PARITY_CASE="$case" timeout 600 bash -c "$RUST_CMD"
  done
  stop_receiver "$dir/bin/python"
fi

status=0
if [ "$PYTHON_DIFF" = 1 ] && [ -f "$OUT/python-1.3.7.jsonl" ] && [ -f "$OUT/python-1.4.jsonl" ]; then
  echo "== Python 1.3.7 against 1.4 (information only)"
  "$PYTHON" "$HERE/compare.py" "$OUT/python-1.3.7.jsonl" "$OUT/python-1.4.jsonl" \
    --left-name py1.3.7 --right-name py1.4 --no-values || true
fi
if [ -f "$OUT/rust.jsonl" ]; then
  for ver in "${VERSIONS[@]}"; do
    echo "== compare Python $ver with Rust"
    "$PYTHON" "$HERE/compare.py" "$OUT/python-$ver.jsonl" "$OUT/rust.jsonl" \
      --left-name "python-$ver" --right-name rust || status=1
  done
else
  echo "== no $OUT/rust.jsonl and no --rust command: Python side only"
fi
exit "$status"
