# Shared by the adversarial scripts: build the binaries, start `neatlogs
# serve` on a free loopback port in a fresh store, stop it on exit.
# Source it; then call `start_serve [ULIMIT_N] -- [SERVE FLAGS...]`.

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

PROFILE=${PROFILE:-debug}
TARGET=${CARGO_TARGET_DIR:-target}
if [ "$PROFILE" = release ]; then cargo_profile=(--release); else cargo_profile=(); fi
# NEATLOGS_BIN runs another build of the collector (e.g. an older one, to
# compare); the load generator is always this tree's.
if [ -z "${NEATLOGS_BIN:-}" ]; then
  cargo build -q --locked -p neatlogs-cli --bin neatlogs "${cargo_profile[@]}"
  NEATLOGS_BIN=$TARGET/$PROFILE/neatlogs
fi
cargo build -q --locked -p neatlogs-cli --example adversarial "${cargo_profile[@]}"
LOADGEN=$TARGET/$PROFILE/examples/adversarial

WORK=$(mktemp -d)
SERVE_PID=
cleanup() {
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_serve NOFILE [serve flags...]: NOFILE is the descriptor limit of the
# server process ("" keeps the current one). Sets SERVE_PID and ADDR.
start_serve() {
  local nofile=$1
  shift
  (
    if [ -n "$nofile" ]; then ulimit -n "$nofile"; fi
    exec "$NEATLOGS_BIN" serve --listen 127.0.0.1:0 --db "$WORK/neatlogs.db" "$@"
  ) >"$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVE_PID=$!
  for _ in $(seq 100); do
    ADDR=$(sed -n 's#^neatlogs collector listening on http://\([^ ]*\) .*#\1#p' "$WORK/serve.out")
    [ -n "$ADDR" ] && break
    sleep 0.1
  done
  if [ -z "$ADDR" ]; then
    echo "the collector did not start:" >&2
    cat "$WORK/serve.err" >&2
    exit 1
  fi
  echo "collector: $NEATLOGS_BIN (pid $SERVE_PID) on $ADDR, descriptor limit $(awk '/Max open files/ {print $4}' /proc/$SERVE_PID/limits), flags: ${*:-(defaults)}"
}

# Peak and current resident memory of the server, in MiB.
serve_rss() {
  awk '/^VmHWM/ {hwm=$2} /^VmRSS/ {rss=$2} END {printf "peak RSS (VmHWM) %.0f MiB, now %.0f MiB\n", hwm/1024, rss/1024}' "/proc/$SERVE_PID/status"
}

serve_alive() {
  if kill -0 "$SERVE_PID" 2>/dev/null; then
    echo "collector still running, $(ls "/proc/$SERVE_PID/fd" | wc -l) descriptors open"
  else
    echo "collector DIED:"
    tail -5 "$WORK/serve.err"
    return 1
  fi
}
