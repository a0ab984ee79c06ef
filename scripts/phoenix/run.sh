#!/usr/bin/env bash
# The Phoenix check: send neatlogs/examples/backends.rs to a real Arize Phoenix over
# OTLP/HTTP with the OpenInference vocabulary, then read it back through
# Phoenix's own API (scripts/phoenix/check.py).
#
#   scripts/phoenix/run.sh                 Phoenix with authentication on
#   scripts/phoenix/run.sh --no-auth       Phoenix without authentication
#   scripts/phoenix/run.sh --example 'CMD' the sending side is CMD (run with
#                                          bash -c, the OTEL_* and NEATLOGS_*
#                                          variables below in its environment;
#                                          its stdout must be what the example
#                                          prints)
#
# Steps: a venv in target/phoenix/venv from requirements.txt (rebuilt when
# that file changes); the example built; `phoenix serve` on 127.0.0.1 with
# free ports and a fresh working directory (target/phoenix/run), telemetry and
# every outbound fetch of its own turned off; with auth, random
# PHOENIX_SECRET / PHOENIX_ADMIN_SECRET, and a system API key minted with the
# admin secret (never printed) for the SDK to send as
# `Authorization: Bearer <key>`; the example run with
#   NEATLOGS_CONVENTIONS=openinference
#   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:PORT
#   OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20<key>   (with auth)
# its stdout in target/phoenix/run/sent.json; then check.py; Phoenix is
# stopped on the way out. The exit status is non-zero when any step or check
# fails. Phoenix's log is target/phoenix/run/phoenix.log.
#
# Network: PyPI through pip when the venv is (re)built; everything else stays
# on 127.0.0.1 (Phoenix's OTLP/gRPC listener binds every interface on a free
# port: Phoenix has no setting for its address; with auth on it refuses
# unauthenticated calls). Every step is bounded by a timeout.
set -euo pipefail
cd "$(dirname "$0")/../.."

HERE=scripts/phoenix
OUT=target/phoenix
RUN="$OUT/run"
PYTHON="${PYTHON:-python3}"
AUTH=1
DEFAULT_EXAMPLE_CMD="cargo run -q --locked -p neatlogs --example backends"
EXAMPLE_CMD="$DEFAULT_EXAMPLE_CMD"

while [ $# -gt 0 ]; do
  case "$1" in
    --no-auth) AUTH=0; shift ;;
    --example) EXAMPLE_CMD="$2"; shift 2 ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

started=$SECONDS
mkdir -p "$OUT"

# venv: the path of an up-to-date venv for requirements.txt.
venv() {
  local dir="$OUT/venv" req="$HERE/requirements.txt" want have
  want=$(sha256sum "$req" | cut -d' ' -f1)
  have=$(cat "$dir/.requirements.sha256" 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    echo "== venv for Phoenix ($dir)" >&2
    "$PYTHON" -m venv --clear "$dir"
    timeout 900 "$dir/bin/pip" install --quiet --disable-pip-version-check --no-compile --no-deps -r "$req" >&2
    "$dir/bin/pip" check --disable-pip-version-check >&2
    echo "$want" >"$dir/.requirements.sha256"
  fi
  echo "$dir"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# secret PREFIX: 64 random hex digits after PREFIX (Phoenix wants at least 32
# characters with a digit and a lowercase letter; the prefix guarantees both).
secret() {
  "$PYTHON" -c 'import secrets, sys; print(sys.argv[1] + secrets.token_hex(32))' "$1"
}

PHOENIX_PID=
cleanup() {
  if [ -n "$PHOENIX_PID" ] && kill -0 "$PHOENIX_PID" 2>/dev/null; then
    kill "$PHOENIX_PID" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$PHOENIX_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$PHOENIX_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

dir=$(venv)
echo "== venv ready in $((SECONDS - started)) s"

if [ "$EXAMPLE_CMD" = "$DEFAULT_EXAMPLE_CMD" ]; then
  echo "== building neatlogs/examples/backends.rs"
  timeout 1800 cargo build -q --locked -p neatlogs --example backends
fi

rm -rf "$RUN"
mkdir -p "$RUN/phoenix"
PORT=$(free_port)
GRPC_PORT=$(free_port)
while [ "$GRPC_PORT" = "$PORT" ]; do GRPC_PORT=$(free_port); done
URL="http://127.0.0.1:$PORT"

phoenix_env=(
  PHOENIX_WORKING_DIR="$PWD/$RUN/phoenix"
  PHOENIX_HOST=127.0.0.1
  PHOENIX_PORT="$PORT"
  PHOENIX_GRPC_PORT="$GRPC_PORT"
  PHOENIX_TELEMETRY_ENABLED=false
  PHOENIX_ALLOW_EXTERNAL_RESOURCES=false
  PHOENIX_DISABLE_AGENT_ASSISTANT=true
  PHOENIX_ENABLE_MCP_SERVER=false
  PHOENIX_ENABLE_PROMETHEUS=false
)
ADMIN_SECRET=
if [ "$AUTH" = 1 ]; then
  ADMIN_SECRET=$(secret a1)
  phoenix_env+=(
    PHOENIX_ENABLE_AUTH=true
    PHOENIX_SECRET="$(secret s1)"
    PHOENIX_ADMIN_SECRET="$ADMIN_SECRET"
  )
fi

echo "== Phoenix on $URL (OTLP/gRPC on port $GRPC_PORT, auth $([ "$AUTH" = 1 ] && echo on || echo off))"
# Phoenix reads OTEL_* and PHOENIX_* of its own (where to send its own traces,
# a database URL): none of the caller's reach it.
env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 "${phoenix_env[@]}" \
  timeout 900 "$dir/bin/phoenix" serve >"$RUN/phoenix.log" 2>&1 &
PHOENIX_PID=$!
up=0
for _ in $(seq 600); do
  if ! kill -0 "$PHOENIX_PID" 2>/dev/null; then
    echo "run.sh: Phoenix exited during startup; last lines of $RUN/phoenix.log:" >&2
    tail -n 20 "$RUN/phoenix.log" >&2
    exit 1
  fi
  if "$dir/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "$URL/healthz" 2>/dev/null; then
    up=1
    break
  fi
  sleep 0.2
done
[ "$up" = 1 ] || { echo "run.sh: Phoenix did not answer $URL/healthz within 120 s" >&2; exit 1; }
echo "== Phoenix up after $((SECONDS - started)) s"

export NEATLOGS_CONVENTIONS=openinference
export OTEL_EXPORTER_OTLP_ENDPOINT="$URL"
unset NEATLOGS_ENDPOINT NEATLOGS_API_KEY OTEL_EXPORTER_OTLP_HEADERS PHOENIX_CHECK_TOKEN
if [ "$AUTH" = 1 ]; then
  PHOENIX_ADMIN_SECRET="$ADMIN_SECRET" timeout 60 "$dir/bin/python" "$HERE/check.py" mint-key \
    --url "$URL" --out "$RUN/api-key"
  key=$(cat "$RUN/api-key")
  export OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer%20$key"
  export PHOENIX_CHECK_TOKEN="$key"
fi

echo "== sending: $EXAMPLE_CMD"
timeout 600 bash -c "$EXAMPLE_CMD" >"$RUN/sent.json"

echo "== checking what Phoenix stored"
status=0
timeout 180 "$dir/bin/python" "$HERE/check.py" check --url "$URL" --sent "$RUN/sent.json" \
  $([ "$AUTH" = 1 ] && echo --auth) || status=$?
echo "== run.sh done in $((SECONDS - started)) s"
exit "$status"
