#!/usr/bin/env bash
# Slow connections: the collector runs under `ulimit -n 1024` while 1,100
# connections send a header byte a second (IDLE=1: nothing at all) for 60 s
# and a normal request is sent every second. Reports when the slow
# connections were closed and how fast the normal requests were answered;
# fails if one was not answered within 5 s or the collector died.
#
#   scripts/adversarial/slowloris.sh
#   IDLE=1 RECONNECT=1 SECONDS_LIMIT=30 scripts/adversarial/slowloris.sh --header-timeout 5
#   NEATLOGS_BIN=/path/to/older/neatlogs scripts/adversarial/slowloris.sh
#
# Extra arguments go to `neatlogs serve`. PROFILE=release builds optimised.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_serve "${NOFILE:-1024}" "$@"
flags=()
[ -n "${IDLE:-}" ] && flags+=(--idle)
[ -n "${RECONNECT:-}" ] && flags+=(--reconnect)
status=0
"$LOADGEN" slowloris --addr "$ADDR" --connections "${CONNECTIONS:-1100}" \
  --seconds "${SECONDS_LIMIT:-60}" "${flags[@]}" || status=$?
serve_alive || status=1
exit $status
